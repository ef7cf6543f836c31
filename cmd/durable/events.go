package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// This file turns history events into text: one line per event for the
// commands that follow an execution (start, serve) and a table for history.

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

// describe is a one-line account of ev, e.g. `step charge attempt 1 failed:
// Timeout: gateway timeout; retry in 2s`. t must have seen ev (opTree.add).
func describe(ev types.Event, t opTree) string {
	kind, name := kindOf(ev), t.label(ev)
	what := kind
	if name != "" && ev.EventType != types.EventTypeInvocationCompleted {
		what += " " + quote(name)
	}
	verb := strings.ToLower(verbOf(ev))
	switch ev.EventType {
	case types.EventTypeExecutionStarted:
		return "execution started, input " + short(payloadOf(ev.ExecutionStartedDetails.Input))
	case types.EventTypeExecutionSucceeded:
		return "execution SUCCEEDED, result " + short(resultOf(ev))
	case types.EventTypeExecutionFailed, types.EventTypeExecutionTimedOut, types.EventTypeExecutionStopped:
		return "execution " + strings.ToUpper(verb) + ": " + errorOf(ev)
	case types.EventTypeInvocationCompleted:
		d := ev.InvocationCompletedDetails
		s := "invocation " + aws.ToString(d.RequestId) + " ended after " + duration(d)
		if d.Error != nil {
			s += ": " + errorOf(ev)
		}
		return s
	case types.EventTypeStepFailed:
		if r := ev.StepFailedDetails.RetryDetails; r != nil && r.NextAttemptDelaySeconds != nil {
			return fmt.Sprintf("%s attempt %d failed: %s; retry in %ds", what, r.CurrentAttempt, errorOf(ev), *r.NextAttemptDelaySeconds)
		}
	case types.EventTypeWaitStarted:
		return fmt.Sprintf("%s started: %ds", what, aws.ToInt32(ev.WaitStartedDetails.Duration))
	case types.EventTypeCallbackStarted:
		return what + " started: id " + aws.ToString(ev.CallbackStartedDetails.CallbackId)
	case types.EventTypeChainedInvokeStarted:
		if d := ev.ChainedInvokeStartedDetails; d != nil {
			return what + " started: function " + aws.ToString(d.FunctionName)
		}
	}
	s := what + " " + verb
	if r := resultOf(ev); r != "" && r != "null" {
		s += ": " + short(r)
	} else if e := errorOf(ev); e != "" {
		s += ": " + e
	}
	return s
}

// writeTable prints events as a table: operations indented under their
// parents, times relative to the first event.
func writeTable(w io.Writer, events []types.Event) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tTIME\tEVENT\tOPERATION\tDETAILS")
	t := opTree{}
	var start time.Time
	for _, ev := range events {
		t.add(ev)
		at := aws.ToTime(ev.EventTimestamp)
		if start.IsZero() {
			start = at
		}
		op := ""
		if ev.EventType != types.EventTypeInvocationCompleted {
			op = strings.Repeat("  ", t.depth(ev)) + kindOf(ev) + " " + t.label(ev)
		}
		fmt.Fprintf(tw, "%d\t+%s\t%s\t%s\t%s\n", aws.ToInt32(ev.EventId), elapsed(at.Sub(start)), ev.EventType, op, details(ev))
	}
	return tw.Flush()
}

// details is the DETAILS column of the history table.
func details(ev types.Event) string {
	switch {
	case ev.ExecutionStartedDetails != nil:
		return "input " + short(payloadOf(ev.ExecutionStartedDetails.Input))
	case ev.WaitStartedDetails != nil:
		return fmt.Sprintf("%ds, until %s", aws.ToInt32(ev.WaitStartedDetails.Duration),
			aws.ToTime(ev.WaitStartedDetails.ScheduledEndTimestamp).Local().Format(time.TimeOnly))
	case ev.CallbackStartedDetails != nil:
		return "id " + aws.ToString(ev.CallbackStartedDetails.CallbackId)
	case ev.ChainedInvokeStartedDetails != nil:
		return "function " + aws.ToString(ev.ChainedInvokeStartedDetails.FunctionName)
	case ev.InvocationCompletedDetails != nil:
		s := "request " + aws.ToString(ev.InvocationCompletedDetails.RequestId) + ", " + duration(ev.InvocationCompletedDetails)
		if e := errorOf(ev); e != "" {
			s += ": " + e
		}
		return s
	case ev.StepFailedDetails != nil:
		s := errorOf(ev)
		if r := ev.StepFailedDetails.RetryDetails; r != nil {
			s = fmt.Sprintf("attempt %d: %s", r.CurrentAttempt, s)
			if r.NextAttemptDelaySeconds != nil {
				s += fmt.Sprintf("; retry in %ds", *r.NextAttemptDelaySeconds)
			}
		}
		return s
	case ev.StepSucceededDetails != nil:
		s := short(resultOf(ev))
		if r := ev.StepSucceededDetails.RetryDetails; r != nil && r.CurrentAttempt > 1 {
			s = fmt.Sprintf("attempt %d: %s", r.CurrentAttempt, s)
		}
		return s
	}
	if r := resultOf(ev); r != "" {
		return short(r)
	}
	return errorOf(ev)
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
	return errorText(e.Payload)
}

// errorText renders an error object as "Type: message".
func errorText(e *types.ErrorObject) string {
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
