package local

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestStepThenWait runs a hand-written durable handler: the first invocation
// checkpoints a step (START+SUCCEED) and a 2 s wait and suspends; the wait's
// completion re-invokes it and it succeeds. The history must be AWS's
// (conformance core/step 1-1 and core/wait 2-1).
func TestStepThenWait(t *testing.T) {
	s, vc := newTestService(t)
	ctx := testContext(t)
	var calls atomic.Int32
	s.Register("orders", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		n := calls.Add(1)
		ops := env.InitialExecutionState.Operations
		if ops[0]["Type"] != "EXECUTION" || ops[0]["Id"] != env.DurableExecutionArn[len(env.DurableExecutionArn)-36:] {
			t.Errorf("first operation is not the EXECUTION op named after the ARN: %v", ops[0])
		}
		if got := ops[0]["ExecutionDetails"].(map[string]any)["InputPayload"]; got != `{"order":42}` {
			t.Errorf("InputPayload = %v", got)
		}
		lc, ok := lambdacontext.FromContext(ctx)
		if !ok || lc.AwsRequestID == "" || lc.InvokedFunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST" {
			t.Errorf("lambdacontext = %+v, %v", lc, ok)
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("no deadline")
		}
		switch n {
		case 1:
			if len(ops) != 1 {
				t.Errorf("first invocation sees %d operations", len(ops))
			}
			out := cp.must(ctx, stepStart("s1", "reserve"), stepSucceed("s1", `"r-1"`), waitStart("w1", 2))
			delta := out.NewExecutionState.Operations
			if len(delta) != 2 || *delta[0].Id != "s1" || delta[0].Status != types.OperationStatusSucceeded ||
				delta[0].StepDetails.Attempt != 1 || *delta[1].Id != "w1" || delta[1].WaitDetails.ScheduledEndTimestamp == nil {
				t.Errorf("delta = %+v", delta)
			}
			if got := delta[1].WaitDetails.ScheduledEndTimestamp.Sub(*delta[1].StartTimestamp); got != 2*time.Second {
				t.Errorf("ScheduledEnd - Start = %v", got)
			}
			return pending()
		default:
			if w := env.op("w1"); w == nil || w["Status"] != "SUCCEEDED" {
				t.Errorf("second invocation: wait = %v", w)
			}
			if s1 := env.op("s1"); s1 == nil || s1["StepDetails"].(map[string]any)["Result"] != `"r-1"` {
				t.Errorf("second invocation: step = %v", s1)
			}
			if !slices.Equal(env.UpdatedOperationIds, []string{"w1"}) {
				t.Errorf("UpdatedOperationIds = %v", env.UpdatedOperationIds)
			}
			return succeeded(`"done"`)
		}
	}))
	start := vc.Now()
	arn, err := s.Start(ctx, "orders", []byte(`{"order":42}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.RunUntilTerminal(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != types.ExecutionStatusSucceeded || aws.ToString(got.Result) != `"done"` {
		t.Fatalf("execution = %s %v", got.Status, aws.ToString(got.Result))
	}
	if d := vc.Now().Sub(start); d != 2*time.Second {
		t.Errorf("virtual time moved %v, want 2s", d)
	}
	h := historyJSON(t, s, arn)
	want := []string{"ExecutionStarted", "StepStarted", "StepSucceeded", "WaitStarted", "InvocationCompleted",
		"WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !slices.Equal(eventTypes(h), want) {
		t.Fatalf("events = %v\nwant %v", eventTypes(h), want)
	}
	matchHistory(t, h, []map[string]any{
		{"EventType": "ExecutionStarted", "EventId": 1, "Id": "${EXEC}", "EventTimestamp": "*",
			"ExecutionStartedDetails": M{"Input": M{"Payload": `{"order":42}`, "Truncated": false}, "ExecutionTimeout": 31622400}},
		{"EventType": "StepStarted", "SubType": "Step", "EventId": 2, "Id": "s1", "Name": "reserve", "EventTimestamp": "*", "StepStartedDetails": M{}},
		{"EventType": "StepSucceeded", "SubType": "Step", "EventId": 3, "Id": "s1", "Name": "reserve", "EventTimestamp": "*",
			"StepSucceededDetails": M{"Result": M{"Payload": `"r-1"`, "Truncated": false}, "RetryDetails": M{"CurrentAttempt": 1}}},
		{"EventType": "WaitStarted", "SubType": "Wait", "EventId": 4, "Id": "${ID1}", "EventTimestamp": "*",
			"WaitStartedDetails": M{"Duration": 2, "ScheduledEndTimestamp": "*"}},
		{"EventType": "InvocationCompleted", "EventId": 5, "EventTimestamp": "*",
			"InvocationCompletedDetails": M{"StartTimestamp": "*", "EndTimestamp": "*", "RequestId": "*"}},
		{"EventType": "WaitSucceeded", "SubType": "Wait", "EventId": 6, "Id": "${ID1}", "EventTimestamp": "*", "WaitSucceededDetails": M{"Duration": 2}},
		{"EventType": "InvocationCompleted", "EventId": 7, "EventTimestamp": "*", "InvocationCompletedDetails": M{}},
		{"EventType": "ExecutionSucceeded", "EventId": 8, "Id": "${EXEC}", "EventTimestamp": "*",
			"ExecutionSucceededDetails": M{"Result": M{"Payload": `"done"`, "Truncated": false}}},
	})
	for _, ev := range h[4:5] {
		m := ev.(map[string]any)
		for _, k := range []string{"Id", "Name", "SubType", "ParentId"} {
			if _, ok := m[k]; ok {
				t.Errorf("InvocationCompleted has %s", k)
			}
		}
		if _, ok := m["InvocationCompletedDetails"].(map[string]any)["Error"]; ok {
			t.Error("clean InvocationCompleted has an Error")
		}
	}
}
