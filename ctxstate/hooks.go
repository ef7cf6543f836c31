package ctxstate

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Hooks are the lifecycle callbacks of an execution (AWS's SDKs call them
// plugins). Every field is optional; a nil field costs one comparison. The
// hooks run on the goroutine of the operation they describe and must not
// block for long.
type Hooks struct {
	// InvocationStart runs before the handler, InvocationEnd after the outcome is known.
	InvocationStart func(InvocationInfo)
	InvocationEnd   func(InvocationInfo)
	// OperationStart runs when an operation begins (live or replayed),
	// OperationEnd when it reaches a result in this invocation.
	OperationStart func(OperationInfo)
	OperationEnd   func(OperationInfo)
	// AttemptStart and AttemptEnd bracket each run of a user function: a step
	// attempt, a wait-for-condition check, a callback submitter.
	AttemptStart func(OperationInfo)
	AttemptEnd   func(OperationInfo)
}

// InvocationInfo describes one invocation of a durable execution.
type InvocationInfo struct {
	ExecutionARN string
	RequestID    string
	// First reports whether this is the execution's first invocation.
	First bool
	Start time.Time
	End   time.Time
	// Status is the invocation outcome: SUCCEEDED, FAILED or PENDING (set at the end).
	Status string
	Err    error
	// TraceHeader is the X-Ray trace header of the invocation, if any.
	TraceHeader string
}

// OperationInfo describes one durable operation.
type OperationInfo struct {
	ExecutionARN string
	ID           string
	ParentID     string
	Name         string
	Type         types.OperationType
	SubType      string
	// Status is the operation status at the end hook (SUCCEEDED, FAILED, STARTED, PENDING...).
	Status types.OperationStatus
	// Replaying reports whether the result comes from the history.
	Replaying bool
	// Attempt is the 1-based attempt number, for attempt hooks and steps.
	Attempt int
	Start   time.Time
	End     time.Time
	Result  string
	Err     error
}
