package durable_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/checkpointer"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

type order struct {
	ID    string `json:"id"`
	Items int    `json:"items"`
}

type receipt struct {
	OrderID string `json:"orderId"`
	Total   int    `json:"total"`
}

func wrap[In, Out any](api *fakeapi.API, fn func(context.Context, In) (Out, error), opts ...middleware.Option) lambda.Handler {
	return middleware.Wrap(adapters.Handler(fn), append([]middleware.Option{middleware.WithAPI(api)}, opts...)...)
}

func TestStepRunsThenReplaysWithoutCallingFunctions(t *testing.T) {
	api := fakeapi.New(`{"id":"o-1","items":3}`)
	var calls atomic.Int32
	h := wrap(api, func(ctx context.Context, o order) (receipt, error) {
		price, err := durable.Step(ctx, "price", func(ctx context.Context) (int, error) {
			calls.Add(1)
			return 10 * o.Items, nil
		})
		if err != nil {
			return receipt{}, err
		}
		id, err := durable.Step(ctx, "charge", func(ctx context.Context) (string, error) {
			calls.Add(1)
			return "ch-" + o.ID, nil
		})
		if err != nil {
			return receipt{}, err
		}
		return receipt{OrderID: id, Total: price}, nil
	})
	out, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "SUCCEEDED" || out.Result == nil || *out.Result != `{"orderId":"ch-o-1","total":30}` {
		t.Fatalf("first invocation: got %+v (result %v)", out, deref(out.Result))
	}
	if calls.Load() != 2 {
		t.Fatalf("step functions ran %d times, want 2", calls.Load())
	}
	// The same recorded operations again: same answer, no step function runs.
	out2, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out2.Status != "SUCCEEDED" || *out2.Result != *out.Result {
		t.Fatalf("replay: got %+v", out2)
	}
	if calls.Load() != 2 {
		t.Fatalf("replay ran step functions: %d calls", calls.Load())
	}
	ups := api.Updates()
	if len(ups) != 4 {
		t.Fatalf("got %d updates, want START+SUCCEED for two steps", len(ups))
	}
	for i, want := range []types.OperationAction{"START", "SUCCEED", "START", "SUCCEED"} {
		u := ups[i]
		if u.Action != want || u.Type != types.OperationTypeStep || deref(u.SubType) != "Step" || u.ParentId != nil {
			t.Errorf("update %d: %s %s %s parent %v", i, u.Action, u.Type, deref(u.SubType), u.ParentId)
		}
	}
	if got := deref(ups[0].Id); got != "c4ca4238a0b92382" {
		t.Errorf("first step id %q, want the hash of position 1", got)
	}
	if got := deref(ups[1].Payload); got != "30" {
		t.Errorf("price payload %q", got)
	}
}

type ctxKey struct{}

func reserveDeep(ctx context.Context, depth int) (string, error) {
	if depth > 0 {
		switch depth % 3 {
		case 0:
			ctx = context.WithValue(ctx, ctxKey{}, depth)
		case 1:
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Minute)
			defer cancel()
		case 2:
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
		}
		return reserveDeep(ctx, depth-1)
	}
	return durable.Step(ctx, "deep", func(ctx context.Context) (string, error) {
		return fmt.Sprint("value=", ctx.Value(ctxKey{})), nil
	})
}

func TestStepThreeCallsDeepThroughDerivedContexts(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) { return reserveDeep(ctx, 3) })
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "SUCCEEDED" || *out.Result != `"value=3"` {
		t.Fatalf("got %+v, %v", out, err)
	}
	if op := api.Operation("deep"); op == nil || op.Status != types.OperationStatusSucceeded || op.ParentId != nil {
		t.Fatalf("deep step not recorded at the root: %+v", op)
	}
}

func TestStepThreeCallsDeepInsideAChildIsRecordedUnderIt(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		if _, err := durable.Step(ctx, "first", func(context.Context) (int, error) { return 1, nil }); err != nil {
			return "", err
		}
		return durable.Child(ctx, "group", func(ctx context.Context) (string, error) {
			ctx, cancel := context.WithCancel(context.WithValue(ctx, ctxKey{}, "in-child"))
			defer cancel()
			return reserveDeep(ctx, 3)
		})
	})
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "SUCCEEDED" {
		t.Fatalf("got %+v, %v", out, err)
	}
	group, deep := api.Operation("group"), api.Operation("deep")
	if group == nil || deep == nil || deep.ParentId == nil || *deep.ParentId != *group.Id {
		t.Fatalf("deep step %+v not recorded under the child context %+v", deep, group)
	}
	if *deep.Id != ctxstate.WireID("2-1") || *group.Id != ctxstate.WireID("2") {
		t.Fatalf("ids: group %s deep %s", *group.Id, *deep.Id)
	}
}

func TestRenamedStepFailsWithNonDeterminism(t *testing.T) {
	api := fakeapi.New(`null`)
	name := "reserve"
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Step(ctx, name, func(ctx context.Context) (string, error) {
			return "", errors.New("not yet")
		}, durable.WithRetry(durable.RetryPolicy{MaxAttempts: 3, InitialDelay: time.Second, Jitter: durable.NoJitter}))
	})
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "PENDING" {
		t.Fatalf("first invocation: %+v %v", out, err)
	}
	api.Advance()
	name = "reserve-v2"
	out, err = api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "FAILED" || out.Error == nil {
		t.Fatalf("got %+v, want FAILED", out)
	}
	msg := deref(out.Error.ErrorMessage)
	if !strings.Contains(msg, `"reserve"`) || !strings.Contains(msg, `"reserve-v2"`) || !strings.Contains(msg, "non-deterministic") {
		t.Fatalf("message does not name both steps: %s", msg)
	}
	if deref(out.Error.ErrorType) != "ctxstate.NonDeterminismError" {
		t.Errorf("error type %q", deref(out.Error.ErrorType))
	}
}

func TestSyncModeQuickStepsCostOneCallEach(t *testing.T) {
	api := fakeapi.New(`null`)
	const n = 20
	h := wrap(api, func(ctx context.Context, _ any) (int, error) {
		sum := 0
		for i := range n {
			v, err := durable.Step(ctx, fmt.Sprint("s", i), func(context.Context) (int, error) { return i, nil })
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	}, middleware.WithLinger(50*time.Millisecond))
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "SUCCEEDED" {
		t.Fatalf("%+v %v", out, err)
	}
	calls := api.Calls()
	if len(calls) != n {
		t.Fatalf("%d quick steps made %d checkpoint calls, want %d", n, len(calls), n)
	}
	for i, c := range calls {
		if len(c.Updates) != 2 || c.Updates[0].Action != "START" || c.Updates[1].Action != "SUCCEED" {
			t.Fatalf("call %d carries %v, want START and SUCCEED together", i, actions(c.Updates))
		}
	}
}

func TestSyncModeLongStepStartIsRecordedWhileItRuns(t *testing.T) {
	api := fakeapi.New(`null`)
	var startSeen bool
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Step(ctx, "slow", func(ctx context.Context) (string, error) {
			time.Sleep(50 * time.Millisecond)
			for _, u := range api.Updates() {
				if deref(u.Name) == "slow" && u.Action == types.OperationActionStart {
					startSeen = true
				}
			}
			return "done", nil
		})
	}, middleware.WithLinger(5*time.Millisecond))
	if out, err := api.Invoke(context.Background(), h); err != nil || out.Status != "SUCCEEDED" {
		t.Fatalf("%+v %v", out, err)
	}
	if !startSeen {
		t.Fatal("the START of a 50 ms step was not recorded before the step returned")
	}
}

func TestPipelinedModeBatchesSteps(t *testing.T) {
	api := fakeapi.New(`null`)
	api.Latency = 2 * time.Millisecond
	h := wrap(api, func(ctx context.Context, _ any) (int, error) {
		for i := range 100 {
			if _, err := durable.Step(ctx, "", func(context.Context) (int, error) { return i, nil }); err != nil {
				return 0, err
			}
		}
		return 100, nil
	}, middleware.WithCheckpointMode(checkpointer.Pipelined))
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "SUCCEEDED" {
		t.Fatalf("%+v %v", out, err)
	}
	if got := len(api.Calls()); got > 10 {
		t.Fatalf("100 pipelined steps made %d calls, want at most 10", got)
	}
	if got := len(api.Updates()); got != 200 {
		t.Fatalf("%d updates, want 200", got)
	}
	for _, op := range api.Operations()[1:] {
		if op.Status != types.OperationStatusSucceeded {
			t.Fatalf("step %s is %s after the invocation answered", deref(op.Id), op.Status)
		}
	}
}

func TestAtMostOnceStartIsDurableBeforeTheFunctionRuns(t *testing.T) {
	api := fakeapi.New(`null`)
	var durableBefore bool
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Step(ctx, "charge", func(ctx context.Context) (string, error) {
			op := api.Operation("charge")
			durableBefore = op != nil && op.Status == types.OperationStatusStarted
			return "ok", nil
		}, durable.AtMostOnce())
	}, middleware.WithLinger(time.Second))
	if out, err := api.Invoke(context.Background(), h); err != nil || out.Status != "SUCCEEDED" {
		t.Fatalf("%+v %v", out, err)
	}
	if !durableBefore {
		t.Fatal("the at-most-once step ran before its START was durable")
	}
}

func TestAtMostOnceInterruptedStepGoesToTheRetryPolicy(t *testing.T) {
	api := fakeapi.New(`null`)
	var runs atomic.Int32
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Step(ctx, "charge", func(ctx context.Context) (string, error) {
			runs.Add(1)
			return "ok", nil
		}, durable.AtMostOnce(), durable.WithRetry(durable.NoRetry))
	})
	// A previous invocation recorded START and crashed.
	api.Record(types.OperationUpdate{Id: strp("c4ca4238a0b92382"), Type: types.OperationTypeStep, SubType: strp("Step"), Name: strp("charge"), Action: types.OperationActionStart})
	out, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "FAILED" || !strings.Contains(deref(out.Error.ErrorMessage), "interrupted") {
		t.Fatalf("got %+v, want FAILED with an interrupted step", out)
	}
	if runs.Load() != 0 {
		t.Fatal("an interrupted at-most-once step ran again")
	}
	if op := api.Operation("charge"); op.Status != types.OperationStatusFailed {
		t.Fatalf("step is %s, want FAILED", op.Status)
	}
}

func TestRetriedStepSucceedsOnThirdAttempt(t *testing.T) {
	api := fakeapi.New(`null`)
	var attempts []int
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Step(ctx, "flaky", func(ctx context.Context) (string, error) {
			attempts = append(attempts, durable.StepAttempt(ctx))
			if durable.StepAttempt(ctx) < 3 {
				return "", fmt.Errorf("attempt %d failed", durable.StepAttempt(ctx))
			}
			return "ok", nil
		}, durable.WithRetry(durable.RetryPolicy{MaxAttempts: 5, InitialDelay: time.Second, Jitter: durable.NoJitter}))
	})
	outs, err := api.Run(context.Background(), h, 10)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, o := range outs {
		statuses = append(statuses, o.Status)
	}
	if strings.Join(statuses, ",") != "PENDING,PENDING,SUCCEEDED" {
		t.Fatalf("answers %v", statuses)
	}
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Fatalf("attempts %v", attempts)
	}
	var retries int
	for _, u := range api.Updates() {
		if u.Action == types.OperationActionRetry {
			retries++
			if u.StepOptions == nil || *u.StepOptions.NextAttemptDelaySeconds != 1 || u.Error == nil {
				t.Fatalf("RETRY update %+v", u)
			}
		}
	}
	if retries != 2 {
		t.Fatalf("%d RETRY updates, want 2", retries)
	}
	if got := fmt.Sprint(actions(api.Updates())); got != "[START RETRY START RETRY START SUCCEED]" {
		t.Fatalf("updates %s", got)
	}
}

func TestStepWithoutExecution(t *testing.T) {
	_, err := durable.Step(context.Background(), "x", func(context.Context) (int, error) { return 1, nil })
	if !errors.Is(err, durable.ErrNoExecution) || !strings.Contains(err.Error(), "middleware.Durable") {
		t.Fatalf("got %v", err)
	}
}

func TestStepMisuse(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		_, inner := durable.Step(ctx, "outer", func(sctx context.Context) (int, error) {
			_, err := durable.Step(sctx, "inner", func(context.Context) (int, error) { return 1, nil })
			if !errors.Is(err, durable.ErrOperationInStep) {
				return 0, fmt.Errorf("nested step: %v", err)
			}
			// The handler's ctx is busy with "outer": a second operation on it is a misuse.
			_, err = durable.Step(ctx, "sibling", func(context.Context) (int, error) { return 1, nil })
			if !errors.Is(err, durable.ErrConcurrentOperation) || !strings.Contains(err.Error(), "durable.Go") {
				return 0, fmt.Errorf("concurrent step: %v", err)
			}
			return 1, nil
		}, durable.WithRetry(durable.NoRetry))
		if inner != nil {
			return "", inner
		}
		return "ok", nil
	})
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "SUCCEEDED" {
		t.Fatalf("%+v %v %s", out, err, errMsg(out))
	}
}

type declinedError struct {
	Code   string `json:"code"`
	Amount int    `json:"amount"`
}

func (e *declinedError) Error() string {
	return fmt.Sprintf("card declined (%s) for %d", e.Code, e.Amount)
}

func init() { durable.RegisterError[*declinedError]() }

func TestStepErrorsAreTypedOnEveryInvocation(t *testing.T) {
	api := fakeapi.New(`null`)
	var seen []string
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		_, err := durable.Step(ctx, "charge", func(ctx context.Context) (string, error) {
			return "", &declinedError{Code: "insufficient_funds", Amount: 42}
		}, durable.WithRetry(durable.NoRetry))
		var se *durable.StepError
		var de *declinedError
		if !errors.As(err, &se) || !errors.As(err, &de) {
			return "", fmt.Errorf("unexpected error %T %v", err, err)
		}
		seen = append(seen, fmt.Sprintf("%s|%s|%d|%d", se.ErrorType, de.Code, de.Amount, se.Attempt))
		return "handled", nil
	})
	for range 2 {
		if out, err := api.Invoke(context.Background(), h); err != nil || out.Status != "SUCCEEDED" {
			t.Fatalf("%+v %v %s", out, err, errMsg(out))
		}
	}
	want := "durable_test.declinedError|insufficient_funds|42|1"
	if len(seen) != 2 || seen[0] != want || seen[1] != want {
		t.Fatalf("live and replayed errors differ: %q", seen)
	}
}

func TestPanicInStepIsAFailedAttempt(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Step(ctx, "boom", func(ctx context.Context) (string, error) {
			var items []string
			return items[len(items)], nil // panics: index out of range
		}, durable.WithRetry(durable.NoRetry))
	})
	out, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "FAILED" {
		t.Fatalf("got %+v", out)
	}
	op := api.Operation("boom")
	e := op.StepDetails.Error
	if deref(e.ErrorType) != "durable.PanicError" || !strings.Contains(deref(e.ErrorMessage), "index out of range") || len(e.StackTrace) < 3 {
		t.Fatalf("recorded error %s %s with %d stack lines", deref(e.ErrorType), deref(e.ErrorMessage), len(e.StackTrace))
	}
}

func TestNoGoroutineSurvivesInvocations(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := range 1000 {
		api := fakeapi.New(`null`)
		h := wrap(api, func(ctx context.Context, _ any) (int, error) {
			return durable.Step(ctx, "s", func(context.Context) (int, error) { return i, nil })
		}, middleware.WithCheckpointMode(checkpointer.Mode(i%2)))
		if out, err := api.Invoke(context.Background(), h); err != nil || out.Status != "SUCCEEDED" {
			t.Fatalf("%+v %v", out, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after 1000 invocations, %d before", n, before)
	}
}

func actions(us []types.OperationUpdate) []types.OperationAction {
	out := make([]types.OperationAction, len(us))
	for i, u := range us {
		out[i] = u.Action
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func strp(s string) *string { return &s }

func errMsg(o fakeapi.Output) string {
	if o.Error == nil {
		return ""
	}
	return deref(o.Error.ErrorType) + ": " + deref(o.Error.ErrorMessage)
}
