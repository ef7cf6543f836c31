package durabletest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Result is how an execution ended and what the service recorded on the way.
type Result[Out any] struct {
	// ARN names the execution.
	ARN string
	// Status is Succeeded, Failed, TimedOut or Stopped.
	Status types.ExecutionStatus
	// Output is the handler's result, decoded from JSON, when Succeeded.
	Output Out
	// RawOutput is the result payload as recorded.
	RawOutput string
	// Error is the execution's error when it did not succeed.
	Error *types.ErrorObject
	// History holds the execution's history events, in order.
	History []types.Event
}

// Operations returns the durable operations of the execution (steps, waits,
// callbacks, child contexts, maps, chained invokes...), built from the
// history, in the order they started.
func (r *Result[Out]) Operations() []Operation { return (&history{events: r.History}).operations() }

// Operation returns the first operation named name, or nil. A
// [durable.WaitForCallback] is a CONTEXT operation of that name holding a
// CALLBACK named "<name> create callback id" and a STEP named
// "<name> submitter"; a [durable.Map] is a CONTEXT holding one CONTEXT per
// item.
func (r *Result[Out]) Operation(name string) *Operation {
	for _, op := range r.Operations() {
		if op.Name == name {
			return &op
		}
	}
	return nil
}

// Events returns the history events of the given types, or all of them.
func (r *Result[Out]) Events(typ ...types.EventType) []types.Event {
	var out []types.Event
	for _, ev := range r.History {
		if len(typ) == 0 || slices.Contains(typ, ev.EventType) {
			out = append(out, ev)
		}
	}
	return out
}

// Invocations returns how many times the service invoked the handler.
func (r *Result[Out]) Invocations() int {
	return len(r.Events(types.EventTypeInvocationCompleted))
}

// String describes the result and its history, one event a line, for test
// failure messages: t.Fatal(res).
func (r *Result[Out]) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "execution %s", r.Status)
	if r.RawOutput != "" {
		fmt.Fprintf(&b, ", result %s", short(r.RawOutput))
	}
	if r.Error != nil {
		fmt.Fprintf(&b, ", error %s", errorText(r.Error))
	}
	b.WriteString("\n")
	b.WriteString((&history{events: r.History}).String())
	return b.String()
}

// Operation is a durable operation as the history tells it.
type Operation struct {
	// ID and ParentID are the operation's id and its parent context's ("" at
	// the top level).
	ID, ParentID string
	// Name is the name given in the code.
	Name string
	// Type is STEP, WAIT, CALLBACK, CONTEXT or CHAINED_INVOKE.
	Type types.OperationType
	// SubType refines the type: Step, Wait, Map, MapIteration, Parallel,
	// ParallelBranch, RunInChildContext, WaitForCallback...
	SubType string
	// Status is the status of the operation's last event: STARTED,
	// SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, STOPPED, or PENDING for a
	// step waiting to retry.
	Status types.OperationStatus
	// Attempts is the number of attempts of a step.
	Attempts int
	// Result is the operation's result payload, as recorded.
	Result string
	// Error is the operation's error, for one that failed or timed out.
	Error *types.ErrorObject
	// Events are the operation's history events.
	Events []types.Event
}

// Decode decodes the operation's result from JSON into v.
func (o *Operation) Decode(v any) error {
	if o.Result == "" {
		return fmt.Errorf("durabletest: operation %q has no result (status %s)", o.Name, o.Status)
	}
	return json.Unmarshal([]byte(o.Result), v)
}

// history is an execution's history with the questions the package asks it.
type history struct{ events []types.Event }

// terminal reports whether the execution has ended.
func (h *history) terminal() bool {
	for _, ev := range h.events {
		switch ev.EventType {
		case types.EventTypeExecutionSucceeded, types.EventTypeExecutionFailed,
			types.EventTypeExecutionTimedOut, types.EventTypeExecutionStopped:
			return true
		}
	}
	return false
}

func (h *history) operations() []Operation {
	var ops []Operation
	index := map[string]int{}
	for _, ev := range h.events {
		kind, verb := splitType(ev.EventType)
		if kind == "Execution" || kind == "Invocation" {
			continue
		}
		id := aws.ToString(ev.Id)
		i, ok := index[id]
		if !ok {
			i = len(ops)
			index[id] = i
			ops = append(ops, Operation{
				ID: id, ParentID: aws.ToString(ev.ParentId), Name: aws.ToString(ev.Name),
				Type: operationType(kind), SubType: aws.ToString(ev.SubType),
			})
		}
		op := &ops[i]
		op.Events = append(op.Events, ev)
		op.Status = operationStatus(verb)
		if ev.EventType == types.EventTypeStepStarted {
			op.Attempts++
		}
		var retry *types.RetryDetails
		switch {
		case ev.StepSucceededDetails != nil:
			retry = ev.StepSucceededDetails.RetryDetails
		case ev.StepFailedDetails != nil:
			retry = ev.StepFailedDetails.RetryDetails
			if retry != nil && retry.NextAttemptDelaySeconds != nil {
				op.Status = types.OperationStatusPending
			}
		}
		if retry != nil && int(retry.CurrentAttempt) > op.Attempts {
			op.Attempts = int(retry.CurrentAttempt)
		}
		if r := resultOf(ev); r != nil {
			op.Result = aws.ToString(r.Payload)
		}
		if e := errorOf(ev); e != nil {
			op.Error = e.Payload
		}
	}
	return ops
}

// callbackRef is an open callback.
type callbackRef struct {
	id, name, parentName, parentSubType string
}

// matches reports whether the code named the callback name.
func (c callbackRef) matches(name string) bool {
	return name == c.name || (c.parentSubType == "WaitForCallback" && name == c.parentName)
}

// openCallbacks returns the callbacks started and not completed.
func (h *history) openCallbacks() []callbackRef {
	ops := h.operations()
	byID := map[string]*Operation{}
	for i := range ops {
		byID[ops[i].ID] = &ops[i]
	}
	var open []callbackRef
	for _, op := range ops {
		if op.Type != types.OperationTypeCallback || op.Status != types.OperationStatusStarted {
			continue
		}
		ref := callbackRef{name: op.Name}
		for _, ev := range op.Events {
			if d := ev.CallbackStartedDetails; d != nil {
				ref.id = aws.ToString(d.CallbackId)
			}
		}
		if p := byID[op.ParentID]; p != nil {
			ref.parentName, ref.parentSubType = p.Name, p.SubType
		}
		if ref.id != "" {
			open = append(open, ref)
		}
	}
	return open
}

// waitingFor says what an execution that cannot progress waits for.
func (h *history) waitingFor() string {
	open := h.openCallbacks()
	if len(open) == 0 {
		return "nothing is pending"
	}
	var names []string
	for _, cb := range open {
		n := cb.name
		if cb.parentSubType == "WaitForCallback" {
			n = cb.parentName
		}
		names = append(names, fmt.Sprintf("%q (id %s)", n, cb.id))
	}
	return "it waits for callback " + strings.Join(names, ", ") +
		": answer with WithCallbackResult or WithCallbackError, or Start and Execution.SucceedCallback"
}

// String prints one event a line.
func (h *history) String() string {
	var b strings.Builder
	var start time.Time
	for i, ev := range h.events {
		at := aws.ToTime(ev.EventTimestamp)
		if i == 0 {
			start = at
		}
		fmt.Fprintf(&b, "  %3d +%-8s %-20s %s", aws.ToInt32(ev.EventId), at.Sub(start), ev.EventType, aws.ToString(ev.Name))
		if r := resultOf(ev); r != nil && aws.ToString(r.Payload) != "" {
			fmt.Fprintf(&b, ": %s", short(aws.ToString(r.Payload)))
		}
		if e := errorOf(ev); e != nil && e.Payload != nil {
			fmt.Fprintf(&b, ": %s", errorText(e.Payload))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// splitType splits an event type into its operation kind and its verb.
func splitType(t types.EventType) (kind, verb string) {
	for _, k := range []string{"Execution", "Step", "Wait", "Callback", "Context", "ChainedInvoke", "Invocation"} {
		if v, ok := strings.CutPrefix(string(t), k); ok {
			return k, v
		}
	}
	return string(t), ""
}

func operationType(kind string) types.OperationType {
	switch kind {
	case "Step":
		return types.OperationTypeStep
	case "Wait":
		return types.OperationTypeWait
	case "Callback":
		return types.OperationTypeCallback
	case "Context":
		return types.OperationTypeContext
	case "ChainedInvoke":
		return types.OperationTypeChainedInvoke
	}
	return types.OperationType(strings.ToUpper(kind))
}

func operationStatus(verb string) types.OperationStatus {
	switch verb {
	case "Started":
		return types.OperationStatusStarted
	case "Succeeded":
		return types.OperationStatusSucceeded
	case "Failed":
		return types.OperationStatusFailed
	case "TimedOut":
		return types.OperationStatusTimedOut
	case "Cancelled":
		return types.OperationStatusCancelled
	case "Stopped":
		return types.OperationStatusStopped
	}
	return types.OperationStatus(strings.ToUpper(verb))
}

func resultOf(ev types.Event) *types.EventResult {
	switch {
	case ev.StepSucceededDetails != nil:
		return ev.StepSucceededDetails.Result
	case ev.ContextSucceededDetails != nil:
		return ev.ContextSucceededDetails.Result
	case ev.CallbackSucceededDetails != nil:
		return ev.CallbackSucceededDetails.Result
	case ev.ChainedInvokeSucceededDetails != nil:
		return ev.ChainedInvokeSucceededDetails.Result
	case ev.ExecutionSucceededDetails != nil:
		return ev.ExecutionSucceededDetails.Result
	}
	return nil
}

func errorOf(ev types.Event) *types.EventError {
	switch {
	case ev.StepFailedDetails != nil:
		return ev.StepFailedDetails.Error
	case ev.ContextFailedDetails != nil:
		return ev.ContextFailedDetails.Error
	case ev.CallbackFailedDetails != nil:
		return ev.CallbackFailedDetails.Error
	case ev.CallbackTimedOutDetails != nil:
		return ev.CallbackTimedOutDetails.Error
	case ev.ChainedInvokeFailedDetails != nil:
		return ev.ChainedInvokeFailedDetails.Error
	case ev.ChainedInvokeTimedOutDetails != nil:
		return ev.ChainedInvokeTimedOutDetails.Error
	case ev.ChainedInvokeStoppedDetails != nil:
		return ev.ChainedInvokeStoppedDetails.Error
	case ev.WaitCancelledDetails != nil:
		return ev.WaitCancelledDetails.Error
	case ev.ExecutionFailedDetails != nil:
		return ev.ExecutionFailedDetails.Error
	case ev.ExecutionTimedOutDetails != nil:
		return ev.ExecutionTimedOutDetails.Error
	case ev.ExecutionStoppedDetails != nil:
		return ev.ExecutionStoppedDetails.Error
	case ev.InvocationCompletedDetails != nil:
		return ev.InvocationCompletedDetails.Error
	}
	return nil
}

func errorText(e *types.ErrorObject) string {
	if e == nil {
		return ""
	}
	if t := aws.ToString(e.ErrorType); t != "" {
		return t + ": " + aws.ToString(e.ErrorMessage)
	}
	return aws.ToString(e.ErrorMessage)
}
