package historyview

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// opTree remembers the parent and label of each operation of one execution,
// learnt from its events in history order, to indent children under their
// parents and to name callbacks by the name the code gave them.
type opTree map[string]opNode

type opNode struct {
	parent string
	label  string
}

func (t opTree) add(ev types.Event) {
	id := aws.ToString(ev.Id)
	if id == "" || ev.EventType == types.EventTypeInvocationCompleted {
		return
	}
	if _, ok := t[id]; ok {
		return
	}
	label := aws.ToString(ev.Name)
	if ev.EventType == types.EventTypeCallbackStarted {
		// WaitForCallback names its CALLBACK "<name> create callback id"
		// inside a context named <name>: show the name the code gave.
		if p, ok := t[aws.ToString(ev.ParentId)]; ok && strings.HasPrefix(label, p.label+" ") {
			label = p.label
		}
	}
	t[id] = opNode{parent: aws.ToString(ev.ParentId), label: label}
}

// depth is the number of operations enclosing ev's.
func (t opTree) depth(ev types.Event) int {
	d := 0
	for p := aws.ToString(ev.ParentId); p != "" && d < 32; p = t[p].parent {
		d++
	}
	return d
}

func (t opTree) label(ev types.Event) string {
	if n, ok := t[aws.ToString(ev.Id)]; ok && n.label != "" {
		return n.label
	}
	return aws.ToString(ev.Name)
}

// terminal reports whether ev ends its execution.
func terminal(ev types.Event) bool {
	switch ev.EventType {
	case types.EventTypeExecutionSucceeded, types.EventTypeExecutionFailed,
		types.EventTypeExecutionTimedOut, types.EventTypeExecutionStopped:
		return true
	}
	return false
}

// kindOf names the kind of operation an event is about.
func kindOf(ev types.Event) string {
	switch aws.ToString(ev.SubType) {
	case "Map":
		return "map"
	case "MapIteration":
		return "map-item"
	case "Parallel":
		return "parallel"
	case "ParallelBranch":
		return "branch"
	case "WaitForCallback":
		return "wait-for-callback"
	case "RunInChildContext":
		return "child"
	case "WaitForCondition":
		return "wait-for-condition"
	}
	if ev.EventType == types.EventTypeInvocationCompleted {
		return "invocation"
	}
	k, _ := splitType(ev.EventType)
	return strings.ToLower(k)
}

// verbOf is what happened: Started, Succeeded, Failed...
func verbOf(ev types.Event) string {
	_, v := splitType(ev.EventType)
	return v
}

// splitType splits an event type into its operation kind and its verb.
func splitType(t types.EventType) (kind, verb string) {
	for _, k := range []string{"Execution", "Step", "Wait", "Callback", "Context", "ChainedInvoke", "Invocation"} {
		if v, ok := strings.CutPrefix(string(t), k); ok {
			if k == "ChainedInvoke" {
				k = "invoke"
			}
			return k, v
		}
	}
	return string(t), ""
}

// resultOf is the result payload an event carries.
func resultOf(ev types.Event) string {
	var r *types.EventResult
	switch {
	case ev.StepSucceededDetails != nil:
		r = ev.StepSucceededDetails.Result
	case ev.ContextSucceededDetails != nil:
		r = ev.ContextSucceededDetails.Result
	case ev.CallbackSucceededDetails != nil:
		r = ev.CallbackSucceededDetails.Result
	case ev.ExecutionSucceededDetails != nil:
		r = ev.ExecutionSucceededDetails.Result
	case ev.ChainedInvokeSucceededDetails != nil:
		r = ev.ChainedInvokeSucceededDetails.Result
	}
	if r == nil {
		return ""
	}
	return aws.ToString(r.Payload)
}

// errorOf is the error an event carries, as "Type: message".
func errorOf(ev types.Event) string {
	var e *types.EventError
	switch {
	case ev.StepFailedDetails != nil:
		e = ev.StepFailedDetails.Error
	case ev.ContextFailedDetails != nil:
		e = ev.ContextFailedDetails.Error
	case ev.CallbackFailedDetails != nil:
		e = ev.CallbackFailedDetails.Error
	case ev.CallbackTimedOutDetails != nil:
		e = ev.CallbackTimedOutDetails.Error
	case ev.ChainedInvokeFailedDetails != nil:
		e = ev.ChainedInvokeFailedDetails.Error
	case ev.ChainedInvokeTimedOutDetails != nil:
		e = ev.ChainedInvokeTimedOutDetails.Error
	case ev.ChainedInvokeStoppedDetails != nil:
		e = ev.ChainedInvokeStoppedDetails.Error
	case ev.ExecutionFailedDetails != nil:
		e = ev.ExecutionFailedDetails.Error
	case ev.ExecutionTimedOutDetails != nil:
		e = ev.ExecutionTimedOutDetails.Error
	case ev.ExecutionStoppedDetails != nil:
		e = ev.ExecutionStoppedDetails.Error
	case ev.WaitCancelledDetails != nil:
		e = ev.WaitCancelledDetails.Error
	case ev.InvocationCompletedDetails != nil:
		e = ev.InvocationCompletedDetails.Error
	}
	if e == nil {
		return ""
	}
	return ErrorText(e.Payload)
}

// ErrorText renders an error object, of an event or of an execution, as
// "Type: message", or as whichever of the two it has; "" for nil.
func ErrorText(e *types.ErrorObject) string {
	if e == nil {
		return ""
	}
	msg := aws.ToString(e.ErrorMessage)
	if t := aws.ToString(e.ErrorType); t != "" {
		if msg == "" {
			return t
		}
		msg = t + ": " + msg
	}
	return msg
}

func payloadOf(in *types.EventInput) string {
	if in == nil {
		return ""
	}
	return aws.ToString(in.Payload)
}

// duration is how long an invocation ran.
func duration(d *types.InvocationCompletedDetails) string {
	return aws.ToTime(d.EndTimestamp).Sub(aws.ToTime(d.StartTimestamp)).Round(time.Millisecond).String()
}

// elapsed formats a time since the start of an execution: seconds with
// milliseconds under a minute, a Go duration above.
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
	return d.Round(time.Millisecond).String()
}

// quote quotes an operation name that would not read as one word.
func quote(name string) string {
	if name == "" || strings.ContainsAny(name, " \t\"") {
		return fmt.Sprintf("%q", name)
	}
	return name
}

// short keeps a payload on one line of reasonable length.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
