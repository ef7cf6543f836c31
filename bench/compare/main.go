// Command compare runs the workloads of issue 7 side by side on the official
// TypeScript SDK's local runner and on this SDK's embedded local service, in
// one invocation, and prints a markdown table of both with the ratios and
// the targets.
//
//	go run ./bench/compare                 # npm install into a temp dir, then everything (~3–5 min)
//	go run ./bench/compare -ts-dir DIR     # reuse a directory where the two packages are installed
//	go run ./bench/compare -no-ts          # our side only
//
// The TypeScript side is the anchor harness (ts/bench.js, a copy of
// /work/shared/anchors/ts-sdk/bench.js): it installs
// @aws/durable-execution-sdk-js 2.4.x and @aws/durable-execution-sdk-js-testing
// 1.1.x (ts/package.json) into a temporary directory and runs each workload
// in its own node process; it counts checkpoint calls by wrapping the client
// the runner hands the SDK. Per-step and replay times come from real-timer
// runs (the runner's time-skipping mode adds about 20 ms of fake-timer tick
// per step); W2 (a one-hour wait) can only run with time skipping. If node or
// npm is missing or the install fails, the command says why and still
// prints our side.
//
// Our side runs each variant of package bench in a fresh child process
// (this binary re-executed), so peak RSS is per variant. TypeScript and Go
// runs are interleaved workload by workload so that both see the same
// machine load.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/durablectx/durable/bench"
)

//go:embed ts/bench.js
var benchJS []byte

//go:embed ts/package.json
var packageJSON []byte

// tsJob is one node process of the anchor harness.
type tsJob struct {
	Label    string // e.g. "real-w1-100"
	Workload string // bench.js workload
	SkipTime bool
	Latency  int // API_LATENCY_MS
}

// tsResult is the RESULT line of bench.js (the fields used here).
type tsResult struct {
	Workload string  `json:"workload"`
	Node     string  `json:"node"`
	SkipTime bool    `json:"skipTime"`
	Runs     int     `json:"runs"`
	MedianMs float64 `json:"medianMs"`
	MinMs    float64 `json:"minMs"`
	MaxMs    float64 `json:"maxMs"`
	Counts   struct {
		Invocations       int `json:"invocations"`
		CheckpointCalls   int `json:"checkpointCalls"`
		CheckpointUpdates int `json:"checkpointUpdates"`
		GetStateCalls     int `json:"getStateCalls"`
		StepBodyCalls     int `json:"stepBodyCalls"`
		Operations        int `json:"operations"`
	} `json:"counts"`
	UnstableCounts       []string   `json:"unstableCounts"`
	HandlerMsTotal       float64    `json:"medianHandlerMsTotal"`
	FirstBodyMsByInv     []*float64 `json:"firstBodyMsByInvMedian"`
	InvocationMsMedian   []float64  `json:"invocationMsMedian"`
	PeakRSSMBSampled     float64    `json:"peakRssMB_sampled"`
	MaxRSSMBGetrusage    float64    `json:"maxRssMB_getrusage"`
	PerRunInvocations    []int      `json:"perRunInvocations"`
	ClockSkewAfterRunMs  []float64  `json:"clockSkewAfterRunMs"`
	WorkerMsgs           any        `json:"workerMsgs"`
	UpdatesByAction      any        `json:"updatesByAction"`
	OpsByType            any        `json:"opsByType"`
	AllMs                []float64  `json:"allMs"`
	InvocationStartMsMed []float64  `json:"invocationStartMsMedian"`
}

// metric says what the time columns of a row compare.
type metric int

const (
	perStep   metric = iota // W1: run time / N
	perReplay               // W4: last invocation's time to its first step body / N
	wholeRun                // run time
)

func (m metric) String() string {
	return [...]string{"per step", "per replayed step", "whole run"}[m]
}

// row is one line of the table: one of our variants against one TS job.
type row struct {
	Name   string
	Ours   string // bench variant label
	TS     string // tsJob label, "" for none
	Metric metric
	N      int
	Note   string
}

// group is what runs together: TS jobs, then our variants.
type group struct {
	TS   []tsJob
	Ours []string
}

var groups = []group{
	{[]tsJob{{"real-w1-100", "w1-100", false, 0}}, []string{"w1-100-sync", "w1-100-pipelined"}},
	{[]tsJob{{"real-w1-1000", "w1-1000", false, 0}}, []string{"w1-1000-sync", "w1-1000-pipelined"}},
	{[]tsJob{{"skip-w2", "w2", true, 0}}, []string{"w2"}},
	{[]tsJob{{"real-w3", "w3", false, 0}}, []string{"w3", "w3-pipelined"}},
	{[]tsJob{{"real-w4", "w4", false, 0}}, []string{"w4", "w4-pipelined", "w4-10000"}},
	{[]tsJob{{"skip-w5", "w5", true, 0}, {"real-w5", "w5", false, 0}}, []string{"w5"}},
	{[]tsJob{{"real-w1-100-lat5", "w1-100", false, 5}}, []string{"w1-100-sync-lat5", "w1-100-pipelined-lat5"}},
}

var rows = []row{
	{"W1 N=100, Sync", "w1-100-sync", "real-w1-100", perStep, 100, ""},
	{"W1 N=100, Pipelined", "w1-100-pipelined", "real-w1-100", perStep, 100, ""},
	{"W1 N=1000, Sync", "w1-1000-sync", "real-w1-1000", perStep, 1000, ""},
	{"W1 N=1000, Pipelined", "w1-1000-pipelined", "real-w1-1000", perStep, 1000, ""},
	{"W2 1 h wait + step", "w2", "skip-w2", wholeRun, 0, "TS: skip-time (fake timers, ~100 ms fixed harness sleep); ours: virtual clock"},
	{"W3 map 100, conc. 10, Sync", "w3", "real-w3", wholeRun, 0, ""},
	{"W3 map 100, conc. 10, Pipelined", "w3-pipelined", "real-w3", wholeRun, 0, ""},
	{"W4 1000 steps + wait + step, Sync", "w4", "real-w4", perReplay, 1000, "TS: real timers (real 1 s wait, not timed here)"},
	{"W4 1000, Pipelined", "w4-pipelined", "real-w4", perReplay, 1000, ""},
	{"W4 10000, Sync", "w4-10000", "", perReplay, 10000, "ours only: replay linearity"},
	{"W5 fail, fail, succeed (TS real timers)", "w5", "real-w5", wholeRun, 0, "TS time includes 2 real 1 s retry delays"},
	{"W5 fail, fail, succeed (TS skip-time)", "w5", "skip-w5", wholeRun, 0, "TS: skip-time harness; ours: virtual clock"},
	{"W1 N=100, 5 ms/call, Sync", "w1-100-sync-lat5", "real-w1-100-lat5", wholeRun, 100, ""},
	{"W1 N=100, 5 ms/call, Pipelined", "w1-100-pipelined-lat5", "real-w1-100-lat5", wholeRun, 100, ""},
}

type options struct {
	runs, warmup     int
	linRounds        int
	tsRuns, tsWarmup int
	tsDir            string
	noTS, keep       bool
	npmTimeout       time.Duration
	raw              string
}

func main() {
	bench.ChildMain()
	var o options
	flag.IntVar(&o.runs, "runs", 11, "timed runs per Go variant (median reported)")
	flag.IntVar(&o.warmup, "warmup", 1, "warm-up runs per Go variant")
	flag.IntVar(&o.linRounds, "lin-rounds", 4, "extra rounds of W4 1000 / W4 10000 pairs for the replay-linearity ratio")
	flag.IntVar(&o.tsRuns, "ts-runs", 5, "timed runs per TypeScript workload (median reported)")
	flag.IntVar(&o.tsWarmup, "ts-warmup", 1, "warm-up runs per TypeScript workload")
	flag.StringVar(&o.tsDir, "ts-dir", "", "directory where the two npm packages are installed already (skips npm install)")
	flag.BoolVar(&o.noTS, "no-ts", false, "skip the TypeScript side")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary npm directory")
	flag.DurationVar(&o.npmTimeout, "npm-timeout", 5*time.Minute, "timeout of npm install")
	flag.StringVar(&o.raw, "raw", "", "also write every raw result (JSON lines, both sides) to this file")
	flag.Parse()
	os.Exit(run(o))
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func run(o options) int {
	ctx := context.Background()
	start := time.Now()

	// TypeScript setup.
	tsDir, tsWhy, cleanup := "", "", func() {}
	if o.noTS {
		tsWhy = "skipped (-no-ts)"
	} else {
		var err error
		tsDir, cleanup, err = setupTS(ctx, o)
		if err != nil {
			tsWhy = err.Error()
			logf("compare: TypeScript side unavailable: %v", err)
			logf("compare: going on with our side only")
			tsDir = ""
		}
	}
	defer cleanup()

	var rawOut io.Writer = io.Discard
	if o.raw != "" {
		f, err := os.Create(o.raw)
		if err != nil {
			logf("compare: -raw: %v", err)
			return 2
		}
		defer f.Close()
		rawOut = f
	}

	var lin *linResult
	tsRes := map[string]*tsResult{}
	tsErr := map[string]string{}
	ours := map[string]*bench.Result{}
	oursErr := map[string]string{}
	for _, g := range groups {
		if tsDir != "" {
			for _, j := range g.TS {
				logf("== TypeScript %s", j.Label)
				r, line, err := runTS(ctx, tsDir, j, o)
				if err != nil {
					logf("compare: TypeScript %s: %v", j.Label, err)
					tsErr[j.Label] = err.Error()
					continue
				}
				tsRes[j.Label] = r
				fmt.Fprintf(rawOut, "{\"side\":\"ts\",\"label\":%q,\"result\":%s}\n", j.Label, line)
			}
		}
		for _, label := range g.Ours {
			logf("== Go %s", label)
			r, err := bench.RunIsolated(ctx, label, o.runs, o.warmup)
			if err != nil {
				logf("compare: Go %s: %v", label, err)
				oursErr[label] = err.Error()
			}
			if r != nil && r.Error == "" {
				ours[label] = r
				b, _ := json.Marshal(r)
				fmt.Fprintf(rawOut, "{\"side\":\"go\",\"label\":%q,\"result\":%s}\n", label, b)
			}
		}
		if slices.Contains(g.Ours, "w4-10000") {
			lin = linearity(ctx, o, ours, rawOut)
		}
	}

	printReport(os.Stdout, o, tsDir, tsWhy, tsRes, tsErr, ours, oursErr, lin, time.Since(start))
	if len(oursErr) > 0 {
		return 1
	}
	return 0
}

// setupTS prepares a directory with the harness and the two packages.
func setupTS(ctx context.Context, o options) (dir string, cleanup func(), err error) {
	cleanup = func() {}
	if _, err := exec.LookPath("node"); err != nil {
		return "", cleanup, fmt.Errorf("node is not installed or not on PATH (%v)", err)
	}
	if o.tsDir != "" {
		if err := os.WriteFile(filepath.Join(o.tsDir, "bench.js"), benchJS, 0o644); err != nil {
			return "", cleanup, err
		}
		if _, err := os.Stat(filepath.Join(o.tsDir, "node_modules", "@aws", "durable-execution-sdk-js-testing")); err != nil {
			return "", cleanup, fmt.Errorf("-ts-dir %s: the packages are not installed there (%v)", o.tsDir, err)
		}
		return o.tsDir, cleanup, nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", cleanup, fmt.Errorf("npm is not installed or not on PATH (%v)", err)
	}
	dir, err = os.MkdirTemp("", "durable-compare-ts-")
	if err != nil {
		return "", cleanup, err
	}
	if o.keep {
		logf("compare: TypeScript directory %s (kept)", dir)
	} else {
		tmp := dir // not dir itself: the error returns below set it to ""
		cleanup = func() { os.RemoveAll(tmp) }
	}
	for name, b := range map[string][]byte{"bench.js": benchJS, "package.json": packageJSON} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return "", cleanup, err
		}
	}
	logf("== npm install in %s (@aws/durable-execution-sdk-js ^2.4.0, @aws/durable-execution-sdk-js-testing ^1.1.4)", dir)
	ictx, cancel := context.WithTimeout(ctx, o.npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ictx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ictx.Err() != nil {
			err = fmt.Errorf("timed out after %v", o.npmTimeout)
		}
		return "", cleanup, fmt.Errorf("npm install failed: %v\n%s", err, npmWhy(out.String()))
	}
	return dir, cleanup, nil
}

// runTS runs one workload of the harness in its own node process.
func runTS(ctx context.Context, dir string, j tsJob, o options) (*tsResult, string, error) {
	jctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(jctx, "node", "bench.js", j.Workload, fmt.Sprint(o.tsRuns), fmt.Sprint(o.tsWarmup))
	cmd.Dir = dir
	skip := "0"
	if j.SkipTime {
		skip = "1"
	}
	cmd.Env = append(os.Environ(), "SKIP_TIME="+skip, "ENV_MODE=resync", fmt.Sprintf("API_LATENCY_MS=%d", j.Latency))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var line string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			line = s
		}
	}
	if err != nil || line == "" {
		if err == nil {
			err = errors.New("no RESULT line")
		}
		return nil, "", fmt.Errorf("%v\n%s", err, tail(stderr.String(), 15))
	}
	var r tsResult
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		return nil, "", err
	}
	return &r, line, nil
}

// npmWhy keeps the informative lines of npm's error output: the summary,
// without stack frames, and the path of the complete log.
func npmWhy(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		t := strings.TrimSpace(strings.TrimPrefix(l, "npm error"))
		if t == "" || strings.HasPrefix(t, "at ") || t == "}" || strings.HasSuffix(t, "{") {
			continue
		}
		if len(keep) < 8 || strings.Contains(t, "complete log") {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return tail(s, 15)
	}
	return "    " + strings.Join(keep, "\n    ")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// --- report ---------------------------------------------------------------

// tsTime returns the TypeScript value of a row's metric, in ms.
func tsTime(r *tsResult, m metric, n int) (float64, bool) {
	switch m {
	case perStep:
		return r.MedianMs / float64(n), true
	case perReplay:
		if k := len(r.FirstBodyMsByInv); k > 1 && r.FirstBodyMsByInv[k-1] != nil {
			return *r.FirstBodyMsByInv[k-1] / float64(n), true
		}
		return 0, false
	default:
		return r.MedianMs, true
	}
}

// goTime returns our value of a row's metric, in ms.
func goTime(r *bench.Result, m metric, n int) (float64, bool) {
	switch m {
	case perStep:
		return r.MedianMS / float64(n), true
	case perReplay:
		if r.ReplayMS == 0 {
			return 0, false
		}
		return r.ReplayMS / float64(n), true
	default:
		return r.MedianMS, true
	}
}

// dur formats milliseconds with a unit that fits.
func dur(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.2f s", ms/1000)
	case ms >= 1:
		return fmt.Sprintf("%.3g ms", ms)
	default:
		return fmt.Sprintf("%.3g µs", ms*1000)
	}
}

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a/b) {
		return "–"
	}
	x := a / b
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0fx", x)
	case x >= 10:
		return fmt.Sprintf("%.1fx", x)
	default:
		return fmt.Sprintf("%.2fx", x)
	}
}

func calls(c, u int) string { return fmt.Sprintf("%d (%d)", c, u) }

func printReport(w io.Writer, o options, tsDir, tsWhy string, ts map[string]*tsResult, tsErr map[string]string,
	ours map[string]*bench.Result, oursErr map[string]string, lin *linResult, took time.Duration) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	node := "–"
	for _, r := range ts {
		node = r.Node
		break
	}
	p("## durable vs @aws/durable-execution-sdk-js, side by side")
	p("")
	tsRuns := "TypeScript: not run"
	if tsDir != "" {
		tsRuns = fmt.Sprintf("TypeScript: median of %d runs after %d warm-up, each workload in its own node process (anchor harness)", o.tsRuns, o.tsWarmup)
	}
	p("%s; %s, node %s; %d CPUs, load average %s at the end. Go: median of %d runs after %d warm-up, each variant in a fresh process; %s. The command took %s.",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.Version(), node, runtime.NumCPU(), loadavg(),
		o.runs, o.warmup, tsRuns, took.Round(time.Second))
	if tsDir != "" {
		p("TypeScript packages: %s.", tsVersions(tsDir))
	} else {
		p("")
		why, detail, _ := strings.Cut(tsWhy, "\n")
		p("**TypeScript side not run**: %s", why)
		if detail != "" {
			p("")
			p("```")
			p("%s", strings.ReplaceAll(strings.TrimPrefix(detail, "    "), "\n    ", "\n"))
			p("```")
		}
	}
	p("")
	p("| workload | checkpoint calls (updates) TS | ours | invocations TS / ours | ops TS / ours | time compared | TS | ours | TS ÷ ours | peak RSS MB TS / ours |")
	p("|---|---|---|---|---|---|---|---|---|---|")
	for _, rw := range rows {
		g, gok := ours[rw.Ours]
		t, tok := ts[rw.TS]
		cells := make([]string, 10)
		for i := range cells {
			cells[i] = "–"
		}
		cells[0] = rw.Name
		cells[5] = rw.Metric.String()
		if rw.Note != "" {
			cells[5] += " (" + rw.Note + ")"
		}
		if tok {
			cells[1] = calls(t.Counts.CheckpointCalls, t.Counts.CheckpointUpdates)
			if len(t.UnstableCounts) > 0 {
				cells[1] += " ⚠ varied: " + strings.Join(t.UnstableCounts, ",")
			}
		} else if e, ok := tsErr[rw.TS]; ok {
			cells[1] = "failed: " + firstLine(e)
		}
		if gok {
			cells[2] = calls(medianCalls(g), g.CheckpointUpdates)
			if lo, hi := minMax(g.CallsPerRun); lo != hi {
				cells[2] += fmt.Sprintf(" [%d–%d]", lo, hi)
			}
			if u := slices.DeleteFunc(slices.Clone(g.UnstableCounts), func(s string) bool { return s == "checkpoint_calls" }); len(u) > 0 {
				cells[2] += " ⚠ varied: " + strings.Join(u, ",")
			}
		} else if e, ok := oursErr[rw.Ours]; ok {
			cells[2] = "failed: " + firstLine(e)
		}
		cells[3] = fmt.Sprintf("%s / %s", pick(tok, func() any { return t.Counts.Invocations }), pick(gok, func() any { return g.Invocations }))
		cells[4] = fmt.Sprintf("%s / %s", pick(tok, func() any { return t.Counts.Operations }), pick(gok, func() any { return g.Operations }))
		var tv, gv float64
		var tvok, gvok bool
		if tok {
			if tv, tvok = tsTime(t, rw.Metric, rw.N); tvok {
				cells[6] = dur(tv)
			}
		}
		if gok {
			if gv, gvok = goTime(g, rw.Metric, rw.N); gvok {
				cells[7] = dur(gv)
			}
		}
		if tvok && gvok {
			cells[8] = ratio(tv, gv)
		}
		cells[9] = fmt.Sprintf("%s / %s", pick(tok, func() any { return t.MaxRSSMBGetrusage }), pick(gok, func() any { return fmt.Sprintf("%.1f", g.PeakRSSMB) }))
		p("| %s |", strings.Join(cells, " | "))
	}
	p("")
	p("Our variants in detail (wall time from Start to terminal status; allocations: runtime.MemStats deltas of one run, SDK and in-process service together):")
	p("")
	p("| variant | wall: median [min–max] | process CPU | per step (wall) | replay per step: wall / CPU (window) | handler time per invocation | checkpoint calls per run | mallocs | alloc MB | GCs | peak RSS MB |")
	p("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, v := range bench.Variants {
		g, ok := ours[v.Label]
		if !ok {
			p("| %s | failed: %s | | | | | | | | | |", v.Label, firstLine(oursErr[v.Label]))
			continue
		}
		per, rep := "–", "–"
		if g.PerStepUS > 0 {
			per = dur(g.PerStepUS / 1000)
		}
		if g.ReplayPerStepUS > 0 {
			rep = fmt.Sprintf("%s / %s (%s for %d, of which %s envelope decoding and state setup; %g GC)",
				dur(g.ReplayPerStepUS/1000), dur(g.ReplayCPUPerStepUS/1000), dur(g.ReplayMS), g.N, dur(g.ReplaySetupMS), g.ReplayGCCycles)
		}
		inv := make([]string, len(g.InvocationMS))
		for i, x := range g.InvocationMS {
			inv[i] = dur(x)
		}
		cpr := fmt.Sprint(g.CheckpointCalls)
		if lo, hi := minMax(g.CallsPerRun); lo != hi {
			cpr = fmt.Sprintf("%d–%d", lo, hi)
		}
		p("| %s | %s [%s–%s] | %s | %s | %s | %s | %s | %d | %.2f | %g | %.1f |", v.Label, dur(g.MedianMS), dur(g.MinMS), dur(g.MaxMS),
			dur(g.CPUMS), per, rep, strings.Join(inv, " + "), cpr, g.Mallocs, float64(g.AllocBytes)/(1<<20), g.GCCycles, g.PeakRSSMB)
	}
	p("")
	printLinearity(p, lin)
	printTargets(p, ts, ours, lin)
}

func medianCalls(r *bench.Result) int {
	if len(r.CallsPerRun) == 0 {
		return r.CheckpointCalls
	}
	xs := slices.Clone(r.CallsPerRun)
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func minMax(xs []int) (lo, hi int) {
	for i, x := range xs {
		if i == 0 || x < lo {
			lo = x
		}
		if i == 0 || x > hi {
			hi = x
		}
	}
	return lo, hi
}

func pick(ok bool, f func() any) string {
	if !ok {
		return "–"
	}
	return fmt.Sprint(f())
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// printTargets judges the targets of issue 7 on the numbers of this run.
func printTargets(p func(string, ...any), ts map[string]*tsResult, ours map[string]*bench.Result, lin *linResult) {
	p("### Targets of issue 7 (this run)")
	p("")
	p("| target | measured | verdict |")
	p("|---|---|---|")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	na := func(name string) { p("| %s | not measured (a side failed or was skipped) | – |", name) }

	// 1. Checkpoint calls <= TS on every workload.
	{
		var parts []string
		all, any, worst := true, false, false
		for _, rw := range rows {
			g, gok := ours[rw.Ours]
			t, tok := ts[rw.TS]
			if !gok || !tok {
				continue
			}
			any = true
			med := medianCalls(g)
			ok := med <= t.Counts.CheckpointCalls
			all = all && ok
			mark := "≤"
			if !ok {
				mark = "**>**"
			}
			part := fmt.Sprintf("%s: %d %s %d", rw.Name, med, mark, t.Counts.CheckpointCalls)
			if _, hi := minMax(g.CallsPerRun); hi > t.Counts.CheckpointCalls {
				n := 0
				for _, c := range g.CallsPerRun {
					if c > t.Counts.CheckpointCalls {
						n++
					}
				}
				part += fmt.Sprintf(" (but %d in %d of %d runs)", hi, n, len(g.CallsPerRun))
				worst = true
			}
			parts = append(parts, part)
		}
		if any {
			v := verdict(all)
			if all && worst {
				v = "met on the median run, **not in every run**"
			}
			p("| checkpoint calls ≤ TS on every workload (ours: median of the runs) | %s | %s |", strings.Join(parts, "; "), v)
		} else {
			na("checkpoint calls ≤ TS on every workload")
		}
	}
	// 2. W1 Pipelined <= N/20.
	{
		var parts []string
		all, any := true, false
		for _, c := range []struct {
			l string
			n int
		}{{"w1-100-pipelined", 100}, {"w1-1000-pipelined", 1000}} {
			if g, ok := ours[c.l]; ok {
				any = true
				_, hi := minMax(g.CallsPerRun)
				all = all && hi <= c.n/20
				parts = append(parts, fmt.Sprintf("N=%d: %d calls, at most %d in %d runs (limit %d)", c.n, medianCalls(g), hi, len(g.CallsPerRun), c.n/20))
			}
		}
		if any {
			p("| W1 Pipelined ≤ N/20 calls | %s | %s |", strings.Join(parts, "; "), verdict(all))
		} else {
			na("W1 Pipelined ≤ N/20 calls")
		}
	}
	// 3. Per-step time W1 >= 50x faster than TS with real timers.
	{
		var parts []string
		all, any := true, false
		for _, c := range []struct{ l, t, name string }{
			{"w1-100-sync", "real-w1-100", "N=100 Sync"}, {"w1-1000-sync", "real-w1-1000", "N=1000 Sync"},
			{"w1-100-pipelined", "real-w1-100", "N=100 Pipelined"}, {"w1-1000-pipelined", "real-w1-1000", "N=1000 Pipelined"},
		} {
			g, gok := ours[c.l]
			t, tok := ts[c.t]
			if !gok || !tok {
				continue
			}
			any = true
			x := t.MedianMs / g.MedianMS
			all = all && x >= 50
			parts = append(parts, fmt.Sprintf("%s: %s vs %s = %s (handler time only: %s vs %s = %s)", c.name,
				dur(g.MedianMS/float64(g.N)), dur(t.MedianMs/float64(g.N)), ratio(t.MedianMs, g.MedianMS),
				dur(g.HandlerMS/float64(g.N)), dur(t.HandlerMsTotal/float64(g.N)), ratio(t.HandlerMsTotal, g.HandlerMS)))
		}
		if any {
			p("| W1 per step ≥ 50x faster than TS (real timers) | %s | %s |", strings.Join(parts, "; "), verdict(all))
		} else {
			na("W1 per step ≥ 50x faster than TS (real timers)")
		}
	}
	// 4. Replay >= 20x faster per replayed step (ours: median over the
	// W4 1000 rounds, wall time).
	if t, ok := ts["real-w4"]; ok && lin != nil && len(lin.rounds) > 0 {
		tv, tok := tsTime(t, perReplay, 1000)
		gv, lo, hi := lin.replay1k()
		if tok {
			steps := lin.stepsOnly()
			p("| W4 replay ≥ 20x faster per replayed step | %s (median of %d rounds; range %s–%s) vs %s = %s (range %s–%s); without GC (GOGC=off): %s = %s; the steps alone, after envelope decoding and state setup: %s = %s | %s |",
				dur(gv/1000), len(lin.rounds), dur(lo/1000), dur(hi/1000), dur(tv), ratio(tv, gv/1000), ratio(tv, hi/1000), ratio(tv, lo/1000),
				lin.nogcStr(0), lin.nogcRatio(tv), dur(steps/1000), ratio(tv, steps/1000), verdict(tv/(gv/1000) >= 20))
		} else {
			na("W4 replay ≥ 20x faster per replayed step")
		}
	} else {
		na("W4 replay ≥ 20x faster per replayed step")
	}
	// 5. Linearity: median over rounds of the per-round ratio.
	if lin != nil && len(lin.rounds) > 0 {
		med, lo, hi := lin.ratios(false)
		cmed, _, _ := lin.ratios(true)
		p("| replay per step at 10 000 within 1.2x of 1 000 | wall: %.2fx (median of %d side-by-side rounds; range %.2f–%.2fx); CPU time: %.2fx; without GC (GOGC=off): %s | %s |",
			med, len(lin.rounds), lo, hi, cmed, lin.nogcLinearity(), verdict(med <= 1.2))
	} else {
		na("replay per step at 10 000 within 1.2x of 1 000")
	}
	// 6. Peak RSS W1 N=1000 <= 30 MB.
	{
		var parts []string
		all, any := true, false
		for _, l := range []string{"w1-1000-sync", "w1-1000-pipelined"} {
			if g, ok := ours[l]; ok {
				any = true
				all = all && g.PeakRSSMB <= 30
				parts = append(parts, fmt.Sprintf("%s: %.1f MB", l, g.PeakRSSMB))
			}
		}
		if t, ok := ts["real-w1-1000"]; ok {
			parts = append(parts, fmt.Sprintf("(TS: %.1f MB)", t.MaxRSSMBGetrusage))
		}
		if any {
			p("| peak RSS W1 N=1000 ≤ 30 MB | %s | %s |", strings.Join(parts, "; "), verdict(all))
		} else {
			na("peak RSS W1 N=1000 ≤ 30 MB")
		}
	}
	// 7. 5 ms latency: Pipelined >= 10x faster than Sync.
	s, sok := ours["w1-100-sync-lat5"]
	pl, plok := ours["w1-100-pipelined-lat5"]
	if sok && plok {
		extra := ""
		if t, ok := ts["real-w1-100-lat5"]; ok {
			extra = fmt.Sprintf(" (TS: %s, %d calls)", dur(t.MedianMs), t.Counts.CheckpointCalls)
		}
		p("| W1 N=100 with 5 ms per call: Pipelined ≥ 10x faster than Sync | Sync %s (%d calls), Pipelined %s (%d calls) = %s%s | %s |",
			dur(s.MedianMS), s.CheckpointCalls, dur(pl.MedianMS), pl.CheckpointCalls, ratio(s.MedianMS, pl.MedianMS), extra, verdict(s.MedianMS/pl.MedianMS >= 10))
	} else {
		na("W1 N=100 with 5 ms per call: Pipelined ≥ 10x faster than Sync")
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func tsVersions(dir string) string {
	var parts []string
	for _, name := range []string{"durable-execution-sdk-js", "durable-execution-sdk-js-testing"} {
		v := "?"
		if b, err := os.ReadFile(filepath.Join(dir, "node_modules", "@aws", name, "package.json")); err == nil {
			var pj struct{ Version string }
			if json.Unmarshal(b, &pj) == nil {
				v = pj.Version
			}
		}
		parts = append(parts, "@aws/"+name+" "+v)
	}
	return strings.Join(parts, ", ")
}

// --- replay linearity -----------------------------------------------------

// linResult holds rounds of W4 1000 / W4 10000 measured back to back, so
// that each round's ratio sees one machine load, and one pair with the
// garbage collector off.
type linResult struct {
	rounds [][2]*bench.Result
	nogc   [2]*bench.Result
}

// linearity runs the extra rounds (the main W4 runs are round 0) and the
// GOGC=off pair.
func linearity(ctx context.Context, o options, ours map[string]*bench.Result, raw io.Writer) *linResult {
	l := &linResult{}
	if a, b := ours["w4"], ours["w4-10000"]; a != nil && b != nil {
		l.rounds = append(l.rounds, [2]*bench.Result{a, b})
	}
	runPair := func(env ...string) ([2]*bench.Result, bool) {
		var pair [2]*bench.Result
		for i, label := range []string{"w4", "w4-10000"} {
			logf("== Go %s %s (replay linearity)", label, strings.Join(env, " "))
			r, err := bench.RunIsolated(ctx, label, o.runs, o.warmup, env...)
			if err != nil {
				logf("compare: Go %s: %v", label, err)
				return pair, false
			}
			b, _ := json.Marshal(r)
			fmt.Fprintf(raw, "{\"side\":\"go\",\"label\":%q,\"env\":%q,\"result\":%s}\n", label, strings.Join(env, " "), b)
			pair[i] = r
		}
		return pair, true
	}
	for range o.linRounds {
		if pair, ok := runPair(); ok {
			l.rounds = append(l.rounds, pair)
		}
	}
	if pair, ok := runPair("GOGC=off"); ok {
		l.nogc = pair
	}
	return l
}

func medianF(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// replay1k returns the median, min and max over the rounds of W4 1000's
// replay time per step, in µs.
func (l *linResult) replay1k() (med, lo, hi float64) {
	var xs []float64
	for _, r := range l.rounds {
		xs = append(xs, r[0].ReplayPerStepUS)
	}
	return medianF(xs), slices.Min(xs), slices.Max(xs)
}

// stepsOnly returns the median over the rounds of W4 1000's replay time
// per step after the user function started (envelope decoded, state
// built), in µs.
func (l *linResult) stepsOnly() float64 {
	var xs []float64
	for _, r := range l.rounds {
		xs = append(xs, (r[0].ReplayMS-r[0].ReplaySetupMS)*1000/float64(r[0].N))
	}
	return medianF(xs)
}

// ratios returns the median, min and max over the rounds of the per-step
// replay cost at 10 000 divided by that at 1 000 (wall or CPU time).
func (l *linResult) ratios(cpu bool) (med, lo, hi float64) {
	var xs []float64
	for _, r := range l.rounds {
		a, b := r[0].ReplayPerStepUS, r[1].ReplayPerStepUS
		if cpu {
			a, b = r[0].ReplayCPUPerStepUS, r[1].ReplayCPUPerStepUS
		}
		if a > 0 {
			xs = append(xs, b/a)
		}
	}
	if len(xs) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	return medianF(xs), slices.Min(xs), slices.Max(xs)
}

func (l *linResult) nogcStr(i int) string {
	if l.nogc[i] == nil {
		return "not measured"
	}
	return dur(l.nogc[i].ReplayPerStepUS / 1000)
}

func (l *linResult) nogcRatio(tsMS float64) string {
	if l.nogc[0] == nil || l.nogc[0].ReplayPerStepUS == 0 {
		return "–"
	}
	return ratio(tsMS, l.nogc[0].ReplayPerStepUS/1000)
}

func (l *linResult) nogcLinearity() string {
	if l.nogc[0] == nil || l.nogc[1] == nil || l.nogc[0].ReplayPerStepUS == 0 {
		return "not measured"
	}
	return fmt.Sprintf("%s vs %s = %.2fx", l.nogcStr(1), l.nogcStr(0), l.nogc[1].ReplayPerStepUS/l.nogc[0].ReplayPerStepUS)
}

// printLinearity prints the rounds.
func printLinearity(p func(string, ...any), l *linResult) {
	if l == nil || len(l.rounds) == 0 {
		return
	}
	p("Replay per step, W4 at 1 000 and 10 000 steps measured back to back (wall / process CPU time of the replay window; GCs completed in it):")
	p("")
	p("| round | W4 1 000 | W4 10 000 | ratio wall | ratio CPU |")
	p("|---|---|---|---|---|")
	cell := func(r *bench.Result) string {
		return fmt.Sprintf("%s / %s (%g GC)", dur(r.ReplayPerStepUS/1000), dur(r.ReplayCPUPerStepUS/1000), r.ReplayGCCycles)
	}
	for i, r := range l.rounds {
		p("| %d | %s | %s | %.2fx | %.2fx |", i+1, cell(r[0]), cell(r[1]),
			r[1].ReplayPerStepUS/r[0].ReplayPerStepUS, r[1].ReplayCPUPerStepUS/r[0].ReplayCPUPerStepUS)
	}
	if l.nogc[0] != nil && l.nogc[1] != nil {
		r := l.nogc
		p("| GOGC=off | %s | %s | %.2fx | %.2fx |", cell(r[0]), cell(r[1]),
			r[1].ReplayPerStepUS/r[0].ReplayPerStepUS, r[1].ReplayCPUPerStepUS/r[0].ReplayCPUPerStepUS)
	}
	p("")
}
