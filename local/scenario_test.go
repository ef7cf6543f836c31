package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

func runToEnd(t *testing.T, s *Service, fn string, payload string) (*lambda.GetDurableExecutionOutput, []any) {
	t.Helper()
	ctx := testContext(t)
	arn, err := s.Start(ctx, fn, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.RunUntilTerminal(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	return out, historyJSON(t, s, arn)
}

func wantEvents(t *testing.T, h []any, want ...string) {
	t.Helper()
	if got := eventTypes(h); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
}

// TestStepRetry: RETRY makes the step PENDING until its delay elapsed, then
// READY (no event) and the handler is invoked again (conformance 1-11).
func TestStepRetry(t *testing.T) {
	s, _ := newTestService(t)
	s.Register("retry", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		st := env.op("s")
		if st == nil {
			cp.must(ctx, stepStart("s", "flaky"))
			u := update("s", types.OperationTypeStep, types.OperationActionRetry)
			u.SubType = aws.String("Step")
			u.Error = &types.ErrorObject{ErrorType: aws.String("TransientError"), ErrorMessage: aws.String("try again")}
			u.StepOptions = &types.StepOptions{NextAttemptDelaySeconds: aws.Int32(7)}
			out := cp.must(ctx, u)
			d := out.NewExecutionState.Operations[0]
			if d.Status != types.OperationStatusPending || d.StepDetails.Attempt != 1 || d.StepDetails.NextAttemptTimestamp == nil {
				t.Errorf("after RETRY: %+v %+v", d, d.StepDetails)
			}
			return pending()
		}
		if st["Status"] != "READY" {
			t.Errorf("status on re-invoke = %v", st["Status"])
		}
		if _, ok := st["StepDetails"].(map[string]any)["NextAttemptTimestamp"]; ok {
			t.Error("READY step still has NextAttemptTimestamp")
		}
		cp.must(ctx, stepStart("s", "flaky"), stepSucceed("s", "42"))
		return succeeded("42")
	}))
	out, h := runToEnd(t, s, "retry", "{}")
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatal(out.Status)
	}
	wantEvents(t, h, "ExecutionStarted", "StepStarted", "StepFailed", "InvocationCompleted", "StepStarted", "StepSucceeded",
		"InvocationCompleted", "ExecutionSucceeded")
	matchHistory(t, h, []map[string]any{
		{"EventId": 3, "EventType": "StepFailed", "Id": "${ID1}", "Name": "flaky", "StepFailedDetails": M{
			"Error":        M{"Payload": M{"ErrorType": "${/TransientError$/}", "ErrorMessage": "try again"}, "Truncated": false},
			"RetryDetails": M{"CurrentAttempt": 1, "NextAttemptDelaySeconds": 7}}},
		{"EventId": 6, "EventType": "StepSucceeded", "Id": "${ID1}", "StepSucceededDetails": M{
			"Result": M{"Payload": "42"}, "RetryDetails": M{"CurrentAttempt": 2}}},
	})
}

// TestCallbackTimeouts: a callback's heartbeat and overall timeouts end it
// TIMED_OUT with the service's error types and re-invoke the handler
// (conformance 4-3, 4-4).
func TestCallbackTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      types.CallbackOptions
		heartbeat bool
		errType   string
		elapsed   time.Duration
	}{
		{"timeout", types.CallbackOptions{TimeoutSeconds: 5}, false, "Callback.Timeout", 5 * time.Second},
		{"heartbeat", types.CallbackOptions{TimeoutSeconds: 60, HeartbeatTimeoutSeconds: 10}, false, "Callback.Heartbeat", 10 * time.Second},
		{"heartbeat-renewed", types.CallbackOptions{TimeoutSeconds: 60, HeartbeatTimeoutSeconds: 10}, true, "Callback.Heartbeat", 14 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, vc := newTestService(t)
			ctx := testContext(t)
			cbID := make(chan string, 1)
			s.Register("cb", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
				if cb := env.op("cb"); cb != nil {
					d := cb["CallbackDetails"].(map[string]any)
					e := d["Error"].(map[string]any)
					return output{Status: "FAILED", Error: &types.ErrorObject{ErrorType: aws.String(e["ErrorType"].(string))}}
				}
				u := update("cb", types.OperationTypeCallback, types.OperationActionStart)
				u.Name = aws.String("approval")
				u.SubType = aws.String("Callback")
				u.CallbackOptions = &tc.opts
				out := cp.must(ctx, u)
				cbID <- *out.NewExecutionState.Operations[0].CallbackDetails.CallbackId
				return pending()
			}))
			start := vc.Now()
			arn, err := s.Start(ctx, "cb", nil)
			if err != nil {
				t.Fatal(err)
			}
			id := <-cbID
			if tc.heartbeat {
				s.WaitIdle(ctx)
				vc.Advance(4 * time.Second)
				if _, err := s.API().SendDurableExecutionCallbackHeartbeat(ctx, &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: &id}); err != nil {
					t.Fatal(err)
				}
			}
			out, err := s.RunUntilTerminal(ctx, arn)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error.ErrorType) != tc.errType {
				t.Fatalf("execution = %s %+v", out.Status, out.Error)
			}
			if got := out.EndTimestamp.Sub(start); got != tc.elapsed {
				t.Errorf("ended after %v, want %v", got, tc.elapsed)
			}
			h := historyJSON(t, s, arn)
			wantEvents(t, h, "ExecutionStarted", "CallbackStarted", "InvocationCompleted", "CallbackTimedOut", "InvocationCompleted", "ExecutionFailed")
			matchHistory(t, h, []map[string]any{
				{"EventId": 4, "EventType": "CallbackTimedOut", "SubType": "Callback", "Name": "approval",
					"CallbackTimedOutDetails": M{"Error": M{"Payload": M{"ErrorType": tc.errType}}}},
				{"EventId": 6, "EventType": "ExecutionFailed", "ExecutionFailedDetails": M{"Error": M{"Payload": M{"ErrorType": tc.errType}}}},
			})
			_, err = s.API().SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: &id})
			var cte *types.CallbackTimeoutException
			if !errors.As(err, &cte) {
				t.Errorf("success after timeout: %v", err)
			}
		})
	}
}

// TestCallbackDuringWait reproduces conformance 4-9: a callback completed
// while a wait is pending re-invokes the handler, which suspends again; the
// wait's completion invokes it once more.
func TestCallbackDuringWait(t *testing.T) {
	s, vc := newTestService(t)
	ctx := testContext(t)
	cbID := make(chan string, 1)
	s.Register("fn", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		if env.op("cb") == nil {
			u := update("cb", types.OperationTypeCallback, types.OperationActionStart)
			u.Name, u.SubType = aws.String("cb-name"), aws.String("Callback")
			out := cp.must(ctx, u, waitStart("w", 5))
			cbID <- *out.NewExecutionState.Operations[0].CallbackDetails.CallbackId
			return pending()
		}
		if env.op("w")["Status"] != "SUCCEEDED" {
			return pending()
		}
		return succeeded(env.op("cb")["CallbackDetails"].(map[string]any)["Result"].(string))
	}))
	arn, err := s.Start(ctx, "fn", []byte(`"cb-name"`))
	if err != nil {
		t.Fatal(err)
	}
	id := <-cbID
	s.WaitIdle(ctx)
	vc.Advance(time.Second)
	if _, err := s.API().SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{
		CallbackId: &id, Result: []byte(`"payload"`)}); err != nil {
		t.Fatal(err)
	}
	out, err := s.RunUntilTerminal(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Result) != `"payload"` {
		t.Errorf("result = %v", aws.ToString(out.Result))
	}
	h := historyJSON(t, s, arn)
	wantEvents(t, h, "ExecutionStarted", "CallbackStarted", "WaitStarted", "InvocationCompleted", "CallbackSucceeded",
		"InvocationCompleted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded")
	matchHistory(t, h, []map[string]any{
		{"EventId": 2, "EventType": "CallbackStarted", "Id": "${CB1}", "Name": "cb-name", "CallbackStartedDetails": M{"CallbackId": "*"}},
		{"EventId": 3, "EventType": "WaitStarted", "Id": "${WAIT1}", "WaitStartedDetails": M{"Duration": 5}},
		{"EventId": 5, "EventType": "CallbackSucceeded", "Id": "${CB1}", "CallbackSucceededDetails": M{"Result": M{"Payload": `"payload"`}}},
		{"EventId": 7, "EventType": "WaitSucceeded", "Id": "${WAIT1}", "WaitSucceededDetails": M{"Duration": 5}},
	})
}

// TestChainedInvoke: the target runs as its own durable execution; its
// outcome becomes the caller's operation (conformance 5-1, 5-5).
func TestChainedInvoke(t *testing.T) {
	s, _ := newTestService(t)
	s.Register("echo", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		in := env.InitialExecutionState.Operations[0]["ExecutionDetails"].(map[string]any)["InputPayload"].(string)
		if in == `"fail"` {
			return output{Status: "FAILED", Error: &types.ErrorObject{ErrorType: aws.String("EchoError"), ErrorMessage: aws.String("refused")}}
		}
		return succeeded(in)
	}))
	s.Register("caller", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		input := env.InitialExecutionState.Operations[0]["ExecutionDetails"].(map[string]any)["InputPayload"].(string)
		target := "echo"
		if input == `"missing"` {
			target = "no-such-function"
		}
		inv := env.op("inv")
		if inv == nil {
			u := update("inv", types.OperationTypeChainedInvoke, types.OperationActionStart)
			u.SubType, u.Name = aws.String("ChainedInvoke"), aws.String("call-echo")
			u.Payload = aws.String(input)
			u.ChainedInvokeOptions = &types.ChainedInvokeOptions{FunctionName: aws.String(target)}
			cp.must(ctx, u)
			return pending()
		}
		d := inv["ChainedInvokeDetails"].(map[string]any)
		switch inv["Status"] {
		case "SUCCEEDED":
			return succeeded(d["Result"].(string))
		case "FAILED":
			e := d["Error"].(map[string]any)
			return output{Status: "FAILED", Error: &types.ErrorObject{ErrorType: aws.String("InvokeError"), ErrorMessage: aws.String(fmt.Sprint(e["ErrorType"]))}}
		}
		return pending()
	}))

	out, h := runToEnd(t, s, "caller", `"hello"`)
	if out.Status != types.ExecutionStatusSucceeded || aws.ToString(out.Result) != `"hello"` {
		t.Fatalf("caller = %s %v", out.Status, aws.ToString(out.Result))
	}
	wantEvents(t, h, "ExecutionStarted", "ChainedInvokeStarted", "InvocationCompleted", "ChainedInvokeSucceeded", "InvocationCompleted", "ExecutionSucceeded")
	b := matchHistory(t, h, []map[string]any{
		{"EventId": 2, "EventType": "ChainedInvokeStarted", "Id": "${ID1}", "Name": "call-echo", "ChainedInvokeStartedDetails": M{
			"FunctionName": "echo", "Input": M{"Payload": `"hello"`, "Truncated": false}, "ExecutedVersion": "$LATEST", "DurableExecutionArn": "${CHILD}"}},
		{"EventId": 4, "EventType": "ChainedInvokeSucceeded", "Id": "${ID1}", "ChainedInvokeSucceededDetails": M{"Result": M{"Payload": `"hello"`}}},
	})
	child, err := s.API().GetDurableExecution(context.Background(), &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(b["CHILD"].(string))})
	if err != nil || child.Status != types.ExecutionStatusSucceeded || !strings.Contains(*child.DurableExecutionArn, ":function:echo:$LATEST/durable-execution/") {
		t.Errorf("child = %+v, %v", child, err)
	}

	out, h = runToEnd(t, s, "caller", `"fail"`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error.ErrorMessage) != "EchoError" {
		t.Fatalf("caller of failing target = %s %+v", out.Status, out.Error)
	}
	matchHistory(t, h, []map[string]any{
		{"EventId": 4, "EventType": "ChainedInvokeFailed", "ChainedInvokeFailedDetails": M{"Error": M{"Payload": M{"ErrorType": "EchoError", "ErrorMessage": "refused"}}}},
	})

	out, h = runToEnd(t, s, "caller", `"missing"`)
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error.ErrorMessage) != codeNotFound {
		t.Fatalf("caller of missing target = %s %+v", out.Status, out.Error)
	}
	wantEvents(t, h, "ExecutionStarted", "ChainedInvokeStarted", "ChainedInvokeFailed", "InvocationCompleted", "InvocationCompleted", "ExecutionFailed")
}

// TestFailedInvocations: errors, panics and invalid answers are failed
// invocations, retried after the back-off; the fifth in a row fails the
// execution with the last error.
func TestFailedInvocations(t *testing.T) {
	s, vc := newTestService(t)
	var n atomic.Int32
	s.Register("bad", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		switch n.Add(1) {
		case 1:
			return nil, errors.New("boom")
		case 2:
			panic("kaboom")
		case 3:
			return []byte(`{"Status":"PENDING"}`), nil // nothing pending
		case 4:
			return []byte(`not json`), nil
		}
		return nil, fmt.Errorf("still broken: %w", errors.ErrUnsupported)
	}))
	start := vc.Now()
	out, h := runToEnd(t, s, "bad", "{}")
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error.ErrorType) != "wrapError" {
		t.Fatalf("execution = %s %+v", out.Status, out.Error)
	}
	if d := out.EndTimestamp.Sub(start); d != 4*DefaultFailedInvocationBackoff {
		t.Errorf("failed after %v", d)
	}
	wantEvents(t, h, "ExecutionStarted", "InvocationCompleted", "InvocationCompleted", "InvocationCompleted",
		"InvocationCompleted", "InvocationCompleted", "ExecutionFailed")
	matchHistory(t, h, []map[string]any{
		{"EventId": 2, "InvocationCompletedDetails": M{"Error": M{"Payload": M{"ErrorType": "errorString", "ErrorMessage": "boom"}}}},
		{"EventId": 3, "InvocationCompletedDetails": M{"Error": M{"Payload": M{"ErrorType": "Runtime.ExitError", "ErrorMessage": "${/panic: kaboom/}", "StackTrace": "*"}}}},
		{"EventId": 4, "InvocationCompletedDetails": M{"Error": M{"Payload": M{"ErrorType": "Runtime.InvalidResponse",
			"ErrorMessage": "Cannot return PENDING status with no pending operations."}}}},
		{"EventId": 5, "InvocationCompletedDetails": M{"Error": M{"Payload": M{"ErrorType": "Runtime.InvalidResponse"}}}},
		{"EventId": 7, "ExecutionFailedDetails": M{"Error": M{"Payload": M{"ErrorType": "wrapError"}}}},
	})
}

// TestCrash: Crash loses the checkpoints not yet sent, refuses the
// invocation's token and re-invokes at once when something completed, else
// after the back-off (conformance 1-17).
func TestCrash(t *testing.T) {
	s, _ := newTestService(t)
	var staleToken atomic.Value
	var n atomic.Int32
	s.Register("crashy", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		if n.Add(1) == 1 {
			cp.must(ctx, stepStart("s", "at_most_once"))
			staleToken.Store(cp.token)
			Crash(ctx)
			t.Error("Crash returned")
		}
		st := env.op("s")
		if st == nil || st["Status"] != "STARTED" {
			t.Errorf("after crash: %v", st)
		}
		// The crashed invocation's token is refused.
		stale := &testCheckpointer{t: t, api: s.API(), arn: env.DurableExecutionArn, token: staleToken.Load().(string)}
		if _, err := stale.send(ctx); apiCode(err) != codeInvalidParameter {
			t.Errorf("stale token: %v", err)
		}
		u := update("s", types.OperationTypeStep, types.OperationActionFail)
		u.Error = &types.ErrorObject{ErrorType: aws.String("StepInterruptedError"), ErrorMessage: aws.String("interrupted")}
		cp.must(ctx, u)
		return output{Status: "FAILED", Error: u.Error}
	}))
	out, h := runToEnd(t, s, "crashy", "{}")
	if out.Status != types.ExecutionStatusFailed {
		t.Fatal(out.Status)
	}
	wantEvents(t, h, "ExecutionStarted", "StepStarted", "InvocationCompleted", "StepFailed", "InvocationCompleted", "ExecutionFailed")
	matchHistory(t, h, []map[string]any{
		{"EventId": 3, "InvocationCompletedDetails": M{"Error": M{"Payload": M{"ErrorMessage": "*", "ErrorType": "Runtime.ExitError"}}}},
		{"EventId": 4, "StepFailedDetails": M{"Error": M{"Payload": M{"ErrorType": "*"}}, "RetryDetails": M{"CurrentAttempt": 1}}},
	})
}

// TestExecutionTimeout: an execution still running at its ExecutionTimeout
// ends TIMED_OUT; checkpoints are refused afterwards.
func TestExecutionTimeout(t *testing.T) {
	s, _ := newTestService(t)
	s.Register("sleepy", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		if env.op("w") == nil {
			cp.must(ctx, waitStart("w", 3600))
		}
		return pending()
	}), WithExecutionTimeout(90*time.Second))
	out, h := runToEnd(t, s, "sleepy", "{}")
	if out.Status != types.ExecutionStatusTimedOut || out.EndTimestamp.Sub(*out.StartTimestamp) != 90*time.Second {
		t.Fatalf("execution = %s after %v", out.Status, out.EndTimestamp.Sub(*out.StartTimestamp))
	}
	if aws.ToInt32(out.DurableConfig.ExecutionTimeout) != 90 {
		t.Errorf("DurableConfig = %+v", out.DurableConfig)
	}
	wantEvents(t, h, "ExecutionStarted", "WaitStarted", "InvocationCompleted", "ExecutionTimedOut")
	matchHistory(t, h, []map[string]any{{"EventId": 1, "ExecutionStartedDetails": M{"ExecutionTimeout": 90}},
		{"EventId": 4, "ExecutionTimedOutDetails": M{"Error": M{"Payload": M{"ErrorMessage": "Execution timed out after 90 seconds."}}}}})
}

// TestStopDuringInvocation: stopping does not interrupt the invocation, but
// its next checkpoint fails with the retryable token error.
func TestStopDuringInvocation(t *testing.T) {
	s, _ := newTestService(t)
	ctx := testContext(t)
	entered, release := make(chan string), make(chan struct{})
	cpErr := make(chan error, 1)
	s.Register("long", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		entered <- env.DurableExecutionArn
		<-release
		_, err := cp.send(ctx, stepStart("s", ""))
		cpErr <- err
		return pending()
	}))
	if _, err := s.Start(ctx, "long", nil); err != nil {
		t.Fatal(err)
	}
	arn := <-entered
	stop, err := s.API().StopDurableExecution(ctx, &lambda.StopDurableExecutionInput{DurableExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-cpErr; err == nil || !strings.Contains(err.Error(), "Invalid Checkpoint Token") {
		t.Errorf("checkpoint after stop: %v", err)
	}
	s.WaitIdle(ctx)
	again, err := s.API().StopDurableExecution(ctx, &lambda.StopDurableExecutionInput{DurableExecutionArn: &arn})
	if err != nil || !again.StopTimestamp.Equal(*stop.StopTimestamp) {
		t.Errorf("second stop = %v, %v", again, err)
	}
	h := historyJSON(t, s, arn)
	wantEvents(t, h, "ExecutionStarted", "ExecutionStopped", "InvocationCompleted")
	matchHistory(t, h, []map[string]any{{"EventId": 2, "ExecutionStoppedDetails": M{"Error": M{"Payload": M{"ErrorMessage": "Execution stopped by user request"}}}}})
	got, _ := s.Wait(ctx, arn)
	if got.Status != types.ExecutionStatusStopped {
		t.Errorf("status = %s", got.Status)
	}
}

// TestReinvokeWhileRunning: a completion during an invocation queues another
// invocation, which starts when the first ends; an empty checkpoint sees the
// completion at once.
func TestReinvokeWhileRunning(t *testing.T) {
	s, vc := newTestService(t)
	var n atomic.Int32
	s.Register("fn", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		switch n.Add(1) {
		case 1:
			cp.must(ctx, waitStart("w", 10))
			vc.Advance(10 * time.Second) // the wait completes while this invocation runs
			out := cp.must(ctx)          // an empty checkpoint returns it
			ops := out.NewExecutionState.Operations
			if len(ops) != 1 || *ops[0].Id != "w" || ops[0].Status != types.OperationStatusSucceeded || ops[0].EndTimestamp == nil {
				t.Errorf("delta after the wait completed: %+v", ops)
			}
			if out := cp.must(ctx); len(out.NewExecutionState.Operations) != 0 {
				t.Errorf("second empty checkpoint delta: %+v", out.NewExecutionState.Operations)
			}
			return pending() // valid: a re-invocation is due
		default:
			return succeeded(`1`)
		}
	}))
	out, h := runToEnd(t, s, "fn", "{}")
	if out.Status != types.ExecutionStatusSucceeded || n.Load() != 2 {
		t.Fatalf("status %s after %d invocations", out.Status, n.Load())
	}
	wantEvents(t, h, "ExecutionStarted", "WaitStarted", "WaitSucceeded", "InvocationCompleted", "InvocationCompleted", "ExecutionSucceeded")
}

// TestExecutionCheckpoint: a result checkpointed as an EXECUTION update ends
// the execution at once; the response has no token and the terminal event
// comes before the invocation's InvocationCompleted.
func TestExecutionCheckpoint(t *testing.T) {
	s, _ := newTestService(t)
	s.Register("big", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		u := update("execution-result-1", types.OperationTypeExecution, types.OperationActionSucceed)
		u.Payload = aws.String(`"` + strings.Repeat("x", 100) + `"`)
		out := cp.must(ctx, stepStart("s", ""), stepSucceed("s", "1"), u)
		if out.CheckpointToken != nil {
			t.Error("token after a terminal EXECUTION update")
		}
		if _, err := cp.send(ctx); apiCode(err) != codeInvalidParameter {
			t.Errorf("checkpoint after the end: %v", err)
		}
		return output{Status: "SUCCEEDED", Result: aws.String("")}
	}))
	out, h := runToEnd(t, s, "big", "{}")
	if out.Status != types.ExecutionStatusSucceeded || len(aws.ToString(out.Result)) != 102 {
		t.Fatalf("execution = %s %d", out.Status, len(aws.ToString(out.Result)))
	}
	wantEvents(t, h, "ExecutionStarted", "StepStarted", "StepSucceeded", "ExecutionSucceeded", "InvocationCompleted")
}

// TestCheckpointTokens covers token rotation, the idempotent replay of
// (ClientToken, CheckpointToken) and the shape of errors.
func TestCheckpointTokens(t *testing.T) {
	s, _ := newTestService(t)
	s.Register("fn", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		api := s.API()
		in := &lambda.CheckpointDurableExecutionInput{
			DurableExecutionArn: aws.String(env.DurableExecutionArn),
			CheckpointToken:     aws.String(env.CheckpointToken),
			ClientToken:         aws.String("c-1"),
			Updates:             []types.OperationUpdate{stepStart("s", "")},
		}
		first, err := api.CheckpointDurableExecution(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		// A retry with the same pair gets the same answer, applied once.
		second, err := api.CheckpointDurableExecution(ctx, in)
		if err != nil || *second.CheckpointToken != *first.CheckpointToken || len(second.NewExecutionState.Operations) != 1 {
			t.Errorf("replay = %+v, %v", second, err)
		}
		// Another client token with the consumed token is refused.
		in.ClientToken = aws.String("c-2")
		_, err = api.CheckpointDurableExecution(ctx, in)
		var oe *smithy.OperationError
		var re *awshttp.ResponseError
		var ae smithy.APIError
		var ipv *types.InvalidParameterValueException
		if !errors.As(err, &oe) || oe.Service() != "Lambda" || oe.Operation() != "CheckpointDurableExecution" ||
			!errors.As(err, &re) || re.HTTPStatusCode() != 400 ||
			!errors.As(err, &ae) || ae.ErrorCode() != codeInvalidParameter || ae.ErrorMessage() != "Invalid Checkpoint Token" ||
			ae.ErrorFault() != smithy.FaultClient || !errors.As(err, &ipv) {
			t.Errorf("stale token error = %#v", err)
		}
		// Reads validate the token without rotating it.
		st, err := api.GetDurableExecutionState(ctx, &lambda.GetDurableExecutionStateInput{
			DurableExecutionArn: in.DurableExecutionArn, CheckpointToken: first.CheckpointToken})
		if err != nil || len(st.Operations) != 2 {
			t.Errorf("state = %+v, %v", st, err)
		}
		if _, err := api.GetDurableExecutionState(ctx, &lambda.GetDurableExecutionStateInput{
			DurableExecutionArn: in.DurableExecutionArn, CheckpointToken: in.CheckpointToken}); apiCode(err) != codeInvalidParameter {
			t.Errorf("state with a consumed token: %v", err)
		}
		cp.token = *first.CheckpointToken
		cp.must(ctx, stepSucceed("s", "1"))
		return succeeded("1")
	}))
	out, h := runToEnd(t, s, "fn", "{}")
	if out.Status != types.ExecutionStatusSucceeded {
		t.Fatal(out.Status)
	}
	wantEvents(t, h, "ExecutionStarted", "StepStarted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded")

	// No invocation is running now: every token is refused.
	_, err := s.API().CheckpointDurableExecution(context.Background(), &lambda.CheckpointDurableExecutionInput{
		DurableExecutionArn: out.DurableExecutionArn, CheckpointToken: aws.String(checkpointToken("x", 1))})
	if apiCode(err) != codeInvalidParameter {
		t.Errorf("token outside an invocation: %v", err)
	}
}
