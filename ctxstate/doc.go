// Package ctxstate holds the state of a durable execution that travels in a
// [context.Context]: the operation log of the invocation, the frames that
// number operations deterministically, replay mode, suspension and the
// lifecycle hooks.
//
// Users do not import it; package durable builds on it and the middleware
// creates it. [NewContext] and [FromContext] are the only way in and out of a
// context.
//
// # Frames and ids
//
// Every durable context is a [Frame]: the handler's root, a child context, a
// map iteration, a parallel branch. The n-th operation started in a frame
// whose positional id is P gets the positional id "P-n" ("n" at the root),
// hashed by [WireID] to the id sent to the service. Operations on one frame
// start one at a time ([ErrConcurrentOperation] otherwise); concurrency comes
// from frames of their own, claimed on the calling goroutine, so ids do not
// depend on scheduling.
//
// # Replay
//
// Before an operation runs, the operation recorded at its position must have
// the same type, subtype and name; otherwise the execution fails with a
// [*NonDeterminismError]. A frame is replaying while its next operation is in
// the history the invocation started with, and becomes live at the first
// unrecorded one.
//
// # Suspension
//
// [Execution.Suspend] cancels the execution's context with [ErrSuspended] as
// the cause, so blocked operations unwind; the middleware then waits for the
// goroutines started with [Execution.Go], flushes the checkpointer, and
// answers PENDING.
package ctxstate
