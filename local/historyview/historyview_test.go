package historyview

import (
	"bytes"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// history is a small synthetic history: a callback inside a WaitForCallback
// context, a step that fails and is retried, an invocation, the end.
func history() []types.Event {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := func(id int32, typ types.EventType, opID, parent, name string, d time.Duration) types.Event {
		e := types.Event{EventId: aws.Int32(id), EventType: typ, EventTimestamp: aws.Time(at.Add(d)), Name: aws.String(name), Id: aws.String(opID)}
		if parent != "" {
			e.ParentId = aws.String(parent)
		}
		return e
	}
	events := []types.Event{
		ev(1, types.EventTypeExecutionStarted, "x", "", "order-1", 0),
		ev(2, types.EventTypeContextStarted, "c", "", "approval", time.Millisecond),
		ev(3, types.EventTypeCallbackStarted, "cb", "c", "approval create callback id", 2*time.Millisecond),
		ev(4, types.EventTypeStepFailed, "s", "", "charge", 90*time.Second),
		ev(5, types.EventTypeInvocationCompleted, "", "", "", 91*time.Second),
		ev(6, types.EventTypeCallbackSucceeded, "cb", "c", "approval create callback id", 92*time.Second),
		ev(7, types.EventTypeExecutionSucceeded, "x", "", "order-1", 93*time.Second),
	}
	events[0].ExecutionStartedDetails = &types.ExecutionStartedDetails{Input: &types.EventInput{Payload: aws.String(`{"id": 1}`)}}
	events[1].SubType = aws.String("WaitForCallback")
	events[2].CallbackStartedDetails = &types.CallbackStartedDetails{CallbackId: aws.String("CB1")}
	events[3].StepFailedDetails = &types.StepFailedDetails{
		Error:        &types.EventError{Payload: &types.ErrorObject{ErrorType: aws.String("Timeout"), ErrorMessage: aws.String("gateway")}},
		RetryDetails: &types.RetryDetails{CurrentAttempt: 1, NextAttemptDelaySeconds: aws.Int32(2)},
	}
	events[4].InvocationCompletedDetails = &types.InvocationCompletedDetails{
		RequestId: aws.String("r1"), StartTimestamp: aws.Time(at.Add(89 * time.Second)), EndTimestamp: aws.Time(at.Add(91 * time.Second)),
	}
	events[5].CallbackSucceededDetails = &types.CallbackSucceededDetails{Result: &types.EventResult{Payload: aws.String(`{"ok":  true}`)}}
	events[6].ExecutionSucceededDetails = &types.ExecutionSucceededDetails{Result: &types.EventResult{Payload: aws.String(`"done"`)}}
	return events
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, history()); err != nil {
		t.Fatal(err)
	}
	want := `#  TIME     EVENT                OPERATION                   DETAILS
1  +0.000s  ExecutionStarted     execution order-1           input {"id": 1}
2  +0.001s  ContextStarted       wait-for-callback approval  
3  +0.002s  CallbackStarted        callback approval         id CB1
4  +1m30s   StepFailed           step charge                 attempt 1: Timeout: gateway; retry in 2s
5  +1m31s   InvocationCompleted                              request r1, 2s
6  +1m32s   CallbackSucceeded      callback approval         {"ok": true}
7  +1m33s   ExecutionSucceeded   execution order-1           "done"
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestProgress(t *testing.T) {
	events := history()
	var b bytes.Buffer
	p := NewProgress(&b)
	for i, ev := range events {
		if p.Done() {
			t.Fatalf("done before event %d", i+1)
		}
		if err := p.Print(ev); err != nil {
			t.Fatal(err)
		}
	}
	if !p.Done() || p.Seen() != len(events) {
		t.Errorf("Done() = %v, Seen() = %d after %d events", p.Done(), p.Seen(), len(events))
	}
	want := `  +0.000s  execution started, input {"id": 1}
  +0.001s  wait-for-callback approval started
  +0.002s    callback approval started: id CB1
   +1m30s  step charge attempt 1 failed: Timeout: gateway; retry in 2s
   +1m31s  invocation r1 ended after 2s
   +1m32s    callback approval succeeded: {"ok": true}
   +1m33s  execution SUCCEEDED, result "done"
`
	if b.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", b.String(), want)
	}

	// Line gives the same account, for callers that lay lines out their way.
	q := NewProgress(nil)
	for _, ev := range events[:3] {
		q.Line(ev)
	}
	if got := q.Line(events[3]); got != "step charge attempt 1 failed: Timeout: gateway; retry in 2s" {
		t.Errorf("Line: %s", got)
	}
}

func TestShortAndErrorText(t *testing.T) {
	long := "[" + string(bytes.Repeat([]byte(`"x", `), 30)) + "]"
	if s := short(long); len(s) != 80 || s[77:] != "..." {
		t.Errorf("short: %q", s)
	}
	for _, tt := range []struct {
		e    *types.ErrorObject
		want string
	}{
		{nil, ""},
		{&types.ErrorObject{ErrorType: aws.String("T")}, "T"},
		{&types.ErrorObject{ErrorMessage: aws.String("m")}, "m"},
		{&types.ErrorObject{ErrorType: aws.String("T"), ErrorMessage: aws.String("m")}, "T: m"},
	} {
		if got := ErrorText(tt.e); got != tt.want {
			t.Errorf("ErrorText(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}
