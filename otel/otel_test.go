package otel_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	otelapi "go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
	durableotel "github.com/durablectx/durable/otel"
)

// recorder is a tracer provider exporting to memory.
type recorder struct {
	exp *tracetest.InMemoryExporter
	tp  *sdktrace.TracerProvider
}

func newRecorder() *recorder {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithIDGenerator(durableotel.IDGenerator{}))
	return &recorder{exp: exp, tp: tp}
}

func (r *recorder) hooks(v durableotel.View) *ctxstate.Hooks {
	return durableotel.Hooks(durableotel.WithTracerProvider(r.tp), durableotel.WithView(v))
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

var retryOnce = durable.WithRetry(durable.RetryPolicy{MaxAttempts: 2, InitialDelay: time.Second, Jitter: durable.NoJitter})

func failOnFirstAttempt(ctx context.Context) (string, error) {
	if durable.StepAttempt(ctx) == 1 {
		return "", errors.New("transient")
	}
	return "recovered", nil
}

// threeSteps is a workflow of three steps, the second failing its first
// attempt: two invocations, the second replaying the first step.
func threeSteps(ctx context.Context, _ any) (string, error) {
	a, err := durable.Step(ctx, "a", func(context.Context) (string, error) { return "a", nil })
	if err != nil {
		return "", err
	}
	b, err := durable.Step(ctx, "b", failOnFirstAttempt, retryOnce)
	if err != nil {
		return "", err
	}
	c, err := durable.Step(ctx, "c", func(context.Context) (string, error) { return "c", nil })
	return a + b + c, err
}

func durableHandler(api *fakeapi.API, fn func(context.Context, any) (string, error), hooks ...*ctxstate.Hooks) lambda.Handler {
	return middleware.Wrap(adapters.Handler(fn), middleware.WithAPI(api), middleware.WithHooks(hooks...))
}

func byName(stubs []tracetest.SpanStub) map[string][]tracetest.SpanStub {
	m := map[string][]tracetest.SpanStub{}
	for _, s := range stubs {
		m[s.Name] = append(m[s.Name], s)
	}
	return m
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

func TestNoDuplicateSpansOnReplay(t *testing.T) {
	tests := []struct {
		view durableotel.View
		want map[string]int
	}{
		// Step a completes in invocation 1 and is only replayed in 2; b
		// starts in 1 (attempt 1 fails) and completes in 2.
		{durableotel.InvocationView, map[string]int{"Workflow": 1, "Invocation": 2, "a": 1, "a attempt 1": 1,
			"b": 2, "b attempt 1": 1, "b attempt 2": 1, "c": 1, "c attempt 1": 1}},
		{durableotel.ExecutionView, map[string]int{"Workflow": 1, "Invocation": 2, "a": 1, "a attempt 1": 1,
			"b": 1, "b attempt 1": 1, "b attempt 2": 1, "c": 1, "c attempt 1": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.view.String(), func(t *testing.T) {
			rec := newRecorder()
			api := fakeapi.New(`null`)
			outs, err := api.Run(context.Background(), durableHandler(api, threeSteps, rec.hooks(tt.view)), 5)
			if err != nil || len(outs) != 2 {
				t.Fatalf("got %v answers, %v", len(outs), err)
			}
			got := map[string]int{}
			for name, spans := range byName(rec.exp.GetSpans()) {
				got[name] = len(spans)
			}
			if len(got) != len(tt.want) {
				t.Errorf("spans %v, want %v", got, tt.want)
			}
			for name, n := range tt.want {
				if got[name] != n {
					t.Errorf("%d spans %q, want %d (all: %v)", got[name], name, n, got)
				}
			}
			if tt.view == durableotel.InvocationView {
				bs := byName(rec.exp.GetSpans())["b"]
				if attr(bs[0], "durable.operation.status") != "STARTED" || attr(bs[0], "durable.attempt.number") != "" ||
					attr(bs[1], "durable.operation.status") != "SUCCEEDED" || attr(bs[1], "durable.attempt.number") != "2" {
					t.Errorf("b spans: %s", dump(bs))
				}
				if !bs[0].EndTime.Before(bs[1].StartTime) {
					t.Error("the STARTED span of b does not end before its terminal span starts")
				}
			}
		})
	}
}

// Each invocation may run in a different process: the ids a span is
// referred to by must not depend on anything but the execution.
func TestIDsAreDerivedFromTheExecution(t *testing.T) {
	api := fakeapi.New(`null`)
	exp := tracetest.NewInMemoryExporter()
	process := func() lambda.Handler { // a fresh provider and hooks, as a new Lambda sandbox has
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithIDGenerator(durableotel.IDGenerator{}))
		return durableHandler(api, threeSteps, durableotel.Hooks(durableotel.WithTracerProvider(tp), durableotel.WithView(durableotel.ExecutionView)))
	}
	if out, err := api.Invoke(context.Background(), process()); err != nil || out.Status != "PENDING" {
		t.Fatalf("first invocation: %+v %v", out, err)
	}
	api.Advance()
	if out, err := api.Invoke(context.Background(), process()); err != nil || out.Status != "SUCCEEDED" {
		t.Fatalf("second invocation: %+v %v", out, err)
	}
	spans := byName(exp.GetSpans())
	wf, b, attempt1, attempt2 := spans["Workflow"][0], spans["b"][0], spans["b attempt 1"][0], spans["b attempt 2"][0]
	tid := wf.SpanContext.TraceID()
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() != tid {
			t.Errorf("%s is in trace %s, not the execution's %s", s.Name, s.SpanContext.TraceID(), tid)
		}
	}
	if wf.Parent.IsValid() {
		t.Error("Workflow has a parent")
	}
	// Attempt 1 was emitted by the first process, its step and the Workflow by the second.
	if attempt1.Parent.SpanID() != b.SpanContext.SpanID() || attempt2.Parent.SpanID() != b.SpanContext.SpanID() {
		t.Errorf("attempts' parents %s %s, step %s", attempt1.Parent.SpanID(), attempt2.Parent.SpanID(), b.SpanContext.SpanID())
	}
	if b.Parent.SpanID() != wf.SpanContext.SpanID() || spans["a"][0].Parent.SpanID() != wf.SpanContext.SpanID() {
		t.Error("steps are not children of the Workflow span")
	}
	invs := spans["Invocation"]
	if attempt1.Links[0].SpanContext.SpanID() != invs[0].SpanContext.SpanID() || b.Links[0].SpanContext.SpanID() != invs[1].SpanContext.SpanID() {
		t.Error("links do not name the invocations the attempt ran in and the step completed in")
	}
	// The execution's trace begins with its start, as X-Ray's trace ids do.
	if got := tid.String()[:8]; got != "6955b900" { // 2026-01-01T00:00:00Z, the fake API's execution start
		t.Errorf("trace id %s does not begin with the execution start", tid)
	}

	// Another run of the same execution derives the same ids.
	rec := newRecorder()
	api2 := fakeapi.New(`null`)
	if _, err := api2.Run(context.Background(), durableHandler(api2, threeSteps, rec.hooks(durableotel.ExecutionView)), 5); err != nil {
		t.Fatal(err)
	}
	again := byName(rec.exp.GetSpans())
	for _, name := range []string{"Workflow", "a", "b", "c"} {
		if again[name][0].SpanContext.SpanID() != spans[name][0].SpanContext.SpanID() || again[name][0].SpanContext.TraceID() != tid {
			t.Errorf("%s: ids differ between runs of the execution", name)
		}
	}
}

func TestInvocationHangsOffTheAmbientSpan(t *testing.T) {
	const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	t.Run("X-Ray header", func(t *testing.T) {
		rec := newRecorder()
		api := fakeapi.New(`null`)
		//lint:ignore SA1029 aws-lambda-go's key for the trace header
		ctx := context.WithValue(context.Background(), "x-amzn-trace-id", header)
		if _, err := api.Invoke(ctx, durableHandler(api, threeSteps, rec.hooks(durableotel.InvocationView))); err != nil {
			t.Fatal(err)
		}
		spans := byName(rec.exp.GetSpans())
		inv := spans["Invocation"][0]
		if inv.SpanContext.TraceID().String() != "5759e988bd862e3fe1be46a994272793" || inv.Parent.SpanID().String() != "53995c3f42cd8ad8" {
			t.Errorf("Invocation in %s under %s", inv.SpanContext.TraceID(), inv.Parent.SpanID())
		}
		if a := spans["a"][0]; a.SpanContext.TraceID() != inv.SpanContext.TraceID() || a.Parent.SpanID() != inv.SpanContext.SpanID() {
			t.Error("the step is not a child of the Invocation span")
		}
	})
	t.Run("tracing middleware", func(t *testing.T) {
		rec := newRecorder()
		api := fakeapi.New(`null`)
		ctx, lambdaSpan := rec.tp.Tracer("lambda").Start(context.Background(), "lambda", trace.WithSpanKind(trace.SpanKindServer))
		//lint:ignore SA1029 aws-lambda-go's key for the trace header; the span in ctx wins over it
		ctx = context.WithValue(ctx, "x-amzn-trace-id", header)
		if _, err := api.Invoke(ctx, durableHandler(api, threeSteps, rec.hooks(durableotel.InvocationView))); err != nil {
			t.Fatal(err)
		}
		lambdaSpan.End()
		inv := byName(rec.exp.GetSpans())["Invocation"][0]
		if inv.Parent.SpanID() != lambdaSpan.SpanContext().SpanID() || inv.SpanContext.TraceID() != lambdaSpan.SpanContext().TraceID() {
			t.Error("the Invocation span is not a child of the span in the invocation's context")
		}
	})
	t.Run("none", func(t *testing.T) {
		rec := newRecorder()
		api := fakeapi.New(`null`)
		if _, err := api.Run(context.Background(), durableHandler(api, threeSteps, rec.hooks(durableotel.InvocationView)), 5); err != nil {
			t.Fatal(err)
		}
		spans := byName(rec.exp.GetSpans())
		wf := spans["Workflow"][0]
		for _, inv := range spans["Invocation"] {
			if inv.Parent.SpanID() != wf.SpanContext.SpanID() || inv.SpanContext.TraceID() != wf.SpanContext.TraceID() {
				t.Error("without an ambient span, the Invocation span is not under the Workflow span")
			}
		}
	})
}

func TestAttemptSpanIsTheParentOfUserSpans(t *testing.T) {
	for _, view := range []durableotel.View{durableotel.InvocationView, durableotel.ExecutionView} {
		t.Run(view.String(), func(t *testing.T) {
			rec := newRecorder()
			api := fakeapi.New(`null`)
			h := durableHandler(api, func(ctx context.Context, _ any) (string, error) {
				return durable.Step(ctx, "call", func(ctx context.Context) (string, error) {
					_, span := rec.tp.Tracer("http").Start(ctx, "GET /partner")
					span.End()
					return "ok", nil
				})
			}, rec.hooks(view))
			if _, err := api.Run(context.Background(), h, 3); err != nil {
				t.Fatal(err)
			}
			spans := byName(rec.exp.GetSpans())
			user, attempt := spans["GET /partner"][0], spans["call attempt 1"][0]
			if user.Parent.SpanID() != attempt.SpanContext.SpanID() || user.SpanContext.TraceID() != attempt.SpanContext.TraceID() {
				t.Errorf("user span under %s, attempt is %s", user.Parent.SpanID(), attempt.SpanContext.SpanID())
			}
		})
	}
}

func TestHookPanicsDoNotAffectTheExecutionOrTheSpans(t *testing.T) {
	var calls atomic.Int32
	boom := func(ctxstate.InvocationInfo) { calls.Add(1); panic("plugin bug") }
	opBoom := func(ctxstate.OperationInfo) { calls.Add(1); panic("plugin bug") }
	faulty := &ctxstate.Hooks{
		InvocationStart: boom, InvocationEnd: boom, OperationStart: opBoom, OperationEnd: opBoom,
		AttemptStart: opBoom, AttemptEnd: opBoom,
		AttemptContext: func(context.Context, ctxstate.OperationInfo) context.Context { calls.Add(1); panic("plugin bug") },
	}
	rec := newRecorder()
	api := fakeapi.New(`null`)
	outs, err := api.Run(context.Background(), durableHandler(api, threeSteps, faulty, rec.hooks(durableotel.InvocationView), faulty), 5)
	if err != nil || outs[len(outs)-1].Status != "SUCCEEDED" || *outs[len(outs)-1].Result != `"arecoveredc"` {
		t.Fatalf("got %+v, %v", outs, err)
	}
	if calls.Load() == 0 {
		t.Fatal("the faulty hooks were not called")
	}
	if n := len(byName(rec.exp.GetSpans())["Workflow"]); n != 1 {
		t.Errorf("%d Workflow spans after panicking hooks", n)
	}
}

// flushCounter is a provider that counts ForceFlush calls.
type flushCounter struct {
	*sdktrace.TracerProvider
	n atomic.Int32
}

func (f *flushCounter) ForceFlush(ctx context.Context) error {
	f.n.Add(1)
	return f.TracerProvider.ForceFlush(ctx)
}

func TestSpansAreFlushedBeforeTheInvocationAnswers(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := &flushCounter{TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithIDGenerator(durableotel.IDGenerator{}))}
	api := fakeapi.New(`null`)
	h := durableHandler(api, threeSteps, durableotel.Hooks(durableotel.WithTracerProvider(tp)))
	if _, err := api.Invoke(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	// A batching processor exports nothing by itself this soon.
	if tp.n.Load() != 1 || len(byName(exp.GetSpans())["Invocation"]) != 1 {
		t.Fatalf("%d flushes, spans %s", tp.n.Load(), dump(exp.GetSpans()))
	}
}

func TestWarnsWhenTheProviderLacksTheIDGenerator(t *testing.T) {
	var got atomic.Value
	prev := otelapi.GetErrorHandler()
	otelapi.SetErrorHandler(otelapi.ErrorHandlerFunc(func(err error) { got.Store(err) }))
	defer otelapi.SetErrorHandler(prev)

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	api := fakeapi.New(`null`)
	if _, err := api.Run(context.Background(), durableHandler(api, threeSteps, durableotel.Hooks(durableotel.WithTracerProvider(tp))), 5); err != nil {
		t.Fatal(err)
	}
	err, _ := got.Load().(error)
	if err == nil || !strings.Contains(err.Error(), "IDGenerator") {
		t.Fatalf("got %v", err)
	}
	if len(exp.GetSpans()) == 0 {
		t.Error("no spans")
	}
}

func TestGlobalProviderIsLookedUpAtEachInvocation(t *testing.T) {
	hooks := durableotel.Hooks() // built before the provider is set
	rec := newRecorder()
	prev := otelapi.GetTracerProvider()
	otelapi.SetTracerProvider(rec.tp)
	defer otelapi.SetTracerProvider(prev)
	api := fakeapi.New(`null`)
	if _, err := api.Run(context.Background(), durableHandler(api, threeSteps, hooks), 5); err != nil {
		t.Fatal(err)
	}
	if len(byName(rec.exp.GetSpans())["Workflow"]) != 1 {
		t.Fatal("the global provider got no Workflow span")
	}
}

func TestFailedExecutionStatuses(t *testing.T) {
	rec := newRecorder()
	api := fakeapi.New(`null`)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	h := durableHandler(api, func(ctx context.Context, _ any) (string, error) {
		return "", errors.New("no luck")
	}, rec.hooks(durableotel.InvocationView))
	out, err := api.Invoke(ctx, h)
	if err != nil || out.Status != "FAILED" {
		t.Fatalf("got %+v %v", out, err)
	}
	spans := byName(rec.exp.GetSpans())
	inv, wf := spans["Invocation"][0], spans["Workflow"][0]
	if inv.Status.Description != "no luck" || wf.Status.Description != "no luck" || attr(wf, "durable.execution.status") != "FAILED" {
		t.Errorf("statuses: %+v %+v", inv.Status, wf.Status)
	}
}

func TestViewString(t *testing.T) {
	if durableotel.InvocationView.String() != "invocation" || durableotel.ExecutionView.String() != "execution" || durableotel.View(7).String() != "View(7)" {
		t.Fatal("View.String")
	}
}
