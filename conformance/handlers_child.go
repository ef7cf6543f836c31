package conformance

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/local"
)

// Suite child (3-x): child contexts, their names, results, errors, replay
// and crash recovery.

func registerChild(r *Registry) {
	r.HandleFunc(durableFunc(childWithStep), "3-1")
	r.HandleFunc(durableFunc(namedChild), "3-2")
	r.HandleFunc(durableFunc(childWithTwoSteps), "3-3")
	r.HandleFunc(durableFunc(childWithFailingStep), "3-4")
	r.HandleFunc(durableFunc(childFailureCaught), "3-5")
	r.HandleFunc(durableFunc(childWithRetriedStep), "3-7")
	r.HandleFunc(durableFunc(childThenWait), "3-9")
	r.HandleFunc(durableFunc(childWithStepAndWait), "3-10")
	r.HandleFunc(childCrashedInStep, "3-12")
	r.HandleFunc(durableFunc(childWithWaitThenStep), "3-13")
	r.HandleFunc(durableFunc(childFailsDirectly), "3-15")
	r.HandleFunc(envFunc(childLogsOnce), "3-17")
}

func echoStep(ctx context.Context, name, v string) (string, error) {
	return durable.Step(ctx, name, func(context.Context) (string, error) { return v, nil })
}

// 3-1: a child context holding one step that returns the input.
func childWithStep(ctx context.Context, in string) (string, error) {
	return durable.Child(ctx, "child", func(ctx context.Context) (string, error) {
		return echoStep(ctx, "echo", in)
	})
}

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// 3-2: the child context is named after the input's name; its step returns
// the input's value.
func namedChild(ctx context.Context, in nameValue) (string, error) {
	return durable.Child(ctx, in.Name, func(ctx context.Context) (string, error) {
		return echoStep(ctx, "echo", in.Value)
	})
}

// 3-3: two steps in a child context, the second getting the first's result.
func childWithTwoSteps(ctx context.Context, in string) (string, error) {
	return durable.Child(ctx, "two-steps", func(ctx context.Context) (string, error) {
		first, err := echoStep(ctx, "first", in)
		if err != nil {
			return "", err
		}
		return echoStep(ctx, "second", first)
	})
}

// 3-4: the step in the child context fails without retry; the child context
// and the execution fail.
func childWithFailingStep(ctx context.Context, _ any) (string, error) {
	return durable.Child(ctx, "failing-child", func(ctx context.Context) (string, error) {
		return durable.Step(ctx, "failing", func(context.Context) (string, error) { return "", errIntentional }, noRetry)
	})
}

// 3-5: the child context fails as in 3-4, the handler catches it and runs a
// recovery step.
func childFailureCaught(ctx context.Context, in string) (string, error) {
	_, err := childWithFailingStep(ctx, nil)
	var ce *durable.ChildError
	if !errors.As(err, &ce) {
		return "", err
	}
	return echoStep(ctx, "recovery", in)
}

// 3-7: the step in the child context fails once, then succeeds on retry.
func childWithRetriedStep(ctx context.Context, in string) (string, error) {
	return durable.Child(ctx, "retrying-child", func(ctx context.Context) (string, error) {
		return durable.Step(ctx, "unreliable", func(ctx context.Context) (string, error) {
			if durable.StepAttempt(ctx) == 1 {
				return "", errors.New("transient failure on the first attempt")
			}
			return in, nil
		}, retryAfter(3))
	})
}

// 3-9: a child context with a step, then a wait; replay returns the child's
// recorded result.
func childThenWait(ctx context.Context, in string) (string, error) {
	v, err := childWithStep(ctx, in)
	if err != nil {
		return "", err
	}
	if err := durable.Wait(ctx, "wait", time.Second); err != nil {
		return "", err
	}
	return v, nil
}

// 3-10: a step and a wait inside one child context.
func childWithStepAndWait(ctx context.Context, in string) (string, error) {
	return durable.Child(ctx, "step-and-wait", func(ctx context.Context) (string, error) {
		v, err := echoStep(ctx, "echo", in)
		if err != nil {
			return "", err
		}
		if err := durable.Wait(ctx, "wait", time.Second); err != nil {
			return "", err
		}
		return v, nil
	})
}

// 3-12: the step inside the child context crashes the runtime once its START
// is recorded; the next invocation runs the step again (at least once per
// attempt), and records its success without a second START.
func childCrashedInStep(env *Env) lambda.Handler {
	var crashed atomic.Bool // the crash happens once per run, like a flag in a table
	return env.Wrap(adapters.Handler(func(ctx context.Context, in string) (string, error) {
		return durable.Child(ctx, "crashing-child", func(ctx context.Context) (string, error) {
			return durable.Step(ctx, "crashing", func(ctx context.Context) (string, error) {
				if !crashed.Swap(true) {
					if err := awaitRecorded(ctx, env, durable.OperationID(ctx), "StepStarted"); err != nil {
						return "", err
					}
					local.Crash(ctx)
				}
				return in, nil
			})
		})
	}))
}

// 3-13: a child context holding only a wait, then a step outside it.
func childWithWaitThenStep(ctx context.Context, in string) (string, error) {
	_, err := durable.Child(ctx, "waiting-child", func(ctx context.Context) (string, error) {
		if err := durable.Wait(ctx, "wait", time.Second); err != nil {
			return "", err
		}
		return in, nil
	})
	if err != nil {
		return "", err
	}
	return echoStep(ctx, "after-child", in)
}

// 3-15: the child function fails without any durable operation.
func childFailsDirectly(ctx context.Context, _ any) (string, error) {
	return durable.Child(ctx, "failing-child", func(context.Context) (string, error) {
		return "", errIntentional
	})
}

// 3-17: the child context only logs the input, with replay logging enabled,
// and returns it; a wait follows. The log appears once: replay does not run
// the child again.
func childLogsOnce(env *Env) func(ctx context.Context, in string) (string, error) {
	return func(ctx context.Context, in string) (string, error) {
		v, err := durable.Child(ctx, "logging-child", func(ctx context.Context) (string, error) {
			replayLogger(ctx, env).Info("child context running for " + in)
			return in, nil
		})
		if err != nil {
			return "", err
		}
		if err := durable.Wait(ctx, "wait", time.Second); err != nil {
			return "", err
		}
		return v, nil
	}
}
