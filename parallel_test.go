package durable_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/internal/fakeapi"
)

func stepBranch(name, result string, calls *atomic.Int32) durable.Branch[string] {
	return durable.Branch[string]{Fn: func(ctx context.Context) (string, error) {
		return durable.Step(ctx, name, func(context.Context) (string, error) {
			calls.Add(1)
			return result, nil
		})
	}}
}

func TestParallelRunsBranchesInOrderAsConformance8_1(t *testing.T) {
	api := fakeapi.New(`null`)
	var calls atomic.Int32
	h := wrap(api, func(ctx context.Context, _ any) ([]string, error) {
		r, err := durable.Parallel(ctx, "parallel", []durable.Branch[string]{
			stepBranch("task", "task-1", &calls),
			stepBranch("task", "task-2", &calls),
		}, durable.WithMaxConcurrency(1))
		if err != nil {
			return nil, err
		}
		return r.Values(), r.Err()
	})
	if got := invokeOK(t, api, h); got != `["task-1","task-2"]` {
		t.Fatalf("result %s", got)
	}
	assertHistory(t, api,
		"CONTEXT/Parallel START",
		"CONTEXT/ParallelBranch START ^0",
		"STEP/Step START ^1",
		"STEP/Step SUCCEED ^1",
		"CONTEXT/ParallelBranch SUCCEED ^0",
		"CONTEXT/ParallelBranch START ^0",
		"STEP/Step START ^5",
		"STEP/Step SUCCEED ^5",
		"CONTEXT/ParallelBranch SUCCEED ^0",
		"CONTEXT/Parallel SUCCEED",
	)
	ups := api.Updates()
	if p := deref(ups[8].Payload); p != `"task-2"` {
		t.Errorf("branch payload %s", p)
	}
	if p := deref(ups[9].Payload); !strings.Contains(p, `"type":"ParallelResult"`) {
		t.Errorf("parallel payload %s", p)
	}
	if got := invokeOK(t, api, h); got != `["task-1","task-2"]` || calls.Load() != 2 || len(api.Updates()) != 10 {
		t.Fatalf("replay %s: %d calls, %d updates", got, calls.Load(), len(api.Updates()))
	}
}

func TestParallelNamedAndHeterogeneousBranches(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) ([]any, error) {
		r, err := durable.Parallel(ctx, "hetero", []durable.Branch[any]{
			{Name: "first", Fn: func(context.Context) (any, error) { return "hello", nil }},
			{Name: "second", Fn: func(context.Context) (any, error) { return 42, nil }},
			{Fn: func(context.Context) (any, error) { return map[string]string{"k": "v"}, nil }},
		}, durable.WithMaxConcurrency(1))
		if err != nil {
			return nil, err
		}
		return r.Values(), nil
	})
	if got := invokeOK(t, api, h); got != `["hello",42,{"k":"v"}]` {
		t.Fatalf("result %s", got)
	}
	for name, payload := range map[string]string{"first": `"hello"`, "second": "42"} {
		op := api.Operation(name)
		if op == nil || deref(op.SubType) != "ParallelBranch" || deref(op.ContextDetails.Result) != payload {
			t.Fatalf("branch %s: %+v", name, op)
		}
	}
	if got := invokeOK(t, api, h); got != `["hello",42,{"k":"v"}]` {
		t.Fatalf("replayed %s", got)
	}
}

func TestNestedParallelAsConformance8_21(t *testing.T) {
	api := fakeapi.New(`null`)
	var calls atomic.Int32
	h := wrap(api, func(ctx context.Context, _ any) ([][]string, error) {
		r, err := durable.Parallel(ctx, "outer", []durable.Branch[[]string]{{Fn: func(ctx context.Context) ([]string, error) {
			inner, err := durable.Parallel(ctx, "inner", []durable.Branch[string]{
				stepBranch("s", "i1", &calls),
				stepBranch("s", "i2", &calls),
			}, durable.WithMaxConcurrency(1))
			if err != nil {
				return nil, err
			}
			return inner.Values(), nil
		}}}, durable.WithMaxConcurrency(1))
		if err != nil {
			return nil, err
		}
		return r.Values(), nil
	})
	if got := invokeOK(t, api, h); got != `[["i1","i2"]]` {
		t.Fatalf("result %s", got)
	}
	assertHistory(t, api,
		"CONTEXT/Parallel START",
		"CONTEXT/ParallelBranch START ^0",
		"CONTEXT/Parallel START ^1",
		"CONTEXT/ParallelBranch START ^2",
		"STEP/Step START ^3",
		"STEP/Step SUCCEED ^3",
		"CONTEXT/ParallelBranch SUCCEED ^2",
		"CONTEXT/ParallelBranch START ^2",
		"STEP/Step START ^7",
		"STEP/Step SUCCEED ^7",
		"CONTEXT/ParallelBranch SUCCEED ^2",
		"CONTEXT/Parallel SUCCEED ^1",
		"CONTEXT/ParallelBranch SUCCEED ^0",
		"CONTEXT/Parallel SUCCEED",
	)
}

func TestParallelAccessorsAsConformance8_20(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		ok := func(context.Context) (int, error) { return 1, nil }
		r, err := durable.Parallel(ctx, "accessors", []durable.Branch[int]{
			{Fn: ok},
			{Fn: func(context.Context) (int, error) { return 0, errors.New("boom") }},
			{Fn: ok},
		}, durable.WithMaxConcurrency(1), durable.WithToleratedFailures(1))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("hasFailure=%v succeeded=%d failed=%d errors=%d started=%d status=%s",
			r.HasFailure(), len(r.Succeeded()), len(r.Failed()), len(r.Errors()), len(r.Started()), r.Status()), nil
	})
	if got := invokeOK(t, api, h); got != `"hasFailure=true succeeded=2 failed=1 errors=1 started=0 status=FAILED"` {
		t.Fatalf("result %s", got)
	}
	assertHistory(t, api,
		"CONTEXT/Parallel START",
		"CONTEXT/ParallelBranch START ^0",
		"CONTEXT/ParallelBranch SUCCEED ^0",
		"CONTEXT/ParallelBranch START ^0",
		"CONTEXT/ParallelBranch FAIL ^0",
		"CONTEXT/ParallelBranch START ^0",
		"CONTEXT/ParallelBranch SUCCEED ^0",
		"CONTEXT/Parallel SUCCEED",
	)
	if e := api.Updates()[4].Error; e == nil || deref(e.ErrorMessage) != "boom" || deref(e.ErrorType) != "errors.errorString" {
		t.Fatalf("branch error %+v", e)
	}
}

func TestParallelMisuse(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		if _, err := durable.Parallel(ctx, "p", []durable.Branch[int]{{Name: "nil"}}); err == nil || !strings.Contains(err.Error(), "nil function") {
			return "", fmt.Errorf("nil branch: %v", err)
		}
		if _, err := durable.Parallel(ctx, "p", []durable.Branch[int]{{Name: "bad\x01name", Fn: func(context.Context) (int, error) { return 0, nil }}}); err == nil {
			return "", errors.New("a branch name with a control character was accepted")
		}
		if _, err := durable.Parallel[int](ctx, "p", nil, durable.WithMaxConcurrency(0)); err == nil {
			return "", errors.New("max concurrency 0 was accepted")
		}
		// A branch that panics fails like a step whose function panics.
		r, err := durable.Parallel(ctx, "p", []durable.Branch[int]{{Fn: func(context.Context) (int, error) { panic("oops") }}})
		if err != nil {
			return "", err
		}
		var pe *durable.PanicError
		if !errors.As(r.Err(), &pe) || pe.Value != "oops" {
			return "", fmt.Errorf("panicking branch: %v", r.Err())
		}
		return "ok", nil
	})
	invokeOK(t, api, h)
	if got := describe(api.Updates()); len(got) != 4 || got[2] != "CONTEXT/ParallelBranch FAIL ^0" {
		t.Fatalf("only the panicking parallel should be recorded: %v", got)
	}
}
