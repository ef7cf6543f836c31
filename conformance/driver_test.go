package conformance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/conformance"
)

// The driver's own tests: a handler that does not do what its requirement
// says must fail it, in the right phase, with a message that says where.

// requirement loads one requirement of the vendored catalogue.
func requirement(t *testing.T, id string) *conformance.Requirement {
	t.Helper()
	reqs, setup, err := conformance.Load("testdata/core", "testdata/otel")
	if err != nil {
		t.Fatal(err)
	}
	if len(setup) > 0 {
		t.Fatalf("setup errors: %v", setup)
	}
	for _, r := range reqs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no requirement %s", id)
	return nil
}

// recordingT records what ReportT reports.
type recordingT struct {
	testing.TB
	errors  []string
	skipped string
}

func (r *recordingT) Helper()             {}
func (r *recordingT) Logf(string, ...any) {}
func (r *recordingT) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}
func (r *recordingT) Skipf(format string, a ...any) { r.skipped = fmt.Sprintf(format, a...) }

// durableHandler runs fn as a durable function.
func durableHandler[In, Out any](fn func(context.Context, In) (Out, error)) conformance.HandlerFunc {
	return func(env *conformance.Env) lambda.Handler { return env.Wrap(adapters.Handler(fn)) }
}

// run runs requirement id with the default handlers, but handler h for id.
func run(t *testing.T, id string, h conformance.HandlerFunc) conformance.Result {
	t.Helper()
	reg := conformance.Handlers().Clone()
	if h != nil {
		reg.HandleFunc(h, id)
	}
	d := conformance.NewDriver(reg, conformance.Options{})
	return d.RunRequirement(context.Background(), requirement(t, id))
}

func contains(errs []string, want string) bool {
	for _, e := range errs {
		if strings.Contains(e, want) {
			return true
		}
	}
	return false
}

// waitThenStep is 1-8's handler with its two operations swapped: the wait
// comes first, so EventId 2 is a WaitStarted where a StepStarted belongs.
func waitThenStep(ctx context.Context, _ any) (string, error) {
	if err := durable.Wait(ctx, "wait", 2*time.Second); err != nil {
		return "", err
	}
	return durable.Step(ctx, "compute", func(context.Context) (string, error) { return "computed", nil })
}

func TestBrokenHandlerFailsNamingRequirementEventAndField(t *testing.T) {
	res := run(t, "1-8", durableHandler(waitThenStep))
	if res.Status != conformance.StatusFailed {
		t.Fatalf("status %s, want FAILED (errors %q)", res.Status, res.Errors)
	}
	want := `history: EventId=2: EventType: expected "StepStarted", got "WaitStarted"`
	if !contains(res.Errors, want) {
		t.Errorf("errors %q do not contain %q", res.Errors, want)
	}
	rec := &recordingT{TB: t}
	conformance.ReportT(rec, res)
	if !contains(rec.errors, "1-8: "+want) {
		t.Errorf("reported %q, want a line with %q", rec.errors, "1-8: "+want)
	}
	// The history phase failed: the later phases did not run.
	for _, e := range res.Errors {
		if !strings.HasPrefix(e, "history: ") {
			t.Errorf("error outside the history phase: %q", e)
		}
	}
}

func TestWrongResultFailsTheResultPhase(t *testing.T) {
	res := run(t, "1-1", durableHandler(func(ctx context.Context, in string) (string, error) {
		return durable.Step(ctx, "greet", func(context.Context) (string, error) { return "Goodbye, " + in + "!", nil })
	}))
	if res.Status != conformance.StatusFailed || !contains(res.Errors, "result: ") || !contains(res.Errors, "Goodbye") {
		t.Errorf("status %s, errors %q: want a result failure", res.Status, res.Errors)
	}
}

func TestLogsAreChecked(t *testing.T) {
	// 1-17 expects the step's log line once; log it twice.
	res := run(t, "1-17", durableHandler(func(ctx context.Context, in string) (string, error) {
		return durable.Step(ctx, "at_most_once_flaky_step", func(ctx context.Context) (string, error) {
			durable.Logger(ctx).Info("once " + in)
			durable.Logger(ctx).Info("twice " + in)
			return "", fmt.Errorf("no crash")
		}, durable.AtMostOnce(), durable.WithRetry(durable.NoRetry))
	}))
	// The history differs too (no crash); with the crash it would be the
	// log count alone. Either way the requirement fails.
	if res.Status != conformance.StatusFailed {
		t.Fatalf("status %s, want FAILED", res.Status)
	}

	// 1-7 is optional: an extra line fails it as OPTIONAL_FAILED, in the
	// logs phase.
	res = run(t, "1-7", durableHandler(func(ctx context.Context, in string) (string, error) {
		return durable.Step(ctx, "greet", func(ctx context.Context) (string, error) {
			for range 2 {
				durable.Logger(ctx).Info("Greeting step started for: " + in)
			}
			durable.Logger(ctx).Info("Greeting step completed with: Hello, " + in + "!")
			return "Hello, " + in + "!", nil
		})
	}))
	if res.Status != conformance.StatusOptionalFailed || !contains(res.Errors, "logs: ExpectedLogs[0]") {
		t.Errorf("status %s, errors %q: want OPTIONAL_FAILED with a logs failure", res.Status, res.Errors)
	}
}

func TestCallbackActionsAreServed(t *testing.T) {
	// 4-1's action answers the callback named after the input; name it
	// otherwise and the action matches nothing.
	res := run(t, "4-1", durableHandler(func(ctx context.Context, _ string) (string, error) {
		cb, err := durable.CreateCallback[string](ctx, "someone-else")
		if err != nil {
			return "", err
		}
		return cb.Await(ctx)
	}))
	if res.Status != conformance.StatusFailed || !contains(res.Errors, "no unused action matches callback") {
		t.Errorf("status %s, errors %q: want an unmatched callback action", res.Status, res.Errors)
	}
}

func TestStatuses(t *testing.T) {
	req := requirement(t, "1-1")
	reg := conformance.NewRegistry()
	d := conformance.NewDriver(reg, conformance.Options{})
	if res := d.RunRequirement(context.Background(), req); res.Status != conformance.StatusUncovered {
		t.Errorf("unmapped: status %s, want UNCOVERED", res.Status)
	}
	reg.NotImplemented("1-1", "not yet")
	if res := d.RunRequirement(context.Background(), req); res.Status != conformance.StatusNotImplemented || res.Reason != "not yet" {
		t.Errorf("declared: status %s (%q), want NOT_IMPLEMENTED", res.Status, res.Reason)
	}
	fn, ok := conformance.Handlers().Lookup("1-1")
	if !ok {
		t.Fatal("no handler for 1-1")
	}
	reg.Handle(fn, "1-1", "99-99")
	results := d.Run(context.Background(), []*conformance.Requirement{req})
	if len(results) != 2 {
		t.Fatalf("got %d results, want 2", len(results))
	}
	if r := results[0]; r.Status != conformance.StatusPassed || len(r.Warnings) != 1 {
		t.Errorf("mapped and declared: status %s, warnings %q; want PASSED with a warning", r.Status, r.Warnings)
	}
	if r := results[1]; r.ID != "99-99" || r.Status != conformance.StatusFailed || !contains(r.Errors, "test file not found") {
		t.Errorf("mapped without a file: %+v", r)
	}
}

func TestUnknownKeyIsASetupError(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "step"), 0o755); err != nil {
		t.Fatal(err)
	}
	good := "Input: x\nExpectedExecutionHistory:\n  - EventId: 1\n"
	if err := os.WriteFile(filepath.Join(dir, "step", "1-1.yaml"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "step", "1-2.yaml"), []byte(good+"AfterInvocationCompleted: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reqs, setup, err := conformance.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 || reqs[0].ID != "1-1" {
		t.Errorf("loaded %d requirements, want 1-1 only", len(reqs))
	}
	if len(setup) != 1 || setup[0].ID != "1-2" || setup[0].Status != conformance.StatusFailed ||
		!contains(setup[0].Errors, "setup: ") || !contains(setup[0].Errors, "AfterInvocationCompleted") {
		t.Errorf("setup results %+v, want 1-2 FAILED naming the key", setup)
	}
}
