package durable

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
)

// Future is the result of a branch started with [Go], available once the
// branch has returned. Its methods are safe for concurrent use.
type Future[T any] struct {
	exec *ctxstate.Execution // nil when Go failed before starting a branch

	mu      sync.Mutex
	settled bool
	value   T
	err     error
	waiters []*ctxstate.Waiter
}

// Go runs fn concurrently in a child context of its own, like [Child] on
// another goroutine, and returns its future result.
//
// The child context's operation id is claimed when Go is called, on the
// calling goroutine, so ids do not depend on scheduling; fn runs with a ctx
// carrying that context and must use it, not ctx, for its durable
// operations. Once fn has returned, later invocations settle the future
// with the recorded result without running fn. An empty name is replaced
// by the name of fn's Go function.
//
// A branch that suspends suspends the execution, which cancels every
// branch's context; the middleware waits for running branches before it
// answers. A panic in fn fails the branch with a [*PanicError]. When Go
// cannot start the branch (no execution, invalid name, non-deterministic
// replay), the future holds the error.
func Go[T any](ctx context.Context, name string, fn func(ctx context.Context) (T, error), opts ...ChildOption) *Future[T] {
	fut := &Future[T]{}
	f, err := frameOf(ctx)
	if err != nil {
		fut.settle(*new(T), err)
		return fut
	}
	fut.exec = f.Execution()
	cfg := childConfig{serdes: JSON, subType: "RunInChildContext", lazy: true}
	for _, o := range opts {
		o.applyChild(&cfg)
	}
	if name == "" {
		name = funcName(fn)
	}
	if err := validateName("child context", name); err != nil {
		fut.settle(*new(T), err)
		return fut
	}
	op, err := f.Claim(types.OperationTypeContext, cfg.subType, name)
	if err != nil {
		fut.settle(*new(T), err)
		return fut
	}
	run := func(ctx context.Context) (T, error) {
		return callBranch(ctx, 0, func(ctx context.Context, _ int) (T, error) { return fn(ctx) })
	}
	if rec := op.Recorded; rec != nil && isFinal(rec) {
		// Recorded: no need for a goroutine to read the result.
		fut.settle(runChild(ctx, op, &cfg, run))
		return fut
	}
	fut.exec.Go(func() { fut.settle(runChild(ctx, op, &cfg, run)) })
	return fut
}

func (f *Future[T]) settle(v T, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settled, f.value, f.err = true, v, err
	for _, w := range f.waiters {
		w.Wake()
	}
	f.waiters = nil
}

// Await waits until the branch has returned and returns its result, or the
// [*ChildError] recording its failure. It returns early with an error
// wrapping [ErrSuspended] when the execution suspends, and with ctx's error
// when ctx is done. Await may be called any number of times, from any
// goroutine.
func (f *Future[T]) Await(ctx context.Context) (T, error) {
	v, err, _ := f.await(ctx)
	return v, err
}

// await is Await that also reports whether the branch settled, rather than
// the wait being interrupted.
func (f *Future[T]) await(ctx context.Context) (T, error, bool) {
	f.mu.Lock()
	if f.settled {
		defer f.mu.Unlock()
		return f.value, f.err, true
	}
	w := f.exec.NewWaiter()
	f.waiters = append(f.waiters, w)
	f.mu.Unlock()
	w.Wait(ctx.Done(), f.exec.Done())
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.settled {
		return f.value, f.err, true
	}
	f.waiters = slices.DeleteFunc(f.waiters, func(x *ctxstate.Waiter) bool { return x == w })
	var zero T
	return zero, interruption(ctx, f.exec), false
}

// All waits for every future and returns their results in order. It
// returns the error of the first future, in argument order, that failed:
// the outcome depends only on the branches' results, never on which
// finished first, so it is the same on every invocation.
func All[T any](ctx context.Context, futures ...*Future[T]) ([]T, error) {
	out := make([]T, len(futures))
	for i, f := range futures {
		v, err := f.Await(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Outcome is the result of one future given to [AllSettled].
type Outcome[T any] struct {
	Value T
	Err   error
}

// AllSettled waits for every future and returns each one's result or
// error, in order. Its own error is for the wait itself: a suspension or a
// done ctx.
func AllSettled[T any](ctx context.Context, futures ...*Future[T]) ([]Outcome[T], error) {
	out := make([]Outcome[T], len(futures))
	for i, f := range futures {
		v, err, settled := f.await(ctx)
		if !settled {
			return nil, err
		}
		if serr := stopping(f.exec, err); serr != nil {
			return nil, serr
		}
		out[i] = Outcome[T]{Value: v, Err: err}
	}
	return out, nil
}

// Any returns the result of the first future to succeed. When all fail, it
// returns a [*BatchError] holding their errors in order.
//
// Which future succeeded first depends on timing, so Any records it: Any
// is an operation of ctx's durable context, a step named name whose result
// is the winner's index, and on later invocations it returns that future's
// result whatever the timing. Like any operation, it needs the calling
// context to itself while it waits.
func Any[T any](ctx context.Context, name string, futures ...*Future[T]) (T, error) {
	return first(ctx, "any", name, futures, func(err error) bool { return err == nil })
}

// Race returns the result or the error of the first future to finish.
// Like [Any], it records which one did, as a step named name of ctx's
// durable context, so later invocations return the same future's outcome.
func Race[T any](ctx context.Context, name string, futures ...*Future[T]) (T, error) {
	return first(ctx, "race", name, futures, func(error) bool { return true })
}

// first waits for the first future whose outcome wins, and records its index.
func first[T any](ctx context.Context, what, name string, futures []*Future[T], wins func(error) bool) (T, error) {
	var zero T
	fr, err := frameOf(ctx)
	if err != nil {
		return zero, err
	}
	if err := validateName(what, name); err != nil {
		return zero, err
	}
	if len(futures) == 0 {
		return zero, fmt.Errorf("durable: %s %q has no futures to wait for", what, name)
	}
	op, err := fr.Begin(types.OperationTypeStep, "Step", name)
	if err != nil {
		return zero, err
	}
	defer op.End()
	exec := fr.Execution()
	if rec := op.Recorded; rec != nil && rec.Status == types.OperationStatusSucceeded {
		i, err := decode[int](JSON, what, name, stepResult(rec))
		if err != nil {
			return zero, err
		}
		if i < 0 || i >= len(futures) {
			return zero, exec.Fail(fmt.Errorf("durable: non-deterministic replay: %s %q recorded future %d of %d; call it with the same futures on every invocation", what, name, i, len(futures)))
		}
		return futures[i].Await(ctx)
	}

	for {
		w := exec.NewWaiter()
		winner, pending := -1, 0
		for i, f := range futures {
			f.mu.Lock()
			switch {
			case !f.settled:
				pending++
				f.waiters = append(f.waiters, w)
			case winner < 0 && wins(f.err):
				winner = i
			}
			f.mu.Unlock()
		}
		if winner >= 0 || pending == 0 {
			w.Wake() // undone by Wait, which returns at once
		}
		woken := w.Wait(ctx.Done(), exec.Done())
		for _, f := range futures {
			f.mu.Lock()
			f.waiters = slices.DeleteFunc(f.waiters, func(x *ctxstate.Waiter) bool { return x == w })
			f.mu.Unlock()
		}
		switch {
		case winner >= 0:
			if serr := stopping(exec, futures[winner].err); serr != nil {
				return zero, serr
			}
			if rec := op.Recorded; rec == nil {
				exec.Checkpoint(update(op, types.OperationActionStart))
			}
			u := update(op, types.OperationActionSucceed)
			payload := fmt.Sprint(winner)
			u.Payload = &payload
			exec.Checkpoint(u)
			return futures[winner].value, futures[winner].err
		case pending == 0:
			var errs []error
			for _, f := range futures {
				if serr := stopping(exec, f.err); serr != nil {
					return zero, serr
				}
				errs = append(errs, f.err)
			}
			return zero, &BatchError{Op: fmt.Sprintf("%s %q", what, name), Total: len(futures), Errs: errs}
		case !woken:
			return zero, interruption(ctx, exec)
		}
	}
}
