package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/local"
	durableotel "github.com/durablectx/durable/otel"
)

// The driver runs requirements on the embedded local service (README §4.7):
// one fresh service per run, on a virtual clock by default, with the run's
// log sink and in-memory span exporter, then judges what the service
// recorded with the checks of this package.

// TimeMode selects the clock of the service a requirement runs on.
type TimeMode string

const (
	// VirtualTime runs the service on a virtual clock that moves only when
	// nothing is running, straight to the next due item: an hour-long wait
	// takes no time. It is the default.
	VirtualTime TimeMode = "virtual"
	// RealTime runs the service on the wall clock and polls, as the
	// official runner does against AWS.
	RealTime TimeMode = "real"
)

// DefaultServiceName is the OpenTelemetry service name of the runs.
const DefaultServiceName = "durable-execution-conformance"

// Options configure a [Driver] (README §4.1 item 4).
type Options struct {
	// Time is the time mode; the default is VirtualTime.
	Time TimeMode
	// LongRunningTime is the time mode of the long-running suite; the
	// default is RealTime. Its requirements are about real durations: the
	// execution must not end before LONG_DELAY_SECONDS have passed, and the
	// execution view's operation spans run from the service's timestamps
	// (the operation's recorded start) to the process's clock, which agree
	// only when the service runs on the wall clock.
	LongRunningTime TimeMode
	// PollInterval and NoProgressTimeout override the requirements'
	// AsyncConfig in real time mode.
	PollInterval, NoProgressTimeout time.Duration
	// ServiceName is the OpenTelemetry service name; the default is
	// DefaultServiceName.
	ServiceName string
	// LongRunningDelay replaces LONG_DELAY_SECONDS in the long-running suite
	// (whole seconds, 1 s to 86400 s); 0 keeps the requirement's value (1 s).
	LongRunningDelay time.Duration
	// FailOn is the policy of [Driver.Test]: with FailOnFailedUncovered an
	// UNCOVERED requirement fails its subtest instead of skipping. The
	// default is FailOnFailed.
	FailOn FailOn
	// OutputDir, when set, receives the artifacts of every run: <id>.json
	// (the final history), <id>-logs.jsonl (the visible log records) and,
	// on failure or with SpanArtifacts, <id>-otel.json (canonical spans).
	OutputDir     string
	SpanArtifacts bool
	// RunTimeout bounds one requirement run on the wall clock; the default
	// is one minute in virtual time and ten minutes in real time.
	RunTimeout time.Duration
	// Rand drives ${GEN_STR:N}; nil means a random source. The driver uses
	// it from one goroutine at a time.
	Rand *rand.Rand
	// Start is where virtual clocks start; zero means the current time.
	Start time.Time
}

// Driver runs requirements against the handlers of a registry.
type Driver struct {
	Registry *Registry
	Options  Options
}

// NewDriver returns a driver for reg.
func NewDriver(reg *Registry, opts Options) *Driver {
	return &Driver{Registry: reg, Options: opts}
}

// Load reads the requirements under each root (laid out as
// <root>/<suite>/<id>.yaml, README §4.1 item 1). A file that cannot be run as
// written, such as one with an unknown key, does not stop the others: it
// becomes a FAILED result with a setup error, returned in setup. IDs must be
// unique across roots. err reports roots that cannot be read.
func Load(roots ...string) (reqs []*Requirement, setup []Result, err error) {
	seen := map[string]string{}
	for _, root := range roots {
		fsys := os.DirFS(root)
		werr := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := path.Ext(p)
			if d.IsDir() || (ext != ".yaml" && ext != ".yml") {
				return nil
			}
			file := filepath.Join(root, filepath.FromSlash(p))
			id := strings.TrimSuffix(path.Base(p), ext)
			suite := path.Base(path.Dir(p))
			fail := func(err error) {
				f := Failure{Phase: PhaseSetup, Message: err.Error()}
				var se *SetupError
				if errors.As(err, &se) {
					f.Path, f.Message = se.File, se.Err.Error()
				}
				setup = append(setup, Result{ID: id, Suite: suite, Status: StatusFailed, Errors: []string{f.String()}})
			}
			if suite == "." {
				fail(&SetupError{File: file, Err: errors.New("requirement is not inside a suite folder")})
				return nil
			}
			if prev, dup := seen[id]; dup {
				fail(&SetupError{File: file, Err: fmt.Errorf("duplicate requirement ID %q, also in %s", id, prev)})
				return nil
			}
			seen[id] = file
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			r, err := ParseRequirement(id, suite, file, data)
			if err != nil {
				fail(err)
				return nil
			}
			reqs = append(reqs, r)
			return nil
		})
		if werr != nil {
			return nil, nil, fmt.Errorf("conformance: load %s: %w", root, werr)
		}
	}
	slices.SortStableFunc(reqs, func(a, b *Requirement) int {
		if c := strings.Compare(a.Suite, b.Suite); c != 0 {
			return c
		}
		return naturalCompare(a.ID, b.ID)
	})
	return reqs, setup, nil
}

// Run runs every requirement in order and returns one result each, plus a
// FAILED "test file not found" result for every ID the registry maps that no
// requirement defines (README §4.10). Pass the requirements of every suite
// to get those; after [Select], call [Driver.RunRequirement] instead.
func (d *Driver) Run(ctx context.Context, reqs []*Requirement) []Result {
	results := make([]Result, 0, len(reqs))
	known := map[string]bool{}
	for _, req := range reqs {
		known[req.ID] = true
		results = append(results, d.RunRequirement(ctx, req))
	}
	for _, id := range d.Registry.IDs() {
		if !known[id] {
			results = append(results, NotFound(id))
		}
	}
	return results
}

// RunRequirement runs one requirement and resolves its status (README
// §4.10): UNCOVERED or NOT_IMPLEMENTED when no handler serves it, otherwise
// the outcome of the run.
func (d *Driver) RunRequirement(ctx context.Context, req *Requirement) Result {
	fn, mapped := d.Registry.Lookup(req.ID)
	reason, declared := d.Registry.notImplemented[req.ID]
	switch {
	case !mapped && declared:
		return NotImplemented(req, reason)
	case !mapped:
		return Uncovered(req)
	}
	res := NewResult(req)
	if declared {
		res.Warnings = append(res.Warnings, "mapped to a handler and also declared not implemented ("+reason+")")
	}
	r := d.newRun(req, fn, res)
	r.execute(ctx)
	res.Finish(req.Optional)
	return *res
}

// run is one requirement run: one service, one execution (two for the
// long-running suite's views).
type run struct {
	d   *Driver
	req *Requirement
	fn  Function
	res *Result
	b   *Bindings

	// Of the current deployment.
	svc     *local.Service
	vc      *local.VirtualClock
	sink    *logSink
	exp     *tracetest.InMemoryExporter
	tp      *sdktrace.TracerProvider
	arn     string
	history []map[string]any
	failed  bool // some phase failed: later phases do not run

	// earliest is when callbacks may be answered: the start plus the
	// long-running delay (README §4.7 item 5); zero otherwise.
	earliest time.Time
}

func (d *Driver) newRun(req *Requirement, fn Function, res *Result) *run {
	return &run{d: d, req: req, fn: fn, res: res}
}

func (r *run) fail(fs ...Failure) {
	if len(fs) > 0 {
		r.failed = true
		r.res.Add(fs...)
	}
}

func (r *run) setupError(format string, args ...any) {
	r.fail(Failure{Phase: PhaseSetup, Message: fmt.Sprintf(format, args...)})
}

func (r *run) serviceName() string {
	if r.d.Options.ServiceName != "" {
		return r.d.Options.ServiceName
	}
	return DefaultServiceName
}

func (r *run) timeMode() TimeMode {
	if r.longRunning() {
		if r.d.Options.LongRunningTime == VirtualTime {
			return VirtualTime
		}
		return RealTime
	}
	if r.d.Options.Time == RealTime {
		return RealTime
	}
	return VirtualTime
}

// longRunning reports whether the requirement belongs to the long-running
// suite (README §4.7 item 5).
func (r *run) longRunning() bool {
	return r.req.ExecutionTelemetryAssertions != nil || strings.HasSuffix(r.req.Suite, "long-running")
}

func (r *run) execute(ctx context.Context) {
	timeout := r.d.Options.RunTimeout
	if timeout <= 0 {
		timeout = time.Minute
		if r.timeMode() == RealTime {
			timeout = 10 * time.Minute
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	vars := r.req.Variables
	var delay time.Duration
	if r.longRunning() {
		vars, delay = r.longDelay(vars)
	}
	b, err := NewBindings(vars, r.d.Options.Rand)
	if err != nil {
		r.setupError("Variables: %v", err)
		return
	}
	r.b = b
	initial := b.Clone() // the Variables alone, for a second deployment
	event, err := r.req.Event(b)
	if err != nil {
		r.setupError("Input: %v", err)
		return
	}

	env := r.fn.Environment
	if r.longRunning() {
		env = withEnv(env, "OTEL_PLUGIN_MODE", "invocation")
	}
	start := r.deploy(ctx, event, env)
	if r.failed {
		r.artifacts("")
		r.undeploy()
		return
	}
	r.validate(ctx, start, delay, r.req.TelemetryAssertions)
	r.artifacts("")
	r.undeploy()

	// The long-running suite checks the execution view on a deployment of
	// its own (README §4.7 item 5).
	if r.req.ExecutionTelemetryAssertions != nil && !r.failed {
		r.b = initial // history placeholders bind afresh
		start := r.deploy(ctx, event, withEnv(r.fn.Environment, "OTEL_PLUGIN_MODE", "execution"))
		if !r.failed {
			r.validate(ctx, start, delay, r.req.ExecutionTelemetryAssertions)
		}
		r.artifacts("-execution")
		r.undeploy()
	}
}

func withEnv(env map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(env)+1)
	for key, val := range env {
		out[key] = val
	}
	out[k] = v
	return out
}

// longDelay applies the long-running delay override to LONG_DELAY_SECONDS and
// returns the delay the run lasts at least.
func (r *run) longDelay(vars []Variable) ([]Variable, time.Duration) {
	out := slices.Clone(vars)
	delay := time.Second
	for i, v := range out {
		if v.Name != "LONG_DELAY_SECONDS" {
			continue
		}
		if o := r.d.Options.LongRunningDelay; o > 0 {
			secs := int((o + time.Second - 1) / time.Second)
			secs = min(max(secs, 1), 86400)
			out[i].Value = secs
		}
		if n, err := strconv.Atoi(PythonStr(out[i].Value)); err == nil {
			delay = time.Duration(n) * time.Second
		}
	}
	return out, delay
}

// deploy starts a service with the run's function and the auxiliary ones,
// and starts the execution. It returns the start instant.
func (r *run) deploy(ctx context.Context, event []byte, environment map[string]string) time.Time {
	r.sink = &logSink{}
	r.exp = tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(r.exp),
		sdktrace.WithIDGenerator(durableotel.IDGenerator{}),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", r.serviceName()))),
	)
	r.tp = tp
	var opts []local.Option
	if r.timeMode() == VirtualTime {
		start := r.d.Options.Start
		if start.IsZero() {
			start = time.Now()
		}
		r.vc = local.NewVirtualClock(start.UTC().Truncate(time.Millisecond))
		opts = append(opts, local.WithClock(r.vc))
	} else {
		r.vc = nil
	}
	svc, err := local.New(opts...)
	if err != nil {
		r.setupError("start the local service: %v", err)
		return time.Time{}
	}
	r.svc = svc

	logger := adapters.NewLogger(adapters.WithLogWriter(r.sink), adapters.WithLogLevel(slog.LevelDebug))
	functions := map[string]string{}
	for name := range r.d.Registry.aux {
		functions[name] = name
	}
	newEnv := func(environment map[string]string) *Env {
		return &Env{
			ID: r.req.ID, API: svc.API(), Logger: logger, Logs: r.sink,
			TracerProvider: tp, ServiceName: r.serviceName(),
			environment: environment, functions: functions,
		}
	}
	register := func(name string, fn Function, environment map[string]string) bool {
		if fn.Handler == nil {
			r.setupError("function %s has no handler", name)
			return false
		}
		h := fn.Handler(newEnv(environment))
		if h == nil {
			r.setupError("the handler of %s is nil", name)
			return false
		}
		timeout := fn.ExecutionTimeout
		if timeout <= 0 {
			timeout = DefaultExecutionTimeout
		}
		fopts := []local.FunctionOption{local.WithExecutionTimeout(timeout)}
		if fn.RetentionPeriodInDays > 0 {
			fopts = append(fopts, local.WithRetentionPeriod(fn.RetentionPeriodInDays))
		}
		if err := registerFunction(svc, name, h, fopts); err != nil {
			r.setupError("register %s: %v", name, err)
			return false
		}
		return true
	}
	for _, name := range slices.Sorted(maps.Keys(r.d.Registry.aux)) {
		fn := *r.d.Registry.aux[name]
		if !register(name, fn, fn.Environment) {
			return time.Time{}
		}
	}
	name := functionName(r.req.ID)
	if !register(name, r.fn, environment) {
		return time.Time{}
	}
	start := svc.Clock().Now()
	arn, err := svc.Start(ctx, name, event)
	if err != nil {
		r.setupError("start the execution: %v", err)
		return start
	}
	r.arn = arn
	r.res.ExecutionArn = arn
	return start
}

// registerFunction calls Service.Register, turning its panics into errors.
func registerFunction(svc *local.Service, name string, h interface {
	Invoke(context.Context, []byte) ([]byte, error)
}, opts []local.FunctionOption) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	svc.Register(name, h, opts...)
	return nil
}

// undeploy closes the service and the tracer provider, once the checks and
// the artifacts are done (shutting the provider down empties the exporter).
func (r *run) undeploy() {
	if r.svc != nil {
		_ = r.svc.Close()
		r.svc = nil
	}
	if r.tp != nil {
		_ = r.tp.Shutdown(context.Background())
		r.tp = nil
	}
}

var invalidNameChars = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// functionName is the name a requirement's function is deployed under.
func functionName(id string) string {
	name := "conformance-" + invalidNameChars.ReplaceAllString(id, "_")
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// validate runs the flow of the requirement and its checks, in phase order,
// stopping at the first phase that fails.
func (r *run) validate(ctx context.Context, start time.Time, minDuration time.Duration, ta *TelemetryAssertions) {
	r.earliest = time.Time{}
	if r.longRunning() && minDuration > 0 {
		r.earliest = start.Add(minDuration)
	}
	matched := false
	if r.req.AsyncInvoke {
		matched = r.asyncFlow(ctx)
	} else {
		r.syncFlow(ctx)
	}
	if r.failed || matched {
		return
	}
	if r.longRunning() && minDuration > 0 {
		r.checkPremature(start, minDuration)
		if r.failed {
			return
		}
	}
	r.fail(r.checkResult(ctx)...)
	if r.failed {
		return
	}
	if len(r.req.ExpectedLogs) > 0 {
		r.fail(CheckLogs(r.req.ExpectedLogs, VisibleLogs(r.sink.Records(), r.arn), r.b)...)
		if r.failed {
			return
		}
	}
	if ta != nil {
		r.fail(r.checkTelemetry(ta)...)
	}
}

// syncFlow runs the execution to its end, then matches the history fetched
// once (README §4.7 item 2).
func (r *run) syncFlow(ctx context.Context) {
	if len(r.req.ExpectedExecutionHistory) == 0 {
		r.fail(Failure{Phase: PhaseSetup, Path: "ExpectedExecutionHistory", Message: "required in the sync flow, but absent or empty"})
		return
	}
	var err error
	if r.vc != nil {
		_, err = r.svc.RunUntilTerminal(ctx, r.arn)
	} else {
		_, err = r.svc.Wait(ctx, r.arn)
	}
	if err != nil {
		r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("the execution did not finish: %v", err)})
		r.history, _ = r.fetchHistory(ctx)
		return
	}
	events, err := r.fetchHistory(ctx)
	if err != nil {
		r.fail(Failure{Phase: PhaseHistory, Message: err.Error()})
		return
	}
	r.history = events
	r.fail(MatchHistory(r.req.ExpectedExecutionHistory, events, r.b)...)
}

// fetchHistory reads the whole history with its payloads.
func (r *run) fetchHistory(ctx context.Context) ([]map[string]any, error) {
	var all []types.Event
	var marker *string
	for {
		out, err := r.svc.API().GetDurableExecutionHistory(ctx, &lambdaapi.GetDurableExecutionHistoryInput{
			DurableExecutionArn: &r.arn, IncludeExecutionData: ptrTo(true), MaxItems: 1000, Marker: marker,
		})
		if err != nil {
			return nil, fmt.Errorf("GetDurableExecutionHistory: %w", err)
		}
		all = append(all, out.Events...)
		if out.NextMarker == nil || *out.NextMarker == "" {
			break
		}
		marker = out.NextMarker
	}
	return EventsFromSDK(all), nil
}

// checkResult checks ExpectedResult against GetDurableExecution.
func (r *run) checkResult(ctx context.Context) []Failure {
	if r.req.ExpectedResult == nil {
		return nil
	}
	out, err := r.svc.API().GetDurableExecution(ctx, &lambdaapi.GetDurableExecutionInput{DurableExecutionArn: &r.arn, IncludeExecutionData: ptrTo(true)})
	if err != nil {
		return []Failure{{Phase: PhaseResult, Message: "GetDurableExecution: " + err.Error()}}
	}
	return CheckResult(r.req.ExpectedResult, string(out.Status), out.Result, r.b)
}

// checkPremature fails a long-running execution that ended before its delay
// had passed since the start (README §4.7 item 5).
func (r *run) checkPremature(start time.Time, delay time.Duration) {
	for _, ev := range r.history {
		switch ev["EventType"] {
		case "ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionStopped":
		default:
			continue
		}
		secs, ok := toFloat(ev["EventTimestamp"])
		if !ok {
			return
		}
		end := time.UnixMilli(int64(secs*1000 + 0.5))
		if end.Before(start.Add(delay).Truncate(time.Millisecond)) {
			r.fail(Failure{Phase: PhaseHistory, Message: fmt.Sprintf("premature: the execution ended %v after it started, before the long-running delay of %v", end.Sub(start), delay)})
		}
		return
	}
}

func (r *run) checkTelemetry(ta *TelemetryAssertions) []Failure {
	b := r.b.Clone()
	if err := b.Bind("EXECUTION_ARN", r.arn); err != nil {
		return []Failure{{Phase: PhaseTelemetry, Message: err.Error()}}
	}
	if err := b.Bind("SERVICE_NAME", r.serviceName()); err != nil {
		return []Failure{{Phase: PhaseTelemetry, Message: err.Error()}}
	}
	return CheckTelemetry(ta, SpansFromStubs(r.exp.GetSpans()), b)
}

// artifacts writes the run's artifacts to the output directory, if any.
func (r *run) artifacts(suffix string) {
	dir := r.d.Options.OutputDir
	if dir == "" || r.sink == nil {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.res.Warnings = append(r.res.Warnings, "artifacts: "+err.Error())
		return
	}
	base := filepath.Join(dir, r.req.ID+suffix)
	write := func(file string, data []byte) {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			r.res.Warnings = append(r.res.Warnings, "artifacts: "+err.Error())
		}
	}
	events := r.history
	if events == nil {
		events = []map[string]any{}
	}
	if data, err := json.MarshalIndent(events, "", "  "); err == nil {
		write(base+".json", append(data, '\n'))
	}
	var lines []byte
	for _, l := range VisibleLogs(r.sink.Records(), r.arn) {
		if data, err := json.Marshal(l.Fields); err == nil {
			lines = append(append(lines, data...), '\n')
		}
	}
	write(base+"-logs.jsonl", lines)
	if r.failed || r.d.Options.SpanArtifacts {
		spans := SpansFromStubs(r.exp.GetSpans())
		if spans == nil {
			spans = []Span{}
		}
		if data, err := json.MarshalIndent(spans, "", "  "); err == nil {
			write(base+"-otel.json", append(data, '\n'))
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}
