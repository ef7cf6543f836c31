package ctxstate

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Hooks are the lifecycle callbacks of an execution (AWS's SDKs call them
// plugins). Every field is optional; a nil field costs one comparison, and
// the SDK builds no info value for it. The hooks run on the goroutine of the
// operation they describe (OperationChange on the checkpointer's) and must
// not block for long; several operations may call them at once.
//
// What one invocation reports:
//
//   - InvocationStart before the handler runs, InvocationEnd once the
//     answer is known and every checkpoint is flushed, before Lambda gets it.
//   - OperationStart each time an operation is reached, live or replayed
//     (Replaying).
//   - OperationEnd when an operation's work in this invocation is over: with
//     its terminal status when it completes here, or when this invocation is
//     the first to find it completed by the service (a wait that elapsed, a
//     callback that was answered, a chained invoke that returned); with a
//     status that is not final (STARTED, PENDING) when it started here and
//     is left waiting (a wait or callback the invocation suspends on, a step
//     waiting for its retry). What replay finds is not reported again: an
//     outcome an earlier invocation reported, a wait still running.
//   - AttemptStart and AttemptEnd around each run of a user function that
//     counts as an attempt; FunctionStart and FunctionEnd around each run of
//     a context operation's function.
type Hooks struct {
	// InvocationStart runs before the handler, InvocationEnd after the outcome is known.
	InvocationStart func(InvocationInfo)
	InvocationEnd   func(InvocationInfo)
	// OperationStart runs when an operation begins (live or replayed),
	// OperationEnd when it reaches a result in this invocation.
	OperationStart func(OperationInfo)
	OperationEnd   func(OperationInfo)
	// AttemptStart and AttemptEnd bracket each run of a user function: a step
	// attempt, a wait-for-condition check, a callback submitter. AttemptEnd's
	// Err is the function's error; nil means the attempt succeeded.
	AttemptStart func(OperationInfo)
	AttemptEnd   func(OperationInfo)
	// AttemptContext, when set, returns the context an attempt's user
	// function runs with, derived from ctx; it runs after AttemptStart.
	// Tracing hooks use it to make their attempt span the parent of the
	// spans the function starts.
	AttemptContext func(ctx context.Context, info OperationInfo) context.Context
	// FunctionStart and FunctionEnd bracket each run of the function of a
	// context operation: a child context, a map iteration, a parallel
	// branch. FunctionEnd's Err is the function's error.
	FunctionStart func(OperationInfo)
	FunctionEnd   func(OperationInfo)
	// OperationChange runs when a checkpoint response changes the state of
	// operations.
	OperationChange func(OperationChangeInfo)
}

// InvocationInfo describes one invocation of a durable execution.
type InvocationInfo struct {
	ExecutionARN string
	RequestID    string
	// First reports whether this is the execution's first invocation.
	First bool
	Start time.Time
	End   time.Time
	// Status is the invocation outcome, set at the end: SUCCEEDED, FAILED,
	// PENDING, or RETRY when the invocation itself failed (Err says why)
	// and Lambda will invoke it again.
	Status string
	// Err is the execution's error at the end: the handler's error for
	// FAILED, the invocation's for RETRY.
	Err error
	// TraceHeader is the X-Ray trace header of the invocation, if any.
	TraceHeader string
	// Context is the invocation's context as the middleware received it
	// (carrying, for instance, the span of tracing middleware around it).
	Context context.Context
	// ExecutionStart is when the execution started (the EXECUTION
	// operation's start), the same in every invocation; zero if unknown.
	ExecutionStart time.Time
	// Operations is the number of operations in the execution state, the
	// EXECUTION operation excluded: at the start, those the invocation
	// replays; at the end, every one known.
	Operations int
	// UpdatedOperationIDs are the operations the service changed while the
	// execution was suspended (the envelope's UpdatedOperationIds), when
	// the service says.
	UpdatedOperationIDs []string
}

// OperationInfo describes one durable operation.
type OperationInfo struct {
	ExecutionARN string
	// ID is the operation's wire id; ParentID the id of the context
	// operation it runs in, "" at the top level.
	ID       string
	ParentID string
	Name     string
	Type     types.OperationType
	SubType  string
	// Status is the operation status at the end hook (SUCCEEDED, FAILED, STARTED, PENDING...).
	Status types.OperationStatus
	// Replaying reports whether the operation was in the history the
	// invocation started with.
	Replaying bool
	// Attempt is the 1-based attempt number, for attempt hooks and steps.
	Attempt int
	// Start is when the operation started (for an operation an earlier
	// invocation started, its recorded start); End when it ended.
	Start  time.Time
	End    time.Time
	Result string
	Err    error
}

// OperationChangeInfo describes a change of operations' state that a
// checkpoint response reported.
type OperationChangeInfo struct {
	ExecutionARN string
	// Updated are the operations whose status or attempt changed, in the
	// order of the response.
	Updated []OperationInfo
	// Operations are all the operations known after the change, by id.
	Operations map[string]OperationInfo
}

// IsTerminal reports whether status is a final operation status.
func IsTerminal(status types.OperationStatus) bool {
	switch status {
	case types.OperationStatusSucceeded, types.OperationStatusFailed, types.OperationStatusCancelled,
		types.OperationStatusTimedOut, types.OperationStatusStopped:
		return true
	}
	return false
}
