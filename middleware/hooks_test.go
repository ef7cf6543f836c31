package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/smithy-go"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

// plugin records every hook call as a line, like the conformance suite's
// CONFPLUGIN.
type plugin struct {
	mu     sync.Mutex
	lines  []string
	invs   []ctxstate.InvocationInfo
	ops    []ctxstate.OperationInfo
	change []ctxstate.OperationChangeInfo
}

func (p *plugin) add(line string) {
	p.mu.Lock()
	p.lines = append(p.lines, line)
	p.mu.Unlock()
}

func (p *plugin) hooks() *ctxstate.Hooks {
	inv := func(name string) func(ctxstate.InvocationInfo) {
		return func(i ctxstate.InvocationInfo) {
			p.mu.Lock()
			p.invs = append(p.invs, i)
			p.mu.Unlock()
			p.add(fmt.Sprintf("%s first=%v status=%s", name, i.First, i.Status))
		}
	}
	op := func(name string) func(ctxstate.OperationInfo) {
		return func(o ctxstate.OperationInfo) {
			p.mu.Lock()
			p.ops = append(p.ops, o)
			p.mu.Unlock()
			line := fmt.Sprintf("%s %s %s parent=%s replay=%v", name, o.Name, o.Type, o.ParentID, o.Replaying)
			if strings.HasSuffix(name, "end") {
				line += fmt.Sprintf(" status=%s attempt=%d err=%v", o.Status, o.Attempt, o.Err != nil)
			} else if strings.HasPrefix(name, "attempt") {
				line += fmt.Sprintf(" attempt=%d", o.Attempt)
			}
			p.add(line)
		}
	}
	return &ctxstate.Hooks{
		InvocationStart: inv("invocation-start"), InvocationEnd: inv("invocation-end"),
		OperationStart: op("operation-start"), OperationEnd: op("operation-end"),
		AttemptStart: op("attempt-start"), AttemptEnd: op("attempt-end"),
		FunctionStart: op("fn-start"), FunctionEnd: op("fn-end"),
		OperationChange: func(c ctxstate.OperationChangeInfo) {
			p.mu.Lock()
			p.change = append(p.change, c)
			p.mu.Unlock()
		},
	}
}

func (p *plugin) log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lines)
}

func hooked[Out any](api *fakeapi.API, fn func(context.Context, any) (Out, error), hs ...*ctxstate.Hooks) lambda.Handler {
	return middleware.Wrap(adapters.Handler(fn), middleware.WithAPI(api), middleware.WithHooks(hs...))
}

var retryOnce = durable.WithRetry(durable.RetryPolicy{MaxAttempts: 2, InitialDelay: time.Second, Jitter: durable.NoJitter})

func greet(ctx context.Context, _ any) (string, error) {
	return durable.Step(ctx, "greet", func(context.Context) (string, error) { return "task-a", nil })
}

func TestHooksOfOneInvocation(t *testing.T) {
	var p plugin
	api := fakeapi.New(`null`)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	if _, err := api.Invoke(ctx, hooked(api, greet, p.hooks())); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"invocation-start first=true status=",
		"operation-start greet STEP parent= replay=false",
		"attempt-start greet STEP parent= replay=false attempt=1",
		"attempt-end greet STEP parent= replay=false status= attempt=1 err=false",
		"operation-end greet STEP parent= replay=false status=SUCCEEDED attempt=1 err=false",
		"invocation-end first=true status=SUCCEEDED",
	}
	if got := p.log(); !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	start, end := p.invs[0], p.invs[1]
	if start.RequestID != "req-1" || start.ExecutionARN != api.ARN() || start.ExecutionStart.IsZero() || start.Context == nil ||
		start.Operations != 0 || end.Operations != 1 || end.End.Before(end.Start) || end.Err != nil {
		t.Errorf("invocation infos %+v %+v", start, end)
	}
	opEnd := p.ops[3]
	if opEnd.ID != *api.Operation("greet").Id || opEnd.SubType != "Step" || opEnd.Start.IsZero() || opEnd.End.Before(opEnd.Start) {
		t.Errorf("operation-end info %+v", opEnd)
	}
	// The checkpoint response reported the step's success once, in the full map.
	var succeeded int
	for _, c := range p.change {
		for _, u := range c.Updated {
			if u.Name == "greet" && u.Status == "SUCCEEDED" {
				succeeded++
				if _, ok := c.Operations[u.ID]; !ok || c.ExecutionARN != api.ARN() || u.Attempt != 1 || u.Start.IsZero() || u.End.IsZero() || u.Result != `"task-a"` {
					t.Errorf("operation change %+v", c)
				}
			}
		}
	}
	if succeeded != 1 {
		t.Errorf("%d SUCCEEDED changes", succeeded)
	}
}

func TestHooksAcrossInvocations(t *testing.T) {
	var p plugin
	api := fakeapi.New(`null`)
	h := hooked(api, func(ctx context.Context, _ any) (string, error) {
		if _, err := greet(ctx, nil); err != nil {
			return "", err
		}
		return durable.Step(ctx, "flaky", func(ctx context.Context) (string, error) {
			if durable.StepAttempt(ctx) == 1 {
				return "", errors.New("transient")
			}
			return "ok", nil
		}, retryOnce)
	}, p.hooks())
	if _, err := api.Run(context.Background(), h, 3); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"invocation-start first=true status=",
		"operation-start greet STEP parent= replay=false",
		"attempt-start greet STEP parent= replay=false attempt=1",
		"attempt-end greet STEP parent= replay=false status= attempt=1 err=false",
		"operation-end greet STEP parent= replay=false status=SUCCEEDED attempt=1 err=false",
		"operation-start flaky STEP parent= replay=false",
		"attempt-start flaky STEP parent= replay=false attempt=1",
		"attempt-end flaky STEP parent= replay=false status= attempt=1 err=true",
		"operation-end flaky STEP parent= replay=false status=PENDING attempt=1 err=true",
		"invocation-end first=true status=PENDING",
		"invocation-start first=false status=",
		// greet is replayed: its end was reported by the first invocation.
		"operation-start greet STEP parent= replay=true",
		"operation-start flaky STEP parent= replay=true",
		"attempt-start flaky STEP parent= replay=false attempt=2",
		"attempt-end flaky STEP parent= replay=false status= attempt=2 err=false",
		"operation-end flaky STEP parent= replay=false status=SUCCEEDED attempt=2 err=false",
		"invocation-end first=false status=SUCCEEDED",
	}
	if got := p.log(); !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHooksOfChildContexts(t *testing.T) {
	var p plugin
	api := fakeapi.New(`null`)
	h := hooked(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Child(ctx, "ctx", func(ctx context.Context) (string, error) { return greet(ctx, nil) })
	}, p.hooks())
	if _, err := api.Invoke(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	ctxID := *api.Operation("ctx").Id
	want := []string{
		"invocation-start first=true status=",
		"operation-start ctx CONTEXT parent= replay=false",
		"fn-start ctx CONTEXT parent= replay=false",
		"operation-start greet STEP parent=" + ctxID + " replay=false",
		"attempt-start greet STEP parent=" + ctxID + " replay=false attempt=1",
		"attempt-end greet STEP parent=" + ctxID + " replay=false status= attempt=1 err=false",
		"operation-end greet STEP parent=" + ctxID + " replay=false status=SUCCEEDED attempt=1 err=false",
		"fn-end ctx CONTEXT parent= replay=false status= attempt=0 err=false",
		"operation-end ctx CONTEXT parent= replay=false status=SUCCEEDED attempt=0 err=false",
		"invocation-end first=true status=SUCCEEDED",
	}
	if got := p.log(); !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestInvocationEndStatuses(t *testing.T) {
	t.Run("FAILED", func(t *testing.T) {
		var p plugin
		api := fakeapi.New(`null`)
		h := hooked(api, func(ctx context.Context, _ any) (string, error) { return "", errors.New("no luck") }, p.hooks())
		if _, err := api.Invoke(context.Background(), h); err != nil {
			t.Fatal(err)
		}
		if end := p.invs[1]; end.Status != "FAILED" || end.Err == nil || end.Err.Error() != "no luck" {
			t.Fatalf("got %+v", end)
		}
	})
	t.Run("RETRY", func(t *testing.T) {
		var p plugin
		api := fakeapi.New(`null`)
		bad := rejecting{api, &smithy.GenericAPIError{Code: "InvalidParameterValueException", Message: "Invalid Checkpoint Token: stale"}}
		h := middleware.Wrap(adapters.Handler(greet), middleware.WithAPI(bad), middleware.WithHooks(p.hooks()))
		if _, err := h.Invoke(context.Background(), api.Envelope()); err == nil {
			t.Fatal("no invocation error")
		}
		if end := p.invs[1]; end.Status != "RETRY" || end.Err == nil {
			t.Fatalf("got %+v", end)
		}
	})
}

func TestPanickingHooksAreIsolated(t *testing.T) {
	var a, b plugin
	faulty := a.hooks()
	for _, f := range []*func(ctxstate.InvocationInfo){&faulty.InvocationStart, &faulty.InvocationEnd} {
		inner := *f
		*f = func(i ctxstate.InvocationInfo) { inner(i); panic("plugin bug") }
	}
	for _, f := range []*func(ctxstate.OperationInfo){&faulty.OperationStart, &faulty.OperationEnd, &faulty.AttemptStart, &faulty.AttemptEnd} {
		inner := *f
		*f = func(i ctxstate.OperationInfo) { inner(i); panic("plugin bug") }
	}
	var ctxCalls int
	faulty.AttemptContext = func(ctx context.Context, _ ctxstate.OperationInfo) context.Context { ctxCalls++; panic("plugin bug") }
	type key struct{}
	marking := &ctxstate.Hooks{AttemptContext: func(ctx context.Context, _ ctxstate.OperationInfo) context.Context {
		return context.WithValue(ctx, key{}, "marked")
	}}
	api := fakeapi.New(`null`)
	var seen any
	h := hooked(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Step(ctx, "greet", func(ctx context.Context) (string, error) {
			seen = ctx.Value(key{})
			return "task-a", nil
		})
	}, faulty, marking, b.hooks())
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "SUCCEEDED" || *out.Result != `"task-a"` {
		t.Fatalf("got %+v %v", out, err)
	}
	if !slices.Equal(a.log(), b.log()) || len(b.log()) != 6 || ctxCalls != 1 || seen != "marked" {
		t.Fatalf("a %v\nb %v\nctx calls %d, seen %v", a.log(), b.log(), ctxCalls, seen)
	}
}
