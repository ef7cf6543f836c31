package conformance

import (
	"context"
	"errors"
	"time"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/local"
)

// Suite step (1-x): steps, their names, results, errors, retries and
// at-most-once semantics.

func registerStep(r *Registry) {
	r.HandleFunc(durableFunc(greetStep), "1-1")
	r.HandleFunc(durableFunc(namedGreetStep), "1-2")
	r.HandleFunc(durableFunc(sequentialSteps), "1-3")
	r.HandleFunc(durableFunc(complexObjectStep), "1-4")
	r.HandleFunc(durableFunc(stepWithLogger), "1-7")
	r.HandleFunc(durableFunc(stepThenWait), "1-8")
	r.HandleFunc(durableFunc(failedStepCaughtThenWait), "1-10")
	r.HandleFunc(durableFunc(stepRetriedOnce), "1-11")
	r.HandleFunc(durableFunc(stepWithBackoff), "1-14")
	r.HandleFunc(durableFunc(nonRetryableTransientError), "1-16")
	r.HandleFunc(durableFunc(atMostOnceCrash), "1-17")
	r.HandleFunc(durableFunc(failingStep), "1-19")
	r.HandleFunc(durableFunc(failedStepCaught), "1-20")
}

func greet(name string) string { return "Hello, " + name + "!" }

// 1-1: one step greeting the input.
func greetStep(ctx context.Context, in string) (string, error) {
	return durable.Step(ctx, "greet", func(context.Context) (string, error) { return greet(in), nil })
}

// 1-2: the same step, named custom_step_name.
func namedGreetStep(ctx context.Context, in string) (string, error) {
	return durable.Step(ctx, "custom_step_name", func(context.Context) (string, error) { return greet(in), nil })
}

// 1-3: the second step uses the first one's result.
func sequentialSteps(ctx context.Context, _ any) (string, error) {
	first, err := durable.Step(ctx, "step_one", func(context.Context) (string, error) { return "first", nil })
	if err != nil {
		return "", err
	}
	return durable.Step(ctx, "step_two", func(context.Context) (string, error) { return first + "_second", nil })
}

type person struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

type personResponse struct {
	User  person `json:"user"`
	Count int    `json:"count"`
}

// 1-4: a step returning a nested object.
func complexObjectStep(ctx context.Context, in person) (personResponse, error) {
	return durable.Step(ctx, "build_response", func(context.Context) (personResponse, error) {
		return personResponse{User: in, Count: len(in.Tags)}, nil
	})
}

// 1-7: the step logs through the step logger (durable.Logger) at its start
// and end.
func stepWithLogger(ctx context.Context, in string) (string, error) {
	return durable.Step(ctx, "greet", func(ctx context.Context) (string, error) {
		log := durable.Logger(ctx)
		log.Info("Greeting step started for: " + in)
		out := greet(in)
		log.Info("Greeting step completed with: " + out)
		return out, nil
	})
}

// 1-8: a step, then a 2-second wait; replay skips the step.
func stepThenWait(ctx context.Context, _ any) (string, error) {
	v, err := durable.Step(ctx, "compute", func(context.Context) (string, error) { return "computed", nil })
	if err != nil {
		return "", err
	}
	if err := durable.Wait(ctx, "wait", 2*time.Second); err != nil {
		return "", err
	}
	return v, nil
}

// 1-10: a step failing for good, caught, then a 1-second wait; replay
// re-throws the recorded error without running the step.
func failedStepCaughtThenWait(ctx context.Context, _ any) (any, error) {
	_, err := durable.Step(ctx, "failing", func(ctx context.Context) (string, error) {
		durable.Logger(ctx).Info("step executed")
		return "", errIntentional
	}, noRetry)
	var se *durable.StepError
	if !errors.As(err, &se) {
		return nil, err // a suspension, or something unexpected
	}
	if err := durable.Wait(ctx, "wait", time.Second); err != nil {
		return nil, err
	}
	return nil, nil
}

// 1-11: a step failing on its first attempt and succeeding on the second.
func stepRetriedOnce(ctx context.Context, _ any) (string, error) {
	return durable.Step(ctx, "unreliable", func(ctx context.Context) (string, error) {
		if durable.StepAttempt(ctx) == 1 {
			return "", errors.New("transient failure on the first attempt")
		}
		return "Operation succeeded", nil
	}, retryAfter(3))
}

// 1-14: fails twice, then succeeds: 5 attempts, 2 s initial delay, ×3, no
// jitter (delays 2 s, then 6 s).
func stepWithBackoff(ctx context.Context, _ any) (string, error) {
	policy := durable.RetryPolicy{MaxAttempts: 5, InitialDelay: 2 * time.Second, Multiplier: 3, Jitter: durable.NoJitter}
	return durable.Step(ctx, "backoff", func(ctx context.Context) (string, error) {
		if n := durable.StepAttempt(ctx); n < 3 {
			return "", errors.New("failing attempt")
		}
		return "succeeded on attempt 3", nil
	}, durable.WithRetry(policy))
}

// 1-16: the step throws a TransientError, which the policy does not retry.
func nonRetryableTransientError(ctx context.Context, _ any) (string, error) {
	policy := durable.RetryPolicy{
		MaxAttempts: 3, InitialDelay: time.Second, Jitter: durable.NoJitter,
		RetryIf: func(err error) bool {
			var te *TransientError
			return !errors.As(err, &te)
		},
	}
	return durable.Step(ctx, "transient", func(context.Context) (string, error) {
		return "", &TransientError{Message: "transient failure, not retried"}
	}, durable.WithRetry(policy))
}

// 1-17: an at-most-once step without retries logs its input and crashes the
// runtime; replay finds it started, fails it as interrupted, and the
// execution fails.
func atMostOnceCrash(ctx context.Context, in string) (string, error) {
	return durable.Step(ctx, "at_most_once_flaky_step", func(ctx context.Context) (string, error) {
		durable.Logger(ctx).Info("at-most-once step running for input " + in)
		local.Crash(ctx) // the Lambda runtime exits (process.exit)
		return "unreachable", nil
	}, durable.AtMostOnce(), noRetry)
}

// 1-19: a step that always fails, without retries.
func failingStep(ctx context.Context, _ any) (string, error) {
	return durable.Step(ctx, "failing", func(context.Context) (string, error) { return "", errIntentional }, noRetry)
}

// 1-20: a failing step caught, then a second step.
func failedStepCaught(ctx context.Context, _ any) (string, error) {
	if _, err := durable.Step(ctx, "failing", func(context.Context) (string, error) { return "", errIntentional }, noRetry); err != nil {
		var se *durable.StepError
		if !errors.As(err, &se) {
			return "", err
		}
	}
	return durable.Step(ctx, "fallback", func(context.Context) (string, error) { return "fallback_result", nil })
}
