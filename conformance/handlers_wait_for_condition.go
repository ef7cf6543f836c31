package conformance

import (
	"context"
	"errors"
	"time"

	"github.com/durablectx/durable"
)

// Suite wait_for_condition (6-x): polling with WaitForCondition, its states,
// strategies and failing checks.

func registerWaitForCondition(r *Registry) {
	r.HandleFunc(durableFunc(pollCounterToInput), "6-1")
	r.HandleFunc(durableFunc(conditionMetAtOnce), "6-2")
	r.HandleFunc(durableFunc(namedPoll), "6-3")
	r.HandleFunc(durableFunc(pollWithFixedDelay), "6-5")
	r.HandleFunc(durableFunc(failingCheck), "6-7")
	r.HandleFunc(durableFunc(failingCheckCaught), "6-8")
	r.HandleFunc(durableFunc(pollObjectState), "6-9")
	r.HandleFunc(durableFunc(pollNullState), "6-10")
	r.HandleFunc(durableFunc(pollThenStep), "6-12")
}

func increment(_ context.Context, n int) (int, error) { return n + 1, nil }

// untilAtLeast stops polling once the state reaches threshold, else polls
// again after delay.
func untilAtLeast(threshold int, delay time.Duration) durable.WaitStrategy[int] {
	return func(n int, _ int) durable.WaitDecision {
		if n >= threshold {
			return durable.StopPolling()
		}
		return durable.PollAgain(delay)
	}
}

// 6-1: count from 0 until the input threshold, one check per invocation.
func pollCounterToInput(ctx context.Context, threshold int) (int, error) {
	return durable.WaitForCondition(ctx, "counter", 0, increment, untilAtLeast(threshold, time.Second))
}

// 6-2: the initial state 5 already meets the condition (state >= input).
func conditionMetAtOnce(ctx context.Context, threshold int) (int, error) {
	same := func(_ context.Context, n int) (int, error) { return n, nil }
	return durable.WaitForCondition(ctx, "immediate", 5, same, untilAtLeast(threshold, time.Second))
}

// 6-3: the poll is named poll-status; it counts to the input (2).
func namedPoll(ctx context.Context, threshold int) (int, error) {
	return durable.WaitForCondition(ctx, "poll-status", 0, increment, untilAtLeast(threshold, time.Second))
}

// 6-5: a fixed 2-second delay between checks.
func pollWithFixedDelay(ctx context.Context, threshold int) (int, error) {
	return durable.WaitForCondition(ctx, "fixed-delay", 0, increment, untilAtLeast(threshold, 2*time.Second))
}

func checkFails(context.Context, int) (int, error) {
	return 0, errors.New("the check failed")
}

// 6-7: the check fails on its first run; the execution fails.
func failingCheck(ctx context.Context, _ any) (int, error) {
	return durable.WaitForCondition(ctx, "failing-check", 0, checkFails, untilAtLeast(1, time.Second))
}

// 6-8: as 6-7, caught: the handler returns "recovered".
func failingCheckCaught(ctx context.Context, _ any) (string, error) {
	_, err := failingCheck(ctx, nil)
	var se *durable.StepError
	if errors.As(err, &se) {
		return "recovered", nil
	}
	if err != nil {
		return "", err
	}
	return "", errors.New("the failing check succeeded")
}

type jobState struct {
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

// 6-9: an object state; DONE once attempts reaches 2.
func pollObjectState(ctx context.Context, _ any) (jobState, error) {
	check := func(_ context.Context, s jobState) (jobState, error) {
		s.Attempts++
		if s.Attempts >= 2 {
			s.Status = "DONE"
		}
		return s, nil
	}
	strategy := func(s jobState, _ int) durable.WaitDecision {
		if s.Status == "PENDING" {
			return durable.PollAgain(time.Second)
		}
		return durable.StopPolling()
	}
	return durable.WaitForCondition(ctx, "job", jobState{Status: "PENDING"}, check, strategy)
}

// 6-10: the check returns null, and polling stops at once.
func pollNullState(ctx context.Context, _ any) (any, error) {
	check := func(context.Context, any) (any, error) { return nil, nil }
	stop := func(any, int) durable.WaitDecision { return durable.StopPolling() }
	return durable.WaitForCondition[any](ctx, "null-state", nil, check, stop)
}

// 6-12: count to the input (2), then a step multiplies the result by 10.
func pollThenStep(ctx context.Context, threshold int) (int, error) {
	n, err := durable.WaitForCondition(ctx, "counter", 0, increment, untilAtLeast(threshold, time.Second))
	if err != nil {
		return 0, err
	}
	return durable.Step(ctx, "multiply", func(context.Context) (int, error) { return n * 10, nil })
}
