package durable

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
)

// Retry runs fn, a group of durable operations, again after a failure, as
// the retry policy says: what [WithRetry] does for one step, Retry does for
// any code, such as a step and a callback that must be retried together.
//
// Retry is a child context named name (an empty name is replaced by the
// name of fn's Go function) holding one child context per attempt,
// "attempt 1", "attempt 2"..., and between attempts a durable wait,
// "backoff 1", "backoff 2"..., during which the function is suspended
// ([ErrSuspended]) and not billed. Each attempt starts afresh: fn's
// operations in a failed attempt stay recorded in that attempt's context.
// A panic in fn fails the attempt with a [*PanicError], as in a step.
//
// When an attempt fails and the policy declines to retry, Retry returns a
// [*ChildError] recording the attempt's error. The decision to retry is
// recorded by the wait that follows, so replay follows it even when the
// policy would now decide otherwise (jitter, a changed policy).
func Retry[T any](ctx context.Context, name string, fn func(ctx context.Context) (T, error), policy RetryPolicy, opts ...ChildOption) (T, error) {
	var zero T
	op, cfg, err := beginChild(ctx, "retry", name, fn, opts)
	if err != nil {
		return zero, err
	}
	defer op.End()
	attemptCfg := *cfg
	attemptCfg.lazy = true
	return runChild(ctx, op, cfg, func(rctx context.Context) (T, error) {
		rf, _ := ctxstate.FromContext(rctx)
		for attempt := 1; ; attempt++ {
			v, err := runAttempt(rctx, rf, attempt, &attemptCfg, fn)
			if err == nil {
				return v, nil
			}
			if _, failed := err.(*ChildError); !failed {
				return zero, err // suspension, or the execution failed
			}
			delay := time.Second // a replayed wait does not use it
			if !rf.Replaying() {
				// The next position holds the wait when an earlier
				// invocation decided to retry; otherwise decide now.
				d, ok := policy.Next(attempt, err)
				if !ok {
					return zero, err
				}
				delay = d
			}
			if err := Wait(rctx, "backoff "+strconv.Itoa(attempt), delay); err != nil {
				return zero, err
			}
		}
	})
}

func runAttempt[T any](ctx context.Context, rf *ctxstate.Frame, attempt int, cfg *childConfig, fn func(context.Context) (T, error)) (T, error) {
	op, err := rf.Begin(types.OperationTypeContext, cfg.subType, "attempt "+strconv.Itoa(attempt))
	if err != nil {
		var zero T
		return zero, err
	}
	defer op.End()
	return runChild(ctx, op, cfg, func(ctx context.Context) (T, error) {
		return callBranch(ctx, attempt, func(ctx context.Context, _ int) (T, error) { return fn(ctx) })
	})
}
