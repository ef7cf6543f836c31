package ctxstate

import (
	"errors"
	"fmt"
)

// ErrSuspended is returned by every durable operation that must wait for the
// service: a wait that has not elapsed, a retry that is not due, an open
// callback, a running chained invoke. The handler returns it like any error;
// the middleware then answers PENDING and the service invokes the function
// again when there is progress to make.
var ErrSuspended = errors.New("durable: execution suspended until the service re-invokes the function (return this error from the handler)")

// ErrNoExecution is returned when a durable operation is called with a context
// that carries no durable execution.
var ErrNoExecution = errors.New("durable: the context carries no durable execution: " +
	"wrap the handler with middleware.Durable (or middleware.Wrap) and pass the handler's ctx, " +
	"or a context derived from it, to durable operations")

// ErrOperationInStep is returned when a durable operation is started with the
// context of a step function. A step is one unit of work recorded as a whole;
// durable operations inside it could not be replayed.
var ErrOperationInStep = errors.New("durable: durable operations cannot be started inside a step function: " +
	"a step is recorded as one result; use durable.Child to group durable operations")

// ErrConcurrentOperation is returned when an operation starts on a durable
// context while another operation on the same context is still running.
var ErrConcurrentOperation = errors.New("durable: two operations are running at once on one durable context: " +
	"operations on a context start one at a time so their ids stay deterministic; " +
	"run concurrent work with durable.Go, durable.Map or durable.Parallel, which give each branch a context of its own")

// NonDeterminismError reports that the code asked for a different operation
// than the one recorded at the same position in an earlier invocation. The
// execution cannot continue: replay would return results to the wrong code.
type NonDeterminismError struct {
	// Position is the positional id of the operation, such as "3" or "2-1".
	Position string
	// OperationID is the wire id of the operation.
	OperationID string
	// Recorded describes what the history holds at that position.
	Recorded OperationRef
	// Requested describes what the code asked for.
	Requested OperationRef
}

// OperationRef names an operation by type, subtype and name.
type OperationRef struct {
	Type    string
	SubType string
	Name    string
}

func (r OperationRef) String() string {
	s := r.Type
	if r.SubType != "" {
		s += "/" + r.SubType
	}
	return fmt.Sprintf("%s %q", s, r.Name)
}

func (e *NonDeterminismError) Error() string {
	return fmt.Sprintf("durable: non-deterministic replay at operation %s (id %s): the history recorded %s but the code asked for %s; "+
		"durable code must start the same operations in the same order on every invocation (derive changes from inputs and step results, not from time, randomness or configuration that changed)",
		e.Position, e.OperationID, e.Recorded, e.Requested)
}
