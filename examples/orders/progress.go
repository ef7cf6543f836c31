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

// progress prints one line per history event worth showing while an
// execution runs: operations completing, waits and callbacks starting,
// invocations ending.
type progress struct {
	w           io.Writer
	start       time.Time
	seen        int
	invocations int
	terminal    bool
	tree        tree
}

func newProgress(w io.Writer) *progress { return &progress{w: w, tree: tree{}} }

func (p *progress) print(ev types.Event) {
	p.seen++
	p.tree.add(ev)
	at := aws.ToTime(ev.EventTimestamp)
	if p.start.IsZero() {
		p.start = at
	}
	name := aws.ToString(ev.Name)
	var line string
	switch ev.EventType {
	case types.EventTypeExecutionStarted:
		line = "execution started"
	case types.EventTypeStepSucceeded:
		line = "step " + name + " done"
		if r := resultOf(ev); r != "" && r != "null" {
			line += ": " + short(r)
		}
	case types.EventTypeStepFailed:
		line = fmt.Sprintf("step %s failed: %s", name, messageOf(ev))
		if r := ev.StepFailedDetails.RetryDetails; r != nil && r.NextAttemptDelaySeconds != nil {
			line = fmt.Sprintf("step %s attempt %d failed (%s), retrying in %ds",
				name, r.CurrentAttempt, messageOf(ev), *r.NextAttemptDelaySeconds)
		}
	case types.EventTypeWaitStarted:
		line = fmt.Sprintf("wait %s: sleeping %ds", name, aws.ToInt32(ev.WaitStartedDetails.Duration))
	case types.EventTypeWaitSucceeded:
		line = fmt.Sprintf("wait %s over", name)
	case types.EventTypeCallbackStarted:
		line = fmt.Sprintf("callback %s: waiting for an answer", p.tree.label(ev))
	case types.EventTypeCallbackSucceeded:
		line = fmt.Sprintf("callback %s answered: %s", p.tree.label(ev), short(resultOf(ev)))
	case types.EventTypeCallbackFailed, types.EventTypeCallbackTimedOut:
		line = fmt.Sprintf("callback %s: %s", p.tree.label(ev), errorOf(ev))
	case types.EventTypeContextSucceeded, types.EventTypeContextFailed:
		kind := kindOf(ev)
		if kind == "item" || kind == "callback" {
			return // the operations inside said it already
		}
		line = fmt.Sprintf("%s %s done", kind, name)
		if ev.EventType == types.EventTypeContextFailed {
			line = fmt.Sprintf("%s %s failed: %s", kind, name, errorOf(ev))
		}
	case types.EventTypeInvocationCompleted:
		p.invocations++
		d := ev.InvocationCompletedDetails
		line = fmt.Sprintf("invocation %d ended after %s", p.invocations,
			aws.ToTime(d.EndTimestamp).Sub(aws.ToTime(d.StartTimestamp)).Round(time.Millisecond))
		if d.Error != nil {
			line += ": " + errorOf(ev)
		}
	case types.EventTypeExecutionSucceeded, types.EventTypeExecutionFailed,
		types.EventTypeExecutionTimedOut, types.EventTypeExecutionStopped:
		p.terminal = true
		line = "execution " + strings.ToLower(strings.TrimPrefix(string(ev.EventType), "Execution"))
	default:
		return
	}
	fmt.Fprintf(p.w, "%7.2fs  %s%s\n", at.Sub(p.start).Seconds(), strings.Repeat("  ", p.tree.depth(ev)), line)
}

// writeHistory prints events as a table, operations indented under their
// parents, times relative to the first event.
func writeHistory(w io.Writer, events []types.Event) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tTIME\tEVENT\tOPERATION\tDETAILS")
	t := tree{}
	var start time.Time
	for _, ev := range events {
		t.add(ev)
		at := aws.ToTime(ev.EventTimestamp)
		if start.IsZero() {
			start = at
		}
		op := ""
		if ev.EventType != types.EventTypeInvocationCompleted {
			op = strings.Repeat("  ", t.depth(ev)) + t.label(ev)
			if k := kindOf(ev); k != "" && k != "execution" {
				op += " (" + k + ")"
			}
		}
		fmt.Fprintf(tw, "%d\t%.3fs\t%s\t%s\t%s\n", aws.ToInt32(ev.EventId), at.Sub(start).Seconds(), ev.EventType, op, details(ev))
	}
	_ = tw.Flush()
}

// details summarizes what an event carries: a result, an error, a delay.
func details(ev types.Event) string {
	switch {
	case ev.ExecutionStartedDetails != nil:
		return "input " + short(payloadOf(ev.ExecutionStartedDetails.Input))
	case ev.WaitStartedDetails != nil:
		return fmt.Sprintf("%ds", aws.ToInt32(ev.WaitStartedDetails.Duration))
	case ev.StepFailedDetails != nil:
		s := errorOf(ev)
		if r := ev.StepFailedDetails.RetryDetails; r != nil && r.NextAttemptDelaySeconds != nil {
			s = fmt.Sprintf("attempt %d: %s; retry in %ds", r.CurrentAttempt, s, *r.NextAttemptDelaySeconds)
		}
		return s
	case ev.StepSucceededDetails != nil:
		s := short(resultOf(ev))
		if r := ev.StepSucceededDetails.RetryDetails; r != nil && r.CurrentAttempt > 1 {
			s = fmt.Sprintf("attempt %d: %s", r.CurrentAttempt, s)
		}
		return s
	case ev.CallbackStartedDetails != nil:
		id := aws.ToString(ev.CallbackStartedDetails.CallbackId)
		if len(id) > 16 {
			id = id[:16] + "..."
		}
		return "id " + id
	case ev.InvocationCompletedDetails != nil:
		d := ev.InvocationCompletedDetails
		s := aws.ToTime(d.EndTimestamp).Sub(aws.ToTime(d.StartTimestamp)).Round(time.Millisecond).String()
		if d.Error != nil {
			s += ": " + errorOf(ev)
		}
		return s
	}
	if r := resultOf(ev); r != "" {
		return short(r)
	}
	return errorOf(ev)
}

// tree remembers the parent and label of each operation seen in a history.
type tree map[string]node

type node struct {
	parent string
	label  string
}

func (t tree) add(ev types.Event) {
	id := aws.ToString(ev.Id)
	if _, ok := t[id]; ok || id == "" || ev.EventType == types.EventTypeInvocationCompleted {
		return
	}
	label := aws.ToString(ev.Name)
	if ev.EventType == types.EventTypeCallbackStarted {
		// WaitForCallback names its CALLBACK "<name> create callback id";
		// the enclosing context carries the name the code gave.
		if p, ok := t[aws.ToString(ev.ParentId)]; ok {
			label = p.label
		}
	}
	t[id] = node{parent: aws.ToString(ev.ParentId), label: label}
}

func (t tree) depth(ev types.Event) int {
	d := 0
	for p := aws.ToString(ev.ParentId); p != ""; p = t[p].parent {
		d++
		if d > 64 {
			break
		}
	}
	return d
}

func (t tree) label(ev types.Event) string {
	if n, ok := t[aws.ToString(ev.Id)]; ok {
		return n.label
	}
	return aws.ToString(ev.Name)
}

// kindOf names the kind of operation an event is about.
func kindOf(ev types.Event) string {
	switch aws.ToString(ev.SubType) {
	case "Map":
		return "map"
	case "MapIteration":
		return "item"
	case "Parallel":
		return "parallel"
	case "ParallelBranch":
		return "branch"
	case "WaitForCallback":
		return "callback"
	case "RunInChildContext":
		return "child"
	}
	t := string(ev.EventType)
	for _, k := range []string{"Execution", "Step", "Wait", "Callback", "Context", "ChainedInvoke"} {
		if strings.HasPrefix(t, k) {
			return strings.ToLower(k)
		}
	}
	return ""
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

// errorOf is the error an event carries, as "type: message".
func errorOf(ev types.Event) string {
	e := eventError(ev)
	if e == nil {
		return ""
	}
	msg := aws.ToString(e.ErrorMessage)
	if t := aws.ToString(e.ErrorType); t != "" {
		msg = t + ": " + msg
	}
	return msg
}

// messageOf is the message of the error an event carries.
func messageOf(ev types.Event) string {
	if e := eventError(ev); e != nil {
		return aws.ToString(e.ErrorMessage)
	}
	return ""
}

func eventError(ev types.Event) *types.ErrorObject {
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
	case ev.ExecutionFailedDetails != nil:
		e = ev.ExecutionFailedDetails.Error
	case ev.ExecutionTimedOutDetails != nil:
		e = ev.ExecutionTimedOutDetails.Error
	case ev.ExecutionStoppedDetails != nil:
		e = ev.ExecutionStoppedDetails.Error
	case ev.InvocationCompletedDetails != nil:
		e = ev.InvocationCompletedDetails.Error
	case ev.WaitCancelledDetails != nil:
		e = ev.WaitCancelledDetails.Error
	}
	if e == nil {
		return nil
	}
	return e.Payload
}

func payloadOf(in *types.EventInput) string {
	if in == nil {
		return ""
	}
	return aws.ToString(in.Payload)
}

// short keeps a payload to one readable line.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 72 {
		s = s[:69] + "..."
	}
	return s
}
