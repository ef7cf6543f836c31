package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestRun runs the demo as `go run ./examples/orders` does, on the real clock,
// twice on the same database: the second run must not meet the first.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs on the real clock for a few seconds")
	}
	db := filepath.Join(t.TempDir(), ".durable", "durable.db") // the directory does not exist yet
	var arns []string
	for i := range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		var out bytes.Buffer
		res, err := run(ctx, &out, db)
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out.String())
		}
		if res.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("run %d: status %s, error %+v\n%s", i+1, res.Status, res.Error, out.String())
		}
		arns = append(arns, res.ARN)
		checkHistory(t, res.History)
		if !strings.Contains(res.Result, `"approvedBy":"dana"`) || !strings.Contains(res.Result, `"tracking":"TRK-PARCEL-`) {
			t.Errorf("run %d: result %s", i+1, res.Result)
		}
		for _, want := range []string{
			"step charge-card attempt 1 failed: ",
			"payment gateway timeout; retry in 1s",
			"callback manager-approval succeeded",
			"wait cool-off started: 2s",
			"map reserve-stock succeeded",
			"child ship succeeded",
			"execution SUCCEEDED",
			"ExecutionSucceeded",
			"Status: SUCCEEDED",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run %d: output lacks %q:\n%s", i+1, want, out.String())
			}
		}
	}
	if arns[0] == arns[1] {
		t.Errorf("both runs used execution %s", arns[0])
	}
}

// checkHistory looks for the events that show each feature of the workflow.
func checkHistory(t *testing.T, events []types.Event) {
	t.Helper()
	var got []string
	for _, ev := range events {
		got = append(got, string(ev.EventType)+" "+aws.ToString(ev.Name))
	}
	// In order, not necessarily adjacent.
	want := []string{
		"ExecutionStarted ",
		"StepSucceeded validate",
		"ContextStarted reserve-stock",
		"StepSucceeded reserve BOOK-GO",
		"ContextSucceeded reserve-stock",
		"StepFailed charge-card",
		"InvocationCompleted ",
		"StepSucceeded charge-card",
		"CallbackStarted manager-approval create callback id",
		"CallbackSucceeded manager-approval create callback id",
		"WaitStarted cool-off",
		"WaitSucceeded cool-off",
		"ContextStarted ship",
		"StepSucceeded label",
		"ContextSucceeded ship",
		"ExecutionSucceeded ",
	}
	i := 0
	for _, g := range got {
		if i < len(want) && strings.HasPrefix(g, want[i]) && (strings.HasSuffix(want[i], " ") || g == want[i]) {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("history lacks %q (in order); got:\n%s", want[i], strings.Join(got, "\n"))
	}
	for _, ev := range events {
		if ev.EventType == types.EventTypeStepFailed && aws.ToString(ev.Name) == "charge-card" {
			r := ev.StepFailedDetails.RetryDetails
			if r == nil || r.CurrentAttempt != 1 || aws.ToInt32(r.NextAttemptDelaySeconds) != 1 {
				t.Errorf("charge-card failure: retry details %+v", r)
			}
		}
	}
}
