package local

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// storeKinds opens the same store again for each service of a test.
func storeKinds(t *testing.T) map[string]func() Option {
	mem := NewMemoryStore()
	path := filepath.Join(t.TempDir(), "durable.db")
	return map[string]func() Option{
		"memory": func() Option { return WithStore(mem) },
		"sqlite": func() Option { return WithDatabase(path) },
	}
}

// TestRestart: a service started on the store of a closed one resumes its
// running executions: timers are re-armed, callbacks still complete, and an
// invocation cut by the shutdown is recorded as failed and re-run.
func TestRestart(t *testing.T) {
	for kind, store := range storeKinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := testContext(t)
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var blocked atomic.Bool
			entered := make(chan struct{}, 1)
			cbIDs := make(chan string, 1)
			handler := func(s *Service) handlerFunc {
				return durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
					input := env.InitialExecutionState.Operations[0]["ExecutionDetails"].(map[string]any)["InputPayload"]
					switch input {
					case `"wait"`:
						if env.op("w") == nil {
							cp.must(ctx, stepStart("s", "prep"), stepSucceed("s", `"p"`), waitStart("w", 3600))
							return pending()
						}
						return succeeded(`"waited"`)
					case `"callback"`:
						if cb := env.op("cb"); cb != nil {
							return succeeded(cb["CallbackDetails"].(map[string]any)["Result"].(string))
						}
						out := cp.must(ctx, update("cb", types.OperationTypeCallback, types.OperationActionStart))
						cbIDs <- *out.NewExecutionState.Operations[0].CallbackDetails.CallbackId
						return pending()
					default: // "crash": blocks in the first invocation until the service closes
						if env.op("s") == nil && blocked.CompareAndSwap(false, true) {
							cp.must(ctx, stepStart("s", "work"))
							entered <- struct{}{}
							<-ctx.Done()
							return pending()
						}
						if st := env.op("s"); st == nil || st["Status"] != "STARTED" {
							t.Errorf("after restart: step = %v", st)
						}
						cp.must(ctx, stepSucceed("s", "1"))
						return succeeded("1")
					}
				})
			}

			vc1 := NewVirtualClock(t0)
			s1, err := New(WithClock(vc1), store())
			if err != nil {
				t.Fatal(err)
			}
			s1.Register("r", handler(s1))
			waitARN, err := s1.Start(ctx, "r", []byte(`"wait"`), WithExecutionName("w-1"))
			if err != nil {
				t.Fatal(err)
			}
			cbARN, err := s1.Start(ctx, "r", []byte(`"callback"`))
			if err != nil {
				t.Fatal(err)
			}
			cbID := <-cbIDs
			if err := s1.WaitIdle(ctx); err != nil { // both suspended
				t.Fatal(err)
			}
			crashARN, err := s1.Start(ctx, "r", []byte(`"crash"`))
			if err != nil {
				t.Fatal(err)
			}
			<-entered
			if err := s1.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := s1.Start(ctx, "r", nil); err == nil {
				t.Error("Start on a closed service")
			}

			// The second service starts ten minutes later.
			vc2 := NewVirtualClock(t0.Add(10 * time.Minute))
			s2, err := New(WithClock(vc2), store())
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			// Nothing runs before the function is registered.
			if err := s2.WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := s2.API().GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(waitARN)})
			if err != nil || got.Status != types.ExecutionStatusRunning {
				t.Fatalf("after restart: %+v, %v", got, err)
			}
			s2.Register("r", handler(s2))
			// The name is still taken.
			if arn, err := s2.Start(ctx, "r", []byte(`"wait"`), WithExecutionName("w-1")); err != nil || arn != waitARN {
				t.Errorf("name after restart: %v, %v", arn, err)
			}

			out, err := s2.RunUntilTerminal(ctx, crashARN)
			if err != nil || out.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("crashed execution: %+v, %v", out, err)
			}
			h := historyJSON(t, s2, crashARN)
			wantEvents(t, h, "ExecutionStarted", "StepStarted", "InvocationCompleted", "StepSucceeded", "InvocationCompleted", "ExecutionSucceeded")
			matchHistory(t, h, []map[string]any{{"EventId": 3, "InvocationCompletedDetails": M{"Error": M{"Payload": M{"ErrorType": "Runtime.ExitError"}}}}})

			if _, err := s2.API().SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{
				CallbackId: aws.String(cbID), Result: []byte(`"ok"`)}); err != nil {
				t.Fatal(err)
			}
			out, err = s2.RunUntilTerminal(ctx, cbARN)
			if err != nil || aws.ToString(out.Result) != `"ok"` {
				t.Fatalf("callback execution: %+v, %v", out, err)
			}

			out, err = s2.RunUntilTerminal(ctx, waitARN)
			if err != nil || out.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("waiting execution: %+v, %v", out, err)
			}
			if !out.EndTimestamp.Equal(t0.Add(time.Hour)) {
				t.Errorf("wait ended at %v, want %v", out.EndTimestamp, t0.Add(time.Hour))
			}
			h = historyJSON(t, s2, waitARN)
			wantEvents(t, h, "ExecutionStarted", "StepStarted", "StepSucceeded", "WaitStarted", "InvocationCompleted",
				"WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded")
			matchHistory(t, h, []map[string]any{
				{"EventId": 3, "StepSucceededDetails": M{"Result": M{"Payload": `"p"`, "Truncated": false}, "RetryDetails": M{"CurrentAttempt": 1}}},
				{"EventId": 4, "WaitStartedDetails": M{"Duration": 3600, "ScheduledEndTimestamp": 1767229200}},
			})
			list, err := s2.API().ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("r")})
			if err != nil || len(list.DurableExecutions) != 3 || *list.DurableExecutions[0].DurableExecutionArn != crashARN {
				t.Errorf("list after restart: %+v, %v", list, err)
			}
		})
	}
}

// TestRetention: finished executions disappear once their retention period
// has passed on the service clock.
func TestRetention(t *testing.T) {
	s, vc := newTestService(t)
	ctx := testContext(t)
	s.Register("fn", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		return succeeded("1")
	}), WithRetentionPeriod(1))
	arn, err := s.Start(ctx, "fn", nil, WithExecutionName("kept"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Wait(ctx, arn); err != nil {
		t.Fatal(err)
	}
	s.expire()
	if _, err := s.Wait(ctx, arn); err != nil {
		t.Fatalf("expired too early: %v", err)
	}
	vc.Advance(25 * time.Hour)
	s.expire()
	if _, err := s.API().GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)}); apiCode(err) != codeNotFound {
		t.Errorf("after retention: %v", err)
	}
	// The name is free again.
	if again, err := s.Start(ctx, "fn", []byte(`{"other":1}`), WithExecutionName("kept")); err != nil || again == arn {
		t.Errorf("reuse of an expired name: %v, %v", again, err)
	}
}
