package historyview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// WriteTable prints events, a whole history in order, as a table with one
// row per event: its number, its time since the first event, its type, the
// operation it is about (indented under its parents) and what it carries.
func WriteTable(w io.Writer, events []types.Event) error {
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

// details is the DETAILS column of the table.
func details(ev types.Event) string {
	switch {
	case ev.ExecutionStartedDetails != nil:
		return "input " + short(payloadOf(ev.ExecutionStartedDetails.Input))
	case ev.WaitStartedDetails != nil:
		return fmt.Sprintf("%ds, until %s", aws.ToInt32(ev.WaitStartedDetails.Duration),
			aws.ToTime(ev.WaitStartedDetails.ScheduledEndTimestamp).Local().Format(time.TimeOnly))
	case ev.CallbackStartedDetails != nil:
		// In full: it is what answers the callback.
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
