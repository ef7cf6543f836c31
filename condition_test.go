package durable_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
)

func TestWaitForConditionPollsAcrossInvocations(t *testing.T) {
	api := fakeapi.New(`3`)
	var checks []string
	h := wrap(api, func(ctx context.Context, threshold int) (int, error) {
		return durable.WaitForCondition(ctx, "poll-status", 0,
			func(ctx context.Context, n int) (int, error) {
				checks = append(checks, fmt.Sprintf("%d@%d", n, durable.StepAttempt(ctx)))
				return n + 1, nil
			},
			func(n, attempt int) durable.WaitDecision {
				if n >= threshold {
					return durable.StopPolling()
				}
				return durable.PollAgain(2 * time.Second)
			})
	})
	outs, err := api.Run(context.Background(), h, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 3 || outs[2].Status != "SUCCEEDED" || *outs[2].Result != "3" {
		t.Fatalf("answers %+v", outs)
	}
	if got := strings.Join(checks, " "); got != "0@1 1@2 2@3" {
		t.Fatalf("checks %s: each runs once, from the recorded state", got)
	}
	ups := api.Updates()
	if got := strings.Join(typedActions(ups), " "); got != "STEP/START STEP/RETRY STEP/START STEP/RETRY STEP/START STEP/SUCCEED" {
		t.Fatalf("updates %s", got)
	}
	for i, u := range ups {
		if deref(u.SubType) != "WaitForCondition" || deref(u.Name) != "poll-status" || deref(u.Id) != ctxstate.WireID("1") || u.ParentId != nil {
			t.Fatalf("update %d: %s %q %s", i, deref(u.SubType), deref(u.Name), deref(u.Id))
		}
		if u.Action == types.OperationActionRetry {
			if u.Error != nil || u.StepOptions == nil || *u.StepOptions.NextAttemptDelaySeconds != 2 {
				t.Fatalf("continue update %d: error %v options %+v", i, u.Error, u.StepOptions)
			}
		}
	}
	if p := []string{deref(ups[1].Payload), deref(ups[3].Payload), deref(ups[5].Payload)}; fmt.Sprint(p) != "[1 2 3]" {
		t.Fatalf("recorded states %v", p)
	}
	// Replay of the finished operation runs no check.
	if out := invokeStatus(t, api, h, "SUCCEEDED"); *out.Result != "3" || len(checks) != 3 {
		t.Fatalf("replay: %s, %d checks", *out.Result, len(checks))
	}
}

func TestWaitForConditionStopsOnTheFirstCheck(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (*string, error) {
		return durable.WaitForCondition(ctx, "", (*string)(nil),
			func(context.Context, *string) (*string, error) { return nil, nil },
			func(*string, int) durable.WaitDecision { return durable.StopPolling() })
	})
	if out := invokeStatus(t, api, h, "SUCCEEDED"); *out.Result != "null" {
		t.Fatalf("result %s", *out.Result)
	}
	ups := api.Updates()
	if got := strings.Join(typedActions(ups), " "); got != "STEP/START STEP/SUCCEED" || deref(ups[1].Payload) != "null" {
		t.Fatalf("updates %s payload %s", got, deref(ups[1].Payload))
	}
}

type job struct {
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

func TestWaitForConditionStructStateAndPollUntil(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (job, error) {
		return durable.WaitForCondition(ctx, "job", job{Status: "PENDING"},
			func(_ context.Context, j job) (job, error) {
				j.Attempts++
				if j.Attempts == 4 {
					j.Status = "DONE"
				}
				return j, nil
			},
			durable.PollUntil(func(j job) bool { return j.Status == "DONE" },
				durable.RetryPolicy{InitialDelay: time.Second, Multiplier: 2, MaxDelay: 3 * time.Second, Jitter: durable.NoJitter}))
	})
	outs, err := api.Run(context.Background(), h, 10)
	if err != nil {
		t.Fatal(err)
	}
	if last := outs[len(outs)-1]; *last.Result != `{"status":"DONE","attempts":4}` {
		t.Fatalf("result %s", *last.Result)
	}
	var delays []int32
	for _, u := range api.Updates() {
		if u.Action == types.OperationActionRetry {
			delays = append(delays, *u.StepOptions.NextAttemptDelaySeconds)
		}
	}
	if fmt.Sprint(delays) != "[1 2 3]" {
		t.Fatalf("delays %v, want the backoff capped at 3 s", delays)
	}
}

func TestWaitForConditionCheckErrorFailsWithoutRetry(t *testing.T) {
	api := fakeapi.New(`null`)
	var seen []*durable.StepError
	h := wrap(api, func(ctx context.Context, _ any) (int, error) {
		_, err := durable.WaitForCondition(ctx, "probe", 0,
			func(context.Context, int) (int, error) { return 0, &declinedError{Code: "down", Amount: 2} },
			func(int, int) durable.WaitDecision { return durable.PollAgain(time.Second) })
		var se *durable.StepError
		var de *declinedError
		if errors.As(err, &se) && errors.As(err, &de) {
			seen = append(seen, se)
		}
		return 0, err
	})
	for range 2 {
		out := invokeStatus(t, api, h, "FAILED")
		if deref(out.Error.ErrorType) != "durable_test.declinedError" {
			t.Fatalf("execution error %s", errMsg(out))
		}
	}
	if len(seen) != 2 || seen[0].Attempt != 1 || seen[1].Attempt != 1 || seen[0].Error() != seen[1].Error() {
		t.Fatalf("errors %+v", seen)
	}
	if got := strings.Join(typedActions(api.Updates()), " "); got != "STEP/START STEP/FAIL" {
		t.Fatalf("updates %s", got)
	}
}

func TestWaitForConditionMaxPolls(t *testing.T) {
	api := fakeapi.New(`null`)
	var limits []int
	h := wrap(api, func(ctx context.Context, _ any) (int, error) {
		n, err := durable.WaitForCondition(ctx, "never", 0,
			func(_ context.Context, n int) (int, error) { return n + 1, nil },
			func(int, int) durable.WaitDecision { return durable.PollAgain(time.Second) },
			durable.WithMaxPolls(2))
		var pe *durable.PollLimitError
		if errors.As(err, &pe) {
			limits = append(limits, pe.Polls)
			return -1, nil
		}
		return n, err
	})
	outs, err := api.Run(context.Background(), h, 5)
	if err != nil {
		t.Fatal(err)
	}
	invokeStatus(t, api, h, "SUCCEEDED") // replay of the failed operation
	if len(outs) != 2 || *outs[1].Result != "-1" || fmt.Sprint(limits) != "[2 2]" {
		t.Fatalf("answers %+v, limits %v", outs, limits)
	}
	ups := api.Updates()
	last := ups[len(ups)-1]
	if last.Action != types.OperationActionFail || deref(last.Error.ErrorType) != "durable.PollLimitError" {
		t.Fatalf("last update %s %s", last.Action, deref(last.Error.ErrorType))
	}
}

func TestWaitForConditionDelays(t *testing.T) {
	for _, tc := range []struct {
		delay time.Duration
		secs  int32 // 0: the operation fails
	}{
		{0, 1},
		{-time.Second, 1},
		{1500 * time.Millisecond, 2},
		{durable.MaxWait, 31622400},
		{durable.MaxWait + time.Second, 0},
	} {
		t.Run(tc.delay.String(), func(t *testing.T) {
			api := fakeapi.New(`null`)
			h := wrap(api, func(ctx context.Context, _ any) (int, error) {
				return durable.WaitForCondition(ctx, "c", 0,
					func(context.Context, int) (int, error) { return 1, nil },
					func(int, int) durable.WaitDecision { return durable.PollAgain(tc.delay) })
			})
			out, err := api.Invoke(context.Background(), h)
			if err != nil {
				t.Fatal(err)
			}
			last := api.Updates()[len(api.Updates())-1]
			if tc.secs == 0 {
				if out.Status != "FAILED" || last.Action != types.OperationActionFail || !strings.Contains(errMsg(out), "366 days") {
					t.Fatalf("got %s %s, last update %s", out.Status, errMsg(out), last.Action)
				}
				return
			}
			if out.Status != "PENDING" || *last.StepOptions.NextAttemptDelaySeconds != tc.secs {
				t.Fatalf("got %s, last update %s %+v", out.Status, last.Action, last.StepOptions)
			}
		})
	}
}

func TestWaitForConditionStrategyPanicFailsTheOperation(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (int, error) {
		return durable.WaitForCondition(ctx, "c", 0,
			func(context.Context, int) (int, error) { return 1, nil },
			func(int, int) durable.WaitDecision { panic("bad strategy") })
	})
	out := invokeStatus(t, api, h, "FAILED")
	if !strings.Contains(errMsg(out), "bad strategy") {
		t.Fatalf("got %s", errMsg(out))
	}
}

func TestWaitForConditionInterruptedCheckRunsAgainFromTheRecordedState(t *testing.T) {
	api := fakeapi.New(`null`)
	id := strp(ctxstate.WireID("1"))
	base := types.OperationUpdate{Id: id, Type: types.OperationTypeStep, SubType: strp("WaitForCondition"), Name: strp("c")}
	start, retry := base, base
	start.Action = types.OperationActionStart
	retry.Action, retry.Payload = types.OperationActionRetry, strp("5")
	retry.StepOptions = &types.StepOptions{NextAttemptDelaySeconds: int32p(1)}
	api.Record(start)
	api.Record(retry)
	api.Advance()
	api.Record(start) // the second check started, then the invocation died
	var got []string
	h := wrap(api, func(ctx context.Context, _ any) (int, error) {
		return durable.WaitForCondition(ctx, "c", 0,
			func(ctx context.Context, n int) (int, error) {
				got = append(got, fmt.Sprintf("%d@%d", n, durable.StepAttempt(ctx)))
				return n + 1, nil
			},
			func(int, int) durable.WaitDecision { return durable.StopPolling() })
	})
	if out := invokeStatus(t, api, h, "SUCCEEDED"); *out.Result != "6" {
		t.Fatalf("result %s", *out.Result)
	}
	if fmt.Sprint(got) != "[5@2]" {
		t.Fatalf("checks %v", got)
	}
	if acts := typedActions(api.Updates()); len(acts) != 1 || acts[0] != "STEP/SUCCEED" {
		t.Fatalf("updates %v: a STARTED check is not started again", acts)
	}
}

func TestWaitForConditionMisuse(t *testing.T) {
	check := func(context.Context, int) (int, error) { return 0, nil }
	stop := func(int, int) durable.WaitDecision { return durable.StopPolling() }
	if _, err := durable.WaitForCondition(context.Background(), "c", 0, check, stop); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatalf("without an execution: %v", err)
	}
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		if _, err := durable.WaitForCondition(ctx, "c", 0, check, nil); err == nil || !strings.Contains(err.Error(), "wait strategy") {
			return "", fmt.Errorf("nil strategy: %v", err)
		}
		if _, err := durable.WaitForCondition(ctx, "c", 0, nil, stop); err == nil {
			return "", errors.New("nil check accepted")
		}
		if _, err := durable.WaitForCondition(ctx, "c", 0, check, stop, durable.WithMaxPolls(-1)); err == nil {
			return "", errors.New("negative max polls accepted")
		}
		_, err := durable.WaitForCondition(ctx, "nested", 0, func(ctx context.Context, n int) (int, error) {
			return n, durable.Wait(ctx, "inside", time.Second)
		}, stop)
		var se *durable.StepError
		if !errors.As(err, &se) || !strings.Contains(se.ErrorMessage, "inside a step function") {
			return "", fmt.Errorf("an operation inside the check: %v", err)
		}
		return "ok", nil
	})
	invokeStatus(t, api, h, "SUCCEEDED")
	if got := strings.Join(typedActions(api.Updates()), " "); got != "STEP/START STEP/FAIL" {
		t.Fatalf("updates %s: only the nested check should have been recorded", got)
	}
	if !reflect.DeepEqual(deref(api.Updates()[0].Id), ctxstate.WireID("1")) {
		t.Fatal("refused conditions claimed positions")
	}
}

func int32p(v int32) *int32 { return &v }
