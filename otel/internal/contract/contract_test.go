package contract_test

// The span contract is checked with the conformance package's validator
// against AWS's otel-* requirement files: handlers run on the fake durable
// API; what it cannot run (two executions, for chained invokes; virtual
// contexts) is played as the hook calls the SDK makes (see sim below).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/conformance"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
	durableotel "github.com/durablectx/durable/otel"
)

const serviceName = "durable-execution-conformance"

var requirements = sync.OnceValues(func() (map[string]*conformance.Requirement, error) {
	reqs, err := conformance.LoadDir("../../../conformance/testdata/otel")
	if err != nil {
		return nil, err
	}
	m := make(map[string]*conformance.Requirement, len(reqs))
	for _, r := range reqs {
		m[r.ID] = r
	}
	return m, nil
})

// recorder is a tracer provider exporting to memory, as the conformance
// harness sets one up.
type recorder struct {
	exp *tracetest.InMemoryExporter
	tp  *sdktrace.TracerProvider
}

func newRecorder() *recorder {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithIDGenerator(durableotel.IDGenerator{}),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", serviceName))),
	)
	return &recorder{exp: exp, tp: tp}
}

func (r *recorder) hooks(v durableotel.View) *ctxstate.Hooks {
	return durableotel.Hooks(durableotel.WithTracerProvider(r.tp), durableotel.WithView(v))
}

// views returns the views a requirement is checked in, with its assertions.
func views(t *testing.T, id string) map[durableotel.View]*conformance.TelemetryAssertions {
	reqs, err := requirements()
	if err != nil {
		t.Fatal(err)
	}
	req := reqs[id]
	if req == nil {
		t.Fatalf("no requirement %s", id)
	}
	switch req.Suite {
	case "otel-invocation":
		return map[durableotel.View]*conformance.TelemetryAssertions{durableotel.InvocationView: req.TelemetryAssertions}
	case "otel-execution":
		return map[durableotel.View]*conformance.TelemetryAssertions{durableotel.ExecutionView: req.TelemetryAssertions}
	}
	return map[durableotel.View]*conformance.TelemetryAssertions{
		durableotel.InvocationView: req.TelemetryAssertions,
		durableotel.ExecutionView:  req.ExecutionTelemetryAssertions,
	}
}

// checkSpans runs the telemetry assertions over what rec exported.
func checkSpans(t *testing.T, id string, ta *conformance.TelemetryAssertions, rec *recorder, arn string, binds map[string]string) {
	t.Helper()
	reqs, _ := requirements()
	b, err := conformance.NewBindings(reqs[id].Variables, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Bind("EXECUTION_ARN", arn))
	must(b.Bind("SERVICE_NAME", serviceName))
	for k, v := range binds {
		must(b.Bind(k, v))
	}
	spans := conformance.SpansFromStubs(rec.exp.GetSpans())
	fails := conformance.CheckTelemetry(ta, spans, b)
	for _, f := range fails {
		t.Error(f)
	}
	if len(fails) > 0 {
		t.Log(dump(rec.exp.GetSpans()))
	}
}

func dump(stubs []tracetest.SpanStub) string {
	var sb strings.Builder
	for _, s := range stubs {
		fmt.Fprintf(&sb, "\n%-34s %s/%s parent=%s status=%s links=%d", s.Name, s.SpanContext.TraceID(), s.SpanContext.SpanID(), s.Parent.SpanID(), s.Status.Code, len(s.Links))
		for _, a := range s.Attributes {
			fmt.Fprintf(&sb, " %s=%s", strings.TrimPrefix(string(a.Key), "durable."), a.Value.String())
		}
	}
	return sb.String()
}

var (
	noRetry   = durable.WithRetry(durable.RetryPolicy{MaxAttempts: 1})
	retryOnce = durable.WithRetry(durable.RetryPolicy{MaxAttempts: 2, InitialDelay: time.Second, Jitter: durable.NoJitter})
)

func failOnFirstAttempt(ctx context.Context) (string, error) {
	if durable.StepAttempt(ctx) == 1 {
		return "", errors.New("transient")
	}
	return "recovered", nil
}

// TestConformanceHandlers runs handlers built on Step and Child on the fake
// API and checks their spans against the requirements.
func TestConformanceHandlers(t *testing.T) {
	for _, tt := range handlerCases() {
		for _, id := range tt.ids {
			for view, ta := range views(t, id) {
				t.Run(id+"/"+view.String(), func(t *testing.T) { tt.run(t, id, view, ta) })
			}
		}
	}
}

// handlerCase is a handler for requirements, run on the fake API.
type handlerCase struct {
	ids     []string
	handler func(ctx context.Context, in map[string]any) (any, error)
	binds   map[string]string // placeholder: operation name
	// resume plays the service between invocations (default: fire the
	// next timer); once invokes only once.
	resume func(api *fakeapi.API)
	once   bool
}

func handlerCases() []handlerCase {
	return []handlerCase{{
		ids: []string{"otel-invocation-1", "otel-execution-1"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return durable.Step(ctx, "otel-success", func(context.Context) (string, error) { return "ok", nil })
		},
		binds: map[string]string{"STEP1": "otel-success"},
	}, {
		ids: []string{"otel-execution-3"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return durable.Step(ctx, "otel-retry", failOnFirstAttempt, retryOnce)
		},
		binds: map[string]string{"RETRY_STEP": "otel-retry"},
	}, {
		ids: []string{"otel-long-running-2"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return durable.Step(ctx, "otel-long-retry", failOnFirstAttempt, retryOnce)
		},
		binds: map[string]string{"RETRY_STEP": "otel-long-retry"},
	}, {
		ids: []string{"otel-invocation-4", "otel-execution-4"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return durable.Step(ctx, "otel-terminal-failure", func(context.Context) (string, error) { return "", errors.New("terminal") }, noRetry)
		},
		binds: map[string]string{"FAILED_STEP": "otel-terminal-failure"},
	}, {
		ids: []string{"otel-invocation-8", "otel-execution-8"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			if _, err := durable.Step(ctx, "otel-handled-failure", func(context.Context) (string, error) { return "", errors.New("handled") }, noRetry); err == nil {
				return nil, errors.New("the failing step succeeded")
			}
			return durable.Step(ctx, "otel-recovery-step", func(context.Context) (string, error) { return "recovered", nil })
		},
		binds: map[string]string{"FAILED_STEP": "otel-handled-failure", "RECOVERY_STEP": "otel-recovery-step"},
	}, {
		ids: []string{"otel-invocation-5", "otel-execution-5"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return durable.Child(ctx, "otel-child-context", func(ctx context.Context) (string, error) {
				return durable.Step(ctx, "otel-child-step", func(context.Context) (string, error) { return "child", nil })
			})
		},
		binds: map[string]string{"CTX1": "otel-child-context", "STEP1": "otel-child-step"},
	}, {
		ids: []string{"otel-invocation-12", "otel-execution-12"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return durable.Child(ctx, "otel-failed-child-context", func(ctx context.Context) (string, error) {
				return "", errors.New("child failed")
			})
		},
		binds: map[string]string{"FAILED_CONTEXT": "otel-failed-child-context"},
	}, {
		ids: []string{"otel-invocation-19"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return nil, errors.New("handler failed before any operation")
		},
	}, {
		ids:     []string{"otel-invocation-2"},
		handler: waitThenStep("otel-wait", "otel-after-resume"),
		binds:   map[string]string{"WAIT1": "otel-wait", "STEP1": "otel-after-resume"},
	}, {
		ids:     []string{"otel-long-running-1"},
		handler: waitThenStep("otel-long-wait", "otel-after-long-wait"),
		binds:   map[string]string{"WAIT1": "otel-long-wait", "STEP1": "otel-after-long-wait"},
	}, {
		ids:     []string{"otel-execution-15"},
		handler: waitThenStep("otel-interrupted-wait", "never"),
		binds:   map[string]string{"INTERRUPTED_WAIT": "otel-interrupted-wait"},
		once:    true, // the execution times out during the wait
	}, {
		ids: []string{"otel-invocation-9"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return durable.WaitForCondition(ctx, "otel-condition", 0, func(_ context.Context, n int) (int, error) { return n + 1, nil },
				durable.PollUntil(func(n int) bool { return n >= 2 }, durable.RetryPolicy{InitialDelay: time.Second, Jitter: durable.NoJitter}))
		},
		binds: map[string]string{"CONDITION1": "otel-condition"},
	}, {
		ids: []string{"otel-invocation-16"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			return durable.WaitForCondition(ctx, "otel-failed-condition", 0, func(context.Context, int) (int, error) { return 0, errors.New("check failed") },
				durable.PollUntil(func(n int) bool { return n >= 2 }, durable.RetryPolicy{InitialDelay: time.Second, Jitter: durable.NoJitter}))
		},
		binds: map[string]string{"FAILED_CONDITION": "otel-failed-condition"},
	}, {
		ids:     []string{"otel-execution-10"},
		handler: waitForCallback("otel-callback"),
		binds:   callbackBinds("otel-callback", "CALLBACK_CONTEXT", "CALLBACK1", "SUBMITTER_STEP"),
		resume:  answer("otel-callback", nil),
	}, {
		ids:     []string{"otel-long-running-3"},
		handler: waitForCallback("otel-long-callback"),
		binds:   callbackBinds("otel-long-callback", "CALLBACK_CONTEXT", "CALLBACK1", "SUBMITTER_STEP"),
		resume:  answer("otel-long-callback", nil),
	}, {
		ids:     []string{"otel-execution-17"},
		handler: waitForCallback("otel-failed-callback"),
		binds:   callbackBinds("otel-failed-callback", "FAILED_CALLBACK_CONTEXT", "FAILED_CALLBACK", "CALLBACK_SUBMITTER"),
		resume:  answer("otel-failed-callback", &types.ErrorObject{ErrorType: ptr("Rejected"), ErrorMessage: ptr("rejected")}),
	}, {
		ids: []string{"otel-invocation-6"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			branch := func(x string) durable.Branch[string] {
				return durable.Branch[string]{Name: "otel-parallel-branch-" + x, Fn: func(ctx context.Context) (string, error) {
					return durable.Step(ctx, "otel-parallel-step-"+x, func(context.Context) (string, error) { return x, nil })
				}}
			}
			res, err := durable.Parallel(ctx, "otel-parallel", []durable.Branch[string]{branch("a"), branch("b")})
			if err != nil {
				return nil, err
			}
			return res.Values(), res.Err()
		},
		binds: map[string]string{"PARALLEL1": "otel-parallel", "BRANCH1": "otel-parallel-branch-a", "BRANCH2": "otel-parallel-branch-b",
			"STEP1": "otel-parallel-step-a", "STEP2": "otel-parallel-step-b"},
	}, {
		ids: []string{"otel-execution-13"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			res, err := durable.Parallel(ctx, "otel-failed-parallel", []durable.Branch[string]{{Name: "otel-failed-parallel-branch",
				Fn: func(context.Context) (string, error) { return "", errors.New("branch failed") }}})
			if err != nil {
				return nil, err
			}
			return res.Values(), res.Err()
		},
		binds: map[string]string{"PARALLEL1": "otel-failed-parallel", "FAILED_BRANCH": "otel-failed-parallel-branch"},
	}, {
		ids: []string{"otel-invocation-7", "otel-execution-7"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			res, err := durable.Map(ctx, "otel-map", []int{0, 1}, func(ctx context.Context, item, _ int) (string, error) {
				return durable.Step(ctx, fmt.Sprint("otel-map-step-", item), func(context.Context) (string, error) { return "ok", nil })
			}, durable.WithItemName(func(item, _ int) string { return fmt.Sprint("otel-map-iteration-", item) }))
			if err != nil {
				return nil, err
			}
			return res.Values(), res.Err()
		},
		binds: map[string]string{"MAP1": "otel-map", "ITERATION1": "otel-map-iteration-0", "ITERATION2": "otel-map-iteration-1",
			"STEP1": "otel-map-step-0", "STEP2": "otel-map-step-1"},
	}, {
		ids: []string{"otel-invocation-14"},
		handler: func(ctx context.Context, _ map[string]any) (any, error) {
			res, err := durable.Map(ctx, "otel-failed-map", []int{0}, func(context.Context, int, int) (string, error) {
				return "", errors.New("iteration failed")
			}, durable.WithItemName(func(item, _ int) string { return fmt.Sprint("otel-failed-map-iteration-", item) }))
			if err != nil {
				return nil, err
			}
			return res.Values(), res.Err()
		},
		binds: map[string]string{"MAP1": "otel-failed-map", "FAILED_ITERATION": "otel-failed-map-iteration-0"},
	}}
}

func (c handlerCase) run(t *testing.T, id string, view durableotel.View, ta *conformance.TelemetryAssertions) {
	rec := newRecorder()
	api := fakeapi.New(`{"scenario":"x"}`)
	h := middleware.Wrap(adapters.Handler(c.handler), middleware.WithAPI(api), middleware.WithHooks(rec.hooks(view)))
	resume := c.resume
	if resume == nil {
		resume = func(api *fakeapi.API) { api.Advance() }
	}
	for i := 0; ; i++ {
		out, err := api.Invoke(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != "PENDING" || c.once {
			break
		}
		if i == 5 {
			t.Fatal("not done after 5 invocations")
		}
		resume(api)
	}
	binds := map[string]string{}
	for ph, name := range c.binds {
		op := api.Operation(name)
		if op == nil {
			t.Fatalf("no operation %q", name)
		}
		binds[ph] = *op.Id
	}
	checkSpans(t, id, ta, rec, api.ARN(), binds)
}

func waitThenStep(wait, step string) func(context.Context, map[string]any) (any, error) {
	return func(ctx context.Context, _ map[string]any) (any, error) {
		if err := durable.Wait(ctx, wait, 2*time.Second); err != nil {
			return nil, err
		}
		return durable.Step(ctx, step, func(context.Context) (string, error) { return "resumed", nil })
	}
}

func waitForCallback(name string) func(context.Context, map[string]any) (any, error) {
	return func(ctx context.Context, _ map[string]any) (any, error) {
		return durable.WaitForCallback[string](ctx, name, func(context.Context, string) error { return nil })
	}
}

func callbackBinds(name, ctx, callback, submitter string) map[string]string {
	return map[string]string{ctx: name, callback: name + " create callback id", submitter: name + " submitter"}
}

// answer completes the callback of a WaitForCallback, as the answering
// system would.
func answer(name string, fail *types.ErrorObject) func(*fakeapi.API) {
	return func(api *fakeapi.API) {
		if err := api.Complete(name+" create callback id", `"callback-complete"`, fail); err != nil {
			panic(err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// sim plays the hook calls of an execution as the SDK makes them, for what
// the fake API cannot run: a chained invoke's target is another execution,
// and a virtual context has no operation id.
type sim struct {
	hooks *ctxstate.Hooks
	arn   string
	start time.Time
	n     int
	ops   map[string]*simOp
}

type simOp struct {
	info           ctxstate.OperationInfo
	started, ended time.Time // as the service records them
}

func newSim(h *ctxstate.Hooks, name string) *sim {
	return &sim{hooks: h, arn: "arn:aws:lambda:us-east-1:123456789012:function:otel:$LATEST/durable-execution/" + name + "/e1",
		start: time.Now(), ops: map[string]*simOp{}}
}

func (s *sim) op(name string, typ types.OperationType, subType string, parent *simOp) *simOp {
	o := &simOp{info: ctxstate.OperationInfo{ExecutionARN: s.arn, ID: ctxstate.WireID(name), Name: name, Type: typ, SubType: subType}}
	if parent != nil {
		o.info.ParentID = parent.info.ID
	}
	s.ops[name] = o
	return o
}

// complete is the service completing op while the execution is suspended.
func (s *sim) complete(o *simOp) { o.ended = time.Now() }

func (s *sim) invoke(status string, body func()) {
	info := ctxstate.InvocationInfo{ExecutionARN: s.arn, RequestID: fmt.Sprint("req-", s.n), First: s.n == 0,
		Start: time.Now(), ExecutionStart: s.start}
	s.n++
	s.hooks.InvocationStart(info)
	body()
	info.End = time.Now()
	info.Status = status
	if status == "FAILED" {
		info.Err = errors.New("failed")
	}
	s.hooks.InvocationEnd(info)
}

func (s *sim) info(o *simOp, replaying bool) ctxstate.OperationInfo {
	info := o.info
	info.Replaying = replaying
	info.Start = o.started
	return info
}

func (s *sim) begin(o *simOp, replaying bool) {
	if o.started.IsZero() {
		o.started = time.Now()
	}
	s.hooks.OperationStart(s.info(o, replaying))
}

func (s *sim) end(o *simOp, status types.OperationStatus, attempt int, replaying bool) {
	info := s.info(o, replaying)
	info.Status, info.Attempt, info.End = status, attempt, time.Now()
	if replaying {
		info.End = o.ended
	}
	if status != types.OperationStatusSucceeded && ctxstate.IsTerminal(status) {
		info.Err = errors.New(o.info.Name + " failed")
	}
	s.hooks.OperationEnd(info)
}

const (
	succeeded = types.OperationStatusSucceeded
	failed    = types.OperationStatusFailed
)

// TestConformanceSimulated checks the spans of the hook calls the other
// operations make against the requirements.
func TestConformanceSimulated(t *testing.T) {
	for _, tt := range simCases() {
		for _, id := range tt.ids {
			for view, ta := range views(t, id) {
				t.Run(id+"/"+view.String(), func(t *testing.T) {
					rec := newRecorder()
					s := newSim(rec.hooks(view), id)
					tt.play(s)
					binds := map[string]string{}
					for ph, name := range tt.binds {
						binds[ph] = s.ops[name].info.ID
					}
					checkSpans(t, id, ta, rec, s.arn, binds)
				})
			}
		}
	}
}

type simCase struct {
	ids   []string
	play  func(s *sim)
	binds map[string]string // placeholder: operation name
}

func simCases() []simCase {
	chained := func(name string, outcome types.OperationStatus) func(s *sim) {
		return func(s *sim) {
			inv := s.op(name, types.OperationTypeChainedInvoke, "ChainedInvoke", nil)
			s.invoke("PENDING", func() { s.begin(inv, false) })
			target := newSim(s.hooks, "target")
			final := "SUCCEEDED"
			if outcome != succeeded {
				final = "FAILED"
			}
			target.invoke(final, func() {})
			s.ops["${TARGET_EXECUTION_ARN}"] = &simOp{info: ctxstate.OperationInfo{ID: target.arn}}
			s.complete(inv)
			s.invoke(final, func() {
				s.begin(inv, true)
				s.end(inv, outcome, 0, true)
			})
		}
	}
	return []simCase{
		{[]string{"otel-invocation-11"}, chained("otel-invoke", succeeded),
			map[string]string{"INVOKE1": "otel-invoke", "TARGET_EXECUTION_ARN": "${TARGET_EXECUTION_ARN}"}},
		{[]string{"otel-execution-18"}, chained("otel-failed-invoke", failed),
			map[string]string{"FAILED_INVOKE": "otel-failed-invoke", "TARGET_EXECUTION_ARN": "${TARGET_EXECUTION_ARN}"}},
		{[]string{"otel-execution-20"}, func(s *sim) {
			v := &simOp{info: ctxstate.OperationInfo{ExecutionARN: s.arn, Name: "otel-virtual-context", Type: types.OperationTypeContext, SubType: "RunInChildContext"}}
			s.invoke("SUCCEEDED", func() {
				s.begin(v, false)
				s.end(v, succeeded, 0, false)
			})
		}, nil},
	}
}

// TestEveryRequirementIsChecked keeps the tables above in step with the
// requirement files.
func TestEveryRequirementIsChecked(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range handlerCases() {
		for _, id := range c.ids {
			covered[id] = true
		}
	}
	for _, c := range simCases() {
		for _, id := range c.ids {
			covered[id] = true
		}
	}
	reqs, err := requirements()
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for id := range reqs {
		if !covered[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("requirements not checked: %v", missing)
	}

}
