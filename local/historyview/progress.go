package historyview

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Progress follows the history of one execution as it grows: give it each
// event once, in history order, and it prints a line per event such as
//
//	+1.014s  step charge attempt 1 failed: Timeout: gateway; retry in 1s
//	+1.020s  invocation 6b2f... ended after 5ms
//
// with the time since the first event and the operation indented under its
// parents. The zero value is not usable; call NewProgress.
type Progress struct {
	w     io.Writer
	tree  opTree
	start time.Time
	seen  int
	done  bool
}

// NewProgress returns a Progress that prints to w. w may be nil if only
// Line is used.
func NewProgress(w io.Writer) *Progress { return &Progress{w: w, tree: opTree{}} }

// Print records ev, the next event of the history, and prints its line.
func (p *Progress) Print(ev types.Event) error {
	line := p.Line(ev)
	at := aws.ToTime(ev.EventTimestamp)
	_, err := fmt.Fprintf(p.w, "%9s  %s%s\n", "+"+elapsed(at.Sub(p.start)), strings.Repeat("  ", p.tree.depth(ev)), line)
	return err
}

// Line records ev, the next event of the history, and returns a one-line
// account of it without time or indentation, e.g. `step charge attempt 1
// failed: Timeout: gateway; retry in 2s`. It prints nothing: it serves callers
// that lay out lines their own way or print only some events; they must still
// give it every event, for it to know the operations.
func (p *Progress) Line(ev types.Event) string {
	p.seen++
	p.tree.add(ev)
	if p.start.IsZero() {
		p.start = aws.ToTime(ev.EventTimestamp)
	}
	if terminal(ev) {
		p.done = true
	}
	return describe(ev, p.tree)
}

// Seen is the number of events recorded so far: the history events to give
// next start at that index.
func (p *Progress) Seen() int { return p.seen }

// Done reports whether an event that ends the execution was recorded.
func (p *Progress) Done() bool { return p.done }

// describe is a one-line account of ev. t must have seen ev (opTree.add).
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
