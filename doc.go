// Package durable makes ordinary AWS Lambda handlers durable. An execution
// runs across many invocations: each durable operation is checkpointed
// through the Lambda durable API, and when the function is invoked again it
// replays from the beginning, returning recorded results instead of running
// finished work again.
//
// The execution travels in a plain [context.Context]. Wrap the handler with
// middleware.Durable and call the operations of this package with the
// handler's ctx or any context derived from it, at any call depth, through
// context.WithValue, WithTimeout, WithCancel, tracing spans and other
// wrapping:
//
//	func handler(ctx context.Context, order Order) (Receipt, error) {
//		id, err := durable.Step(ctx, "reserve", func(ctx context.Context) (string, error) {
//			return inventory.Reserve(ctx, order.Items)
//		})
//		if err != nil {
//			return Receipt{}, err // durable.ErrSuspended travels up like any error
//		}
//		...
//	}
//
// # Operations
//
//   - [Step] runs a function once and records its result, with retries ([WithRetry]).
//   - [Wait] and [WaitUntil] suspend the execution for up to a year, without paying for compute.
//   - [CreateCallback] and [WaitForCallback] wait for another system or a person to answer.
//   - [Invoke] runs another durable function and waits for its result.
//   - [Child] groups operations under one named, recorded result.
//   - [Map], [Parallel] and [Go] with [All], [AllSettled], [Any] and [Race] run branches concurrently.
//   - [WaitForCondition] polls with durable waits between checks; [Retry] retries a group of operations.
//   - [Now], [UUID] and [Rand] give values that are the same on every replay.
//   - [Logger] logs once, not once per replay.
//
// # Determinism
//
// Durable code between operations runs again on every invocation, so it must
// start the same operations in the same order each time. Operations are
// identified by their position in their context; on replay the recorded
// operation at each position must have the same type and name, or the
// execution fails with a [*NonDeterminismError]. Keep side effects, clocks,
// random numbers and calls to other systems inside steps.
//
// # Suspension
//
// When an operation must wait for the service (a wait, a retry delay, a
// callback, a chained invoke) it returns an error wrapping [ErrSuspended] and
// cancels the execution's context. Return the error from the handler; the
// middleware answers PENDING once running work has settled and every
// checkpoint is durable, and the service invokes the function again later.
//
// # Errors
//
// A step that fails for good returns a [*StepError] recording the Go type
// name and message of the step function's error. Register error types with
// [RegisterError] so errors.As finds them on replay too. A panic in a step is
// a failed attempt, never a crash.
//
// # Concurrency
//
// Operations on one context start one at a time; starting a second while the
// first runs fails with [ErrConcurrentOperation]. Concurrent branches come
// from Go, Map and Parallel, which give each branch a context of its own;
// their ids are claimed on the calling goroutine, so they do not depend on
// scheduling. Branches that finish steps together share checkpoint calls: a
// branch waiting for its step to be durable waits (at most the linger) for
// the other running branches, so one call carries all their updates.
package durable
