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

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

func TestGoRunsBranchesConcurrentlyWithDeterministicIDs(t *testing.T) {
	api := fakeapi.New(`null`)
	var calls atomic.Int32
	h := wrap(api, func(ctx context.Context, _ any) ([]string, error) {
		slow := durable.Go(ctx, "slow", func(ctx context.Context) (string, error) {
			return durable.Step(ctx, "s", func(context.Context) (string, error) {
				calls.Add(1)
				time.Sleep(20 * time.Millisecond)
				return "slow", nil
			})
		})
		fast := durable.Go(ctx, "fast", func(ctx context.Context) (string, error) {
			return durable.Step(ctx, "f", func(context.Context) (string, error) {
				calls.Add(1)
				return "fast", nil
			})
		})
		// The handler's own context is free while the branches run.
		mine, err := durable.Step(ctx, "mine", func(context.Context) (string, error) {
			calls.Add(1)
			return "mine", nil
		})
		if err != nil {
			return nil, err
		}
		both, err := durable.All(ctx, slow, fast)
		return append(both, mine), err
	})
	if got := invokeOK(t, api, h); got != `["slow","fast","mine"]` {
		t.Fatalf("result %s", got)
	}
	want := map[string]struct{ id, parent, subType string }{
		"slow": {ctxstate.WireID("1"), "", "RunInChildContext"},
		"fast": {ctxstate.WireID("2"), "", "RunInChildContext"},
		"mine": {ctxstate.WireID("3"), "", "Step"},
		"s":    {ctxstate.WireID("1-1"), ctxstate.WireID("1"), "Step"},
		"f":    {ctxstate.WireID("2-1"), ctxstate.WireID("2"), "Step"},
	}
	for name, w := range want {
		op := api.Operation(name)
		if op == nil || deref(op.Id) != w.id || (w.parent != "" && deref(op.ParentId) != w.parent) ||
			deref(op.SubType) != w.subType || op.Status != types.OperationStatusSucceeded {
			t.Fatalf("operation %s: %+v", name, op)
		}
	}
	if got := invokeOK(t, api, h); got != `["slow","fast","mine"]` || calls.Load() != 3 {
		t.Fatalf("replay %s after %d calls", got, calls.Load())
	}
}

func TestAllReturnsTheFirstErrorInArgumentOrder(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		first := durable.Go(ctx, "first", func(ctx context.Context) (int, error) {
			time.Sleep(20 * time.Millisecond)
			return 0, errors.New("first failed")
		})
		second := durable.Go(ctx, "second", func(ctx context.Context) (int, error) {
			return 0, errors.New("second failed")
		})
		_, err := durable.All(ctx, first, second)
		var ce *durable.ChildError
		if !errors.As(err, &ce) || ce.Name != "first" || ce.ErrorMessage != "first failed" {
			return "", fmt.Errorf("All returned %v", err)
		}
		outs, err := durable.AllSettled(ctx, first, second)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%v|%v", outs[0].Err.(*durable.ChildError).ErrorMessage, outs[1].Err.(*durable.ChildError).ErrorMessage), nil
	})
	for range 2 {
		if got := invokeOK(t, api, h); got != `"first failed|second failed"` {
			t.Fatalf("result %s", got)
		}
	}
}

func TestRaceAndAnyRecordTheWinner(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		// Blocked branches finish only once Race and Any have returned.
		release := make(chan struct{})
		defer close(release)
		branch := func(name string, blocked, fail bool) *durable.Future[string] {
			return durable.Go(ctx, name, func(ctx context.Context) (string, error) {
				if blocked {
					<-release
				}
				if fail {
					return "", errors.New(name + " failed")
				}
				return name, nil
			})
		}
		raced, err := durable.Race(ctx, "race", branch("slow", true, false), branch("quick-fail", false, true))
		var ce *durable.ChildError
		if !errors.As(err, &ce) || raced != "" {
			return "", fmt.Errorf("race: %q %v", raced, err)
		}
		won, err := durable.Any(ctx, "any", branch("a", true, false), branch("b", false, true), branch("c", false, false))
		if err != nil {
			return "", err
		}
		_, err = durable.Any(ctx, "none", branch("x", false, true), branch("y", false, true))
		var be *durable.BatchError
		if !errors.As(err, &be) || len(be.Errs) != 2 || !strings.Contains(err.Error(), `any "none": 2 of 2 failed`) {
			return "", fmt.Errorf("any of failures: %v", err)
		}
		return ce.Name + "|" + won, nil
	})
	if got := invokeOK(t, api, h); got != `"quick-fail|c"` {
		t.Fatalf("result %s", got)
	}
	for _, name := range []string{"race", "any"} {
		if op := api.Operation(name); op == nil || op.Type != types.OperationTypeStep || op.Status != types.OperationStatusSucceeded {
			t.Fatalf("%s not recorded: %+v", name, op)
		}
	}
	if p := deref(api.Operation("any").StepDetails.Result); p != "2" {
		t.Fatalf("any recorded %s", p)
	}
	// On replay every branch is recorded, the blocked ones too, and
	// settles at once, in any order; the recorded winners still win.
	for _, name := range []string{"slow", "a"} {
		if op := api.Operation(name); op == nil || op.Status != types.OperationStatusSucceeded {
			t.Fatalf("branch %s: %+v", name, op)
		}
	}
	for range 5 {
		if got := invokeOK(t, api, h); got != `"quick-fail|c"` {
			t.Fatalf("replay %s", got)
		}
	}
}

func TestGoBranchSuspensionSettlesBeforePending(t *testing.T) {
	before := runtime.NumGoroutine()
	api := fakeapi.New(`null`)
	var slowDone atomic.Bool
	h := wrap(api, func(ctx context.Context, _ any) ([]string, error) {
		flaky := durable.Go(ctx, "flaky", func(ctx context.Context) (string, error) {
			return durable.Step(ctx, "call", func(ctx context.Context) (string, error) {
				if durable.StepAttempt(ctx) == 1 {
					return "", errors.New("not yet")
				}
				return "flaky", nil
			}, durable.WithRetry(durable.RetryPolicy{MaxAttempts: 2, InitialDelay: time.Second, Jitter: durable.NoJitter}))
		})
		slow := durable.Go(ctx, "slow", func(ctx context.Context) (string, error) {
			return durable.Step(ctx, "work", func(ctx context.Context) (string, error) {
				time.Sleep(30 * time.Millisecond)
				slowDone.Store(true)
				return "slow", nil
			})
		})
		return durable.All(ctx, flaky, slow)
	})
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "PENDING" {
		t.Fatalf("first invocation %+v %v", out, err)
	}
	if !slowDone.Load() {
		t.Fatal("PENDING was answered before the running branch settled")
	}
	if op := api.Operation("work"); op == nil || op.Status != types.OperationStatusSucceeded {
		t.Fatalf("the step that finished during suspension was not recorded: %+v", op)
	}
	waitGoroutines(t, before)
	api.Advance()
	if got := invokeOK(t, api, h); got != `["flaky","slow"]` {
		t.Fatalf("second invocation %s", got)
	}
	waitGoroutines(t, before)
}

func TestGoBranchesShareCheckpointCalls(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (int, error) {
		var fs []*durable.Future[int]
		for i := range 8 {
			fs = append(fs, durable.Go(ctx, fmt.Sprint("b", i), func(ctx context.Context) (int, error) {
				return durable.Step(ctx, "s", func(context.Context) (int, error) { return i, nil })
			}))
		}
		vs, err := durable.All(ctx, fs...)
		sum := 0
		for _, v := range vs {
			sum += v
		}
		return sum, err
	}, middleware.WithLinger(250*time.Millisecond))
	if got := invokeOK(t, api, h); got != "28" {
		t.Fatalf("result %s", got)
	}
	// The eight awaited SUCCEEDs leave together; the branches' own
	// SUCCEEDs leave when the invocation ends.
	if n := len(api.Calls()); n != 2 {
		t.Fatalf("%d checkpoint calls for 8 concurrent quick steps, want 2", n)
	}
}

func TestGoMisuse(t *testing.T) {
	if _, err := durable.Go(context.Background(), "x", func(context.Context) (int, error) { return 1, nil }).Await(context.Background()); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatalf("without an execution: %v", err)
	}
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		_, err := durable.Step(ctx, "outer", func(sctx context.Context) (int, error) {
			return durable.Go(sctx, "inner", func(context.Context) (int, error) { return 1, nil }).Await(sctx)
		}, durable.WithRetry(durable.NoRetry))
		if !errors.Is(err, durable.ErrOperationInStep) {
			return "", fmt.Errorf("Go in a step: %v", err)
		}
		block := make(chan struct{})
		f := durable.Go(ctx, "blocked", func(context.Context) (int, error) {
			<-block
			return 1, nil
		})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := f.Await(cctx); !errors.Is(err, context.Canceled) {
			return "", fmt.Errorf("Await with a cancelled ctx: %v", err)
		}
		close(block)
		if v, err := f.Await(ctx); v != 1 || err != nil {
			return "", fmt.Errorf("Await after the branch returned: %v %v", v, err)
		}
		// A branch using the handler's context instead of its own, while
		// the handler runs an operation, gets ErrConcurrentOperation.
		holding, attempted := make(chan struct{}), make(chan error, 1)
		wrong := durable.Go(ctx, "wrong", func(context.Context) (int, error) {
			<-holding
			_, err := durable.Step(ctx, "s", func(context.Context) (int, error) { return 1, nil })
			attempted <- err
			return 0, err
		})
		if _, err := durable.Step(ctx, "hold", func(context.Context) (int, error) {
			close(holding)
			return 0, <-attempted
		}, durable.WithRetry(durable.NoRetry)); !errors.Is(err, durable.ErrConcurrentOperation) {
			return "", fmt.Errorf("a branch on the parent context: %v", err)
		}
		if _, err := wrong.Await(ctx); !errors.Is(err, durable.ErrConcurrentOperation) {
			return "", fmt.Errorf("the branch: %v", err)
		}
		return "ok", nil
	})
	invokeOK(t, api, h)
}
