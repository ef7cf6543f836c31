// Package bench is the performance suite of issue 7: five workloads (W1–W5)
// run on the embedded local service, in process, with the durable API
// counted at the client the SDK is handed.
//
// Each workload is a durable handler (middleware.Wrap around
// adapters.Handler) registered on a fresh local.Service with a
// local.VirtualClock, so waits and retry delays take no wall time. The
// handler is given a [CountingAPI] around the service's in-process client:
// it counts CheckpointDurableExecution and GetDurableExecutionState calls
// and the updates they carry, and can add a fixed latency to every call.
//
// [Run] measures one workload variant: it repeats the execution (a new
// service each time, created outside the timed region), times Start to
// terminal status in wall and process CPU time, and reports the medians
// together with the counters (checkpoint calls of every run, the rest of the
// last run), the heap allocations of a run (runtime.MemStats deltas, which
// include the service's own work since it runs in the same process) and the
// process's peak RSS (VmHWM). For W4 it also times the replay window: from
// the start of the last invocation to its first step body. [RunIsolated] runs
// a variant in a fresh child process so that the peak RSS is its own. The
// benchmarks in this package and the commands durable-bench and compare are
// built on these; see README.md.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
	"github.com/durablectx/durable/local"
	"github.com/durablectx/durable/middleware"
)

// CountingAPI wraps a checkpointer.API (the local service's in-process
// client) to count what the SDK sends, and optionally to add a fixed
// latency to every call, as a network round trip would.
type CountingAPI struct {
	Inner   checkpointer.API
	Latency time.Duration // slept before each call is forwarded

	calls, updates, getState atomic.Int64
	mu                       sync.Mutex
	byAction                 map[string]int
}

// NewCountingAPI returns a CountingAPI around inner.
func NewCountingAPI(inner checkpointer.API, latency time.Duration) *CountingAPI {
	return &CountingAPI{Inner: inner, Latency: latency, byAction: map[string]int{}}
}

// CheckpointDurableExecution counts the call and its updates, then forwards it.
func (c *CountingAPI) CheckpointDurableExecution(ctx context.Context, in *lambdaapi.CheckpointDurableExecutionInput, opts ...func(*lambdaapi.Options)) (*lambdaapi.CheckpointDurableExecutionOutput, error) {
	c.calls.Add(1)
	c.updates.Add(int64(len(in.Updates)))
	c.mu.Lock()
	for _, u := range in.Updates {
		c.byAction[string(u.Type)+":"+string(u.Action)]++
	}
	c.mu.Unlock()
	if c.Latency > 0 {
		time.Sleep(c.Latency)
	}
	return c.Inner.CheckpointDurableExecution(ctx, in, opts...)
}

// GetDurableExecutionState counts the call, then forwards it.
func (c *CountingAPI) GetDurableExecutionState(ctx context.Context, in *lambdaapi.GetDurableExecutionStateInput, opts ...func(*lambdaapi.Options)) (*lambdaapi.GetDurableExecutionStateOutput, error) {
	c.getState.Add(1)
	if c.Latency > 0 {
		time.Sleep(c.Latency)
	}
	return c.Inner.GetDurableExecutionState(ctx, in, opts...)
}

// Calls returns the CheckpointDurableExecution calls so far.
func (c *CountingAPI) Calls() int { return int(c.calls.Load()) }

// Updates returns the operation updates those calls carried.
func (c *CountingAPI) Updates() int { return int(c.updates.Load()) }

// GetStateCalls returns the GetDurableExecutionState calls so far.
func (c *CountingAPI) GetStateCalls() int { return int(c.getState.Load()) }

// UpdatesByAction returns the updates by "TYPE:ACTION".
func (c *CountingAPI) UpdatesByAction() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int, len(c.byAction))
	for k, v := range c.byAction {
		m[k] = v
	}
	return m
}

// probe follows the invocations of one execution: the handler wrapper and
// the step bodies report to it. Invocations of one execution never overlap.
type probe struct {
	mu        sync.Mutex
	invStart  []time.Time
	invDur    []time.Duration
	firstBody []time.Duration // per invocation; -1 when no step body ran
	gcBody    []uint64        // per invocation: GC cycles from its start to its first step body
	cpuBody   []time.Duration // per invocation: process CPU time from its start to its first step body
	enter     []time.Duration // per invocation: time from its start until the user function runs; -1 before
	bodies    int
}

// gcCycles returns the garbage collections completed so far (cheaply, without
// stopping the world as runtime.ReadMemStats does).
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func newProbe() *probe { return &probe{} }

// wrap counts the invocations of h and times them.
func (p *probe) wrap(h lambda.Handler) lambda.Handler {
	return handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		gc := gcCycles()
		cpu := cpuTime()
		t0 := time.Now()
		p.mu.Lock()
		p.invStart = append(p.invStart, t0)
		p.firstBody = append(p.firstBody, -1)
		p.gcBody = append(p.gcBody, gc)
		p.cpuBody = append(p.cpuBody, cpu)
		p.enter = append(p.enter, -1)
		p.mu.Unlock()
		out, err := h.Invoke(ctx, payload)
		d := time.Since(t0)
		p.mu.Lock()
		p.invDur = append(p.invDur, d)
		p.mu.Unlock()
		return out, err
	})
}

// entered is called at the top of the user function: the middleware has
// decoded the envelope and built the execution state.
func (p *probe) entered() {
	now := time.Now()
	p.mu.Lock()
	if k := len(p.enter) - 1; k >= 0 && p.enter[k] < 0 {
		p.enter[k] = now.Sub(p.invStart[k])
	}
	p.mu.Unlock()
}

// body is called at the top of every step body.
func (p *probe) body() {
	now := time.Now()
	cpu := cpuTime()
	p.mu.Lock()
	p.bodies++
	if k := len(p.firstBody) - 1; k >= 0 && p.firstBody[k] < 0 {
		p.firstBody[k] = now.Sub(p.invStart[k])
		p.gcBody[k] = gcCycles() - p.gcBody[k]
		p.cpuBody[k] = cpu - p.cpuBody[k]
	}
	p.mu.Unlock()
}

type handlerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f handlerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// Config selects a variant of a workload.
type Config struct {
	// Mode is the checkpoint mode of the middleware.
	Mode checkpointer.Mode
	// Latency is added to every API call (CountingAPI.Latency).
	Latency time.Duration
	// N is the number of steps of W1 and W4.
	N int
	// Linger is the middleware's WithLinger; 0 keeps the SDK default (5 ms).
	Linger time.Duration
}

// Counts are what one execution of a workload did.
type Counts struct {
	Invocations       int            `json:"invocations"`
	CheckpointCalls   int            `json:"checkpoint_calls"`
	CheckpointUpdates int            `json:"checkpoint_updates"`
	GetStateCalls     int            `json:"get_state_calls"`
	StepBodies        int            `json:"step_bodies"`
	Operations        int            `json:"operations"`
	OpsByType         map[string]int `json:"ops_by_type"`
	UpdatesByAction   map[string]int `json:"updates_by_action"`
}

// Sample is one timed execution.
type Sample struct {
	Counts
	Wall       time.Duration
	Invocation []time.Duration // wall time of each invocation, in the handler wrapper
	FirstBody  []time.Duration // per invocation: time to the first step body that ran in it (-1: none)
	FirstGC    []uint64        // per invocation: GC cycles completed before that first step body
	FirstCPU   []time.Duration // per invocation: process CPU time until that first step body
	Enter      []time.Duration // per invocation: time until the user function ran (envelope decoded, state built)
	CPU        time.Duration   // process CPU time of the run (all threads)
	Mallocs    uint64
	AllocBytes uint64
	GCCycles   uint32 // garbage collections completed during the run
	Status     types.ExecutionStatus
}

// Execute runs one execution of w with cfg on a fresh service and returns
// the sample. Service creation and shutdown are outside the timed region,
// as are the reads of the final state.
func Execute(ctx context.Context, w *Workload, cfg Config) (*Sample, error) {
	e, err := newEnv(w, cfg)
	if err != nil {
		return nil, err
	}
	defer e.close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	arn, out, wall, err := e.run(ctx)
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	if err != nil {
		return nil, err
	}
	s, err := e.sample(ctx, arn, out)
	if s != nil {
		s.Wall = wall
		s.CPU = cpu
		s.Mallocs = after.Mallocs - before.Mallocs
		s.AllocBytes = after.TotalAlloc - before.TotalAlloc
		s.GCCycles = after.NumGC - before.NumGC
	}
	return s, err
}

// env is a fresh service with a workload's handler registered on it, behind
// a CountingAPI.
type env struct {
	w   *Workload
	svc *local.Service
	api *CountingAPI
	p   *probe
}

func newEnv(w *Workload, cfg Config) (*env, error) {
	clock := local.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	svc, err := local.New(local.WithClock(clock))
	if err != nil {
		return nil, err
	}
	e := &env{w: w, svc: svc, api: NewCountingAPI(svc.API(), cfg.Latency), p: newProbe()}
	opts := []middleware.Option{middleware.WithAPI(e.api), middleware.WithCheckpointMode(cfg.Mode)}
	if cfg.Linger != 0 {
		opts = append(opts, middleware.WithLinger(cfg.Linger))
	}
	h := middleware.Wrap(w.handler(cfg, e.p), opts...)
	svc.Register("bench", e.p.wrap(h))
	return e, nil
}

func (e *env) close() { e.svc.Close() }

// run starts one execution and drives it to its end, moving the virtual
// clock whenever the service is idle: the timed region.
func (e *env) run(ctx context.Context) (string, *lambdaapi.GetDurableExecutionOutput, time.Duration, error) {
	t0 := time.Now()
	arn, err := e.svc.Start(ctx, "bench", []byte(`{}`))
	if err != nil {
		return "", nil, 0, err
	}
	out, err := e.svc.RunUntilTerminal(ctx, arn)
	return arn, out, time.Since(t0), err
}

// sample collects the counters of the finished execution arn.
func (e *env) sample(ctx context.Context, arn string, out *lambdaapi.GetDurableExecutionOutput) (*Sample, error) {
	s := &Sample{Status: out.Status}
	if out.Status != types.ExecutionStatusSucceeded {
		msg := ""
		if out.Error != nil && out.Error.ErrorMessage != nil {
			msg = *out.Error.ErrorMessage
		}
		return s, fmt.Errorf("bench: %s ended %s: %s", e.w.Name, out.Status, msg)
	}
	p := e.p
	p.mu.Lock()
	s.Invocation = slices.Clone(p.invDur)
	s.FirstBody = slices.Clone(p.firstBody)
	s.FirstGC = slices.Clone(p.gcBody)
	s.FirstCPU = slices.Clone(p.cpuBody)
	s.Enter = slices.Clone(p.enter)
	s.Counts = Counts{Invocations: len(p.invStart), StepBodies: p.bodies}
	p.mu.Unlock()
	s.CheckpointCalls = e.api.Calls()
	s.CheckpointUpdates = e.api.Updates()
	s.GetStateCalls = e.api.GetStateCalls()
	s.UpdatesByAction = e.api.UpdatesByAction()
	var err error
	s.OpsByType, err = operations(ctx, e.svc.API(), arn)
	if err != nil {
		return s, err
	}
	for _, n := range s.OpsByType {
		s.Operations += n
	}
	return s, nil
}

// operations counts the operations of the finished execution arn, by
// "TYPE:SubType", from its history: every operation the SDK created has
// events with its Id. The EXECUTION operation is left out, as the
// TypeScript runner's getOperations() leaves it out.
func operations(ctx context.Context, api *local.Client, arn string) (map[string]int, error) {
	seen := map[string]bool{}
	byType := map[string]int{}
	var marker *string
	for {
		page, err := api.GetDurableExecutionHistory(ctx, &lambdaapi.GetDurableExecutionHistoryInput{
			DurableExecutionArn: &arn, Marker: marker, MaxItems: 1000,
		})
		if err != nil {
			return nil, err
		}
		for _, ev := range page.Events {
			if ev.Id == nil || seen[*ev.Id] || strings.HasPrefix(string(ev.EventType), "Execution") ||
				strings.HasPrefix(string(ev.EventType), "Invocation") {
				continue
			}
			seen[*ev.Id] = true
			byType[opType(ev.EventType)+":"+deref(ev.SubType)]++
		}
		if page.NextMarker == nil || *page.NextMarker == "" {
			return byType, nil
		}
		marker = page.NextMarker
	}
}

// opType maps an event type (StepStarted, WaitSucceeded, ContextStarted...)
// to its operation type.
func opType(t types.EventType) string {
	s := string(t)
	for _, p := range []string{"ChainedInvoke", "Callback", "Context", "Step", "Wait"} {
		if strings.HasPrefix(s, p) {
			return strings.ToUpper(p)
		}
	}
	return s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Result is the measurement of one workload variant: the JSON line of the
// durable-bench command.
type Result struct {
	Label     string `json:"label"`
	Workload  string `json:"workload"`
	Mode      string `json:"mode"`
	N         int    `json:"n,omitempty"`
	LatencyMS int    `json:"latency_ms,omitempty"`
	Runs      int    `json:"runs"`
	Warmup    int    `json:"warmup"`
	// Wall time from Start to terminal status, milliseconds.
	MedianMS float64   `json:"median_ms"`
	MinMS    float64   `json:"min_ms"`
	MaxMS    float64   `json:"max_ms"`
	AllMS    []float64 `json:"all_ms"`
	// CPUMS is the median process CPU time of a run (user+system, all
	// threads: SDK, service, GC), which other processes' load does not
	// inflate as it does wall time.
	CPUMS float64 `json:"cpu_ms"`
	// PerStepUS is MedianMS/N for W1, in microseconds; PerStepCPUUS is
	// CPUMS/N.
	PerStepUS    float64 `json:"per_step_us,omitempty"`
	PerStepCPUUS float64 `json:"per_step_cpu_us,omitempty"`
	// InvocationMS is the median wall time of each invocation, in the
	// handler wrapper (envelope decoding and the final flush included).
	InvocationMS []float64 `json:"invocation_ms"`
	// HandlerMS is the median of the sum of InvocationMS.
	HandlerMS float64 `json:"handler_ms"`
	// ReplayMS (W4) is the median time from the start of the last
	// invocation to its first step body: replaying the N recorded steps
	// and the wait. ReplayPerStepUS is ReplayMS/N.
	ReplayMS        float64 `json:"replay_ms,omitempty"`
	ReplayPerStepUS float64 `json:"replay_per_step_us,omitempty"`
	// ReplaySetupMS is the part of ReplayMS before the user function ran:
	// the middleware decoding the envelope (JSON) and building the
	// execution state. The rest is the replay of the operations themselves.
	ReplaySetupMS float64 `json:"replay_setup_ms,omitempty"`
	// ReplayCPUMS is the median process CPU time of that window;
	// ReplayCPUPerStepUS is ReplayCPUMS/N.
	ReplayCPUMS        float64 `json:"replay_cpu_ms,omitempty"`
	ReplayCPUPerStepUS float64 `json:"replay_cpu_per_step_us,omitempty"`
	// ReplayGCCycles is the median number of garbage collections that
	// completed inside that replay window.
	ReplayGCCycles float64 `json:"replay_gc_cycles"`
	Counts
	// UnstableCounts names the counters that differed between measured
	// runs; CallsPerRun has the checkpoint calls of each measured run.
	UnstableCounts []string `json:"unstable_counts,omitempty"`
	CallsPerRun    []int    `json:"calls_per_run"`
	// Mallocs and AllocBytes are the median heap allocations of a run
	// (runtime.MemStats deltas: the SDK and the in-process service).
	Mallocs    uint64 `json:"mallocs"`
	AllocBytes uint64 `json:"alloc_bytes"`
	// GCCycles is the median number of garbage collections in a run.
	GCCycles float64 `json:"gc_cycles"`
	// PeakRSSMB is the process's VmHWM after the runs, in MiB; meaningful
	// when the workload ran alone in its process (RunIsolated).
	PeakRSSMB float64 `json:"peak_rss_mb"`
	GoVersion string  `json:"go"`
	Error     string  `json:"error,omitempty"`
}

// Run measures the variant v: warmup executions, then runs timed ones.
func Run(ctx context.Context, v Variant, runs, warmup int) (*Result, error) {
	if runs < 1 {
		runs = 1
	}
	r := &Result{Label: v.Label, Workload: v.Workload.Name, Mode: v.Config.Mode.String(), N: v.Config.N,
		LatencyMS: int(v.Config.Latency / time.Millisecond), Runs: runs, Warmup: warmup, GoVersion: runtime.Version()}
	var samples []*Sample
	for i := 0; i < warmup+runs; i++ {
		s, err := Execute(ctx, v.Workload, v.Config)
		if err != nil {
			r.Error = err.Error()
			return r, err
		}
		if i >= warmup {
			samples = append(samples, s)
		}
	}
	wall := make([]float64, len(samples))
	for i, s := range samples {
		wall[i] = ms(s.Wall)
	}
	r.AllMS = wall
	r.MedianMS = median(wall)
	r.MinMS = slices.Min(wall)
	r.MaxMS = slices.Max(wall)
	last := samples[len(samples)-1]
	r.Counts = last.Counts
	for _, s := range samples {
		for _, c := range []struct {
			name string
			a, b int
		}{
			{"invocations", s.Invocations, last.Invocations},
			{"checkpoint_calls", s.CheckpointCalls, last.CheckpointCalls},
			{"checkpoint_updates", s.CheckpointUpdates, last.CheckpointUpdates},
			{"get_state_calls", s.GetStateCalls, last.GetStateCalls},
			{"operations", s.Operations, last.Operations},
			{"step_bodies", s.StepBodies, last.StepBodies},
		} {
			if c.a != c.b && !slices.Contains(r.UnstableCounts, c.name) {
				r.UnstableCounts = append(r.UnstableCounts, c.name)
			}
		}
	}
	for k := range last.Invocation {
		var xs []float64
		for _, s := range samples {
			if k < len(s.Invocation) {
				xs = append(xs, ms(s.Invocation[k]))
			}
		}
		r.InvocationMS = append(r.InvocationMS, round(median(xs)))
	}
	var hs, replay, replayGC, replayCPU, replaySetup, cpus []float64
	var mallocs, bytes, gcs []float64
	for _, s := range samples {
		r.CallsPerRun = append(r.CallsPerRun, s.CheckpointCalls)
		gcs = append(gcs, float64(s.GCCycles))
		var h time.Duration
		for _, d := range s.Invocation {
			h += d
		}
		hs = append(hs, ms(h))
		if n := len(s.FirstBody); n > 1 && s.FirstBody[n-1] >= 0 {
			replay = append(replay, ms(s.FirstBody[n-1]))
			replayGC = append(replayGC, float64(s.FirstGC[n-1]))
			replayCPU = append(replayCPU, ms(s.FirstCPU[n-1]))
			replaySetup = append(replaySetup, ms(s.Enter[n-1]))
		}
		cpus = append(cpus, ms(s.CPU))
		mallocs = append(mallocs, float64(s.Mallocs))
		bytes = append(bytes, float64(s.AllocBytes))
	}
	r.HandlerMS = round(median(hs))
	r.Mallocs = uint64(median(mallocs))
	r.AllocBytes = uint64(median(bytes))
	r.GCCycles = median(gcs)
	r.CPUMS = round(median(cpus))
	if v.Workload.PerStep && v.Config.N > 0 {
		r.PerStepUS = round(r.MedianMS * 1000 / float64(v.Config.N))
		r.PerStepCPUUS = round(r.CPUMS * 1000 / float64(v.Config.N))
	}
	if v.Workload.Replay && len(replay) > 0 {
		r.ReplayMS = round(median(replay))
		r.ReplayPerStepUS = round(r.ReplayMS * 1000 / float64(v.Config.N))
		r.ReplayGCCycles = median(replayGC)
		r.ReplayCPUMS = round(median(replayCPU))
		r.ReplaySetupMS = round(median(replaySetup))
		r.ReplayCPUPerStepUS = round(r.ReplayCPUMS * 1000 / float64(v.Config.N))
	}
	r.MedianMS, r.MinMS, r.MaxMS = round(r.MedianMS), round(r.MinMS), round(r.MaxMS)
	for i := range r.AllMS {
		r.AllMS[i] = round(r.AllMS[i])
	}
	r.PeakRSSMB = PeakRSSMB()
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round(x float64) float64 {
	switch {
	case x >= 100:
		return float64(int64(x*10+0.5)) / 10
	case x >= 1:
		return float64(int64(x*1000+0.5)) / 1000
	default:
		return float64(int64(x*1e5+0.5)) / 1e5
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// PeakRSSMB returns the process's peak resident set size (VmHWM in
// /proc/self/status) in MiB, or 0 where /proc is not available.
func PeakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return round(kb / 1024)
				}
			}
		}
	}
	return 0
}

var errUnknown = errors.New("bench: unknown workload variant")

// childEnv names the variant a child process started by RunIsolated runs;
// childRunsEnv carries "runs,warmup".
const (
	childEnv     = "DURABLE_BENCH_CHILD"
	childRunsEnv = "DURABLE_BENCH_CHILD_RUNS"
)

// ChildMain makes the calling program a child of RunIsolated when it was
// started as one: it runs the variant, prints its Result as one JSON line on
// stdout and exits. Otherwise it returns at once. Call it first in main.
func ChildMain() {
	label := os.Getenv(childEnv)
	if label == "" {
		return
	}
	runs, warmup := 5, 1
	if s := os.Getenv(childRunsEnv); s != "" {
		if _, err := fmt.Sscanf(s, "%d,%d", &runs, &warmup); err != nil {
			fmt.Fprintln(os.Stderr, "bench: bad", childRunsEnv, s)
			os.Exit(2)
		}
	}
	code := 0
	var r *Result
	v, err := Lookup(label)
	if err == nil {
		r, err = Run(context.Background(), v, runs, warmup)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", label+":", err)
		code = 1
		if r == nil {
			r = &Result{Label: label, Workload: label, Error: err.Error()}
		}
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	os.Exit(code)
}

// RunIsolated measures the variant labelled label in a fresh process (the
// running executable, which must call ChildMain first), so that its peak RSS
// is its own. env is added to the child's environment (e.g. "GOGC=off").
func RunIsolated(ctx context.Context, label string, runs, warmup int, env ...string) (*Result, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"="+label, fmt.Sprintf("%s=%d,%d", childRunsEnv, runs, warmup))
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var r Result
	for _, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 && line[0] == '{' {
			if err := json.Unmarshal(line, &r); err == nil {
				break
			}
		}
	}
	if r.Workload == "" {
		msg := strings.TrimSpace(stderr.String())
		if runErr != nil {
			msg = runErr.Error() + ": " + msg
		}
		return nil, fmt.Errorf("bench: child %s: %s", label, msg)
	}
	if runErr != nil || r.Error != "" {
		if r.Error == "" {
			r.Error = runErr.Error()
		}
		return &r, fmt.Errorf("bench: %s: %s", label, r.Error)
	}
	return &r, nil
}
