package durable_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/internal/fakeapi"
)

var threeAttempts = durable.RetryPolicy{MaxAttempts: 3, InitialDelay: 2 * time.Second, Multiplier: 2, Jitter: durable.NoJitter}

func TestRetryRunsTheGroupAgainAfterADurableWait(t *testing.T) {
	api := fakeapi.New(`null`)
	var runs atomic.Int32
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Retry(ctx, "charge", func(ctx context.Context) (string, error) {
			n := runs.Add(1)
			id, err := durable.Step(ctx, "reserve", func(context.Context) (string, error) { return fmt.Sprint("r", n), nil })
			if err != nil {
				return "", err
			}
			return durable.Step(ctx, "confirm", func(context.Context) (string, error) {
				if n < 3 {
					return "", fmt.Errorf("%s declined", id)
				}
				return id + " confirmed", nil
			}, durable.WithRetry(durable.NoRetry))
		}, threeAttempts)
	})
	outs, err := api.Run(context.Background(), h, 10)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, o := range outs {
		statuses = append(statuses, o.Status)
	}
	if strings.Join(statuses, ",") != "PENDING,PENDING,SUCCEEDED" || deref(outs[2].Result) != `"r3 confirmed"` {
		t.Fatalf("answers %v, result %s", statuses, deref(outs[2].Result))
	}
	if runs.Load() != 3 {
		t.Fatalf("the group ran %d times", runs.Load())
	}
	assertHistory(t, api,
		"CONTEXT/RunInChildContext START",
		"CONTEXT/RunInChildContext START ^0", // attempt 1
		"STEP/Step START ^1",
		"STEP/Step SUCCEED ^1",
		"STEP/Step START ^1",
		"STEP/Step FAIL ^1",
		"CONTEXT/RunInChildContext FAIL ^0",
		"WAIT/Wait START ^0", // backoff 1
		"CONTEXT/RunInChildContext START ^0",
		"STEP/Step START ^8",
		"STEP/Step SUCCEED ^8",
		"STEP/Step START ^8",
		"STEP/Step FAIL ^8",
		"CONTEXT/RunInChildContext FAIL ^0",
		"WAIT/Wait START ^0",
		"CONTEXT/RunInChildContext START ^0",
		"STEP/Step START ^15",
		"STEP/Step SUCCEED ^15",
		"STEP/Step START ^15",
		"STEP/Step SUCCEED ^15",
		"CONTEXT/RunInChildContext SUCCEED ^0",
		"CONTEXT/RunInChildContext SUCCEED",
	)
	ups := api.Updates()
	for i, want := range map[int]int32{7: 2, 14: 4} {
		if u := ups[i]; deref(u.Name) != fmt.Sprint("backoff ", map[int]int{7: 1, 14: 2}[i]) || *u.WaitOptions.WaitSeconds != want {
			t.Errorf("wait %d: %s %d s", i, deref(u.Name), *u.WaitOptions.WaitSeconds)
		}
	}
	if deref(ups[1].Name) != "attempt 1" || deref(ups[15].Name) != "attempt 3" || deref(ups[0].Name) != "charge" {
		t.Errorf("names %s %s %s", deref(ups[0].Name), deref(ups[1].Name), deref(ups[15].Name))
	}
}

func TestRetryGivesUpWithTheLastError(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		_, err := durable.Retry(ctx, "charge", func(ctx context.Context) (string, error) {
			return "", &declinedError{Code: "expired", Amount: 7}
		}, durable.RetryPolicy{MaxAttempts: 2, InitialDelay: time.Second, Jitter: durable.NoJitter})
		var ce *durable.ChildError
		var de *declinedError
		if !errors.As(err, &ce) || !errors.As(err, &de) || ce.Name != "charge" || de.Code != "expired" {
			return "", fmt.Errorf("got %T %v", err, err)
		}
		return ce.Error(), nil
	})
	outs, err := api.Run(context.Background(), h, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := `"durable: child context \"charge\" failed: card declined (expired) for 7"`
	if len(outs) != 2 || deref(outs[1].Result) != want {
		t.Fatalf("answers %+v, result %s", outs, deref(outs[len(outs)-1].Result))
	}
	// Replay returns the recorded failure.
	if got := invokeOK(t, api, h); got != want {
		t.Fatalf("replay %s", got)
	}
}

func TestRetryReplayFollowsTheRecordedDecision(t *testing.T) {
	api := fakeapi.New(`null`)
	retryable := true
	policy := threeAttempts
	policy.RetryIf = func(error) bool { return retryable }
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Retry(ctx, "", func(ctx context.Context) (string, error) {
			return durable.Step(ctx, "s", func(ctx context.Context) (string, error) {
				if durable.StepAttempt(ctx) == 1 && api.Operation("backoff 1") == nil {
					return "", errors.New("first attempt fails")
				}
				return "ok", nil
			}, durable.WithRetry(durable.NoRetry))
		}, policy)
	})
	if out, err := api.Invoke(context.Background(), h); err != nil || out.Status != "PENDING" {
		t.Fatalf("first invocation %+v %v", out, err)
	}
	// The policy changed: it would no longer retry. The recorded wait says
	// the first invocation did, and replay follows it.
	retryable = false
	api.Advance()
	if got := invokeOK(t, api, h); got != `"ok"` {
		t.Fatalf("second invocation %s", got)
	}
	if op := api.Operation("attempt 2"); op == nil {
		t.Fatal("no second attempt")
	}
}
