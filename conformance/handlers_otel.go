package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/middleware"
	durableotel "github.com/durablectx/durable/otel"
)

// Suites otel-invocation, otel-execution and otel-long-running: one handler,
// instrumented with package otel's hooks, running the scenario the input
// names, as the reference deployments do. OTEL_PLUGIN_MODE selects the view.

// Names of the chained-invoke targets of the OpenTelemetry scenarios, one per
// view, as each view has its own deployment.
const (
	otelTargetInvocation = "otel-target-invocation"
	otelTargetExecution  = "otel-target-execution"
)

// otelExecutionTimeout is the ExecutionTimeout of the wait-interrupted
// scenario's deployment (otel-execution-15): the execution times out during
// its wait.
const otelExecutionTimeout = 15 * time.Second

func registerOtel(r *Registry) {
	invocation := map[string]string{"OTEL_PLUGIN_MODE": "invocation"}
	execution := map[string]string{"OTEL_PLUGIN_MODE": "execution"}
	r.Aux(otelTargetInvocation, Function{Handler: otelTarget, Environment: invocation})
	r.Aux(otelTargetExecution, Function{Handler: otelTarget, Environment: execution})

	for _, n := range []int{1, 2, 4, 5, 6, 7, 8, 9, 11, 12, 14, 16, 19} {
		r.Handle(Function{Handler: otelScenarios, Environment: invocation}, fmt.Sprintf("otel-invocation-%d", n))
	}
	for _, n := range []int{1, 3, 4, 5, 7, 8, 10, 12, 13, 17, 18, 20} {
		r.Handle(Function{Handler: otelScenarios, Environment: execution}, fmt.Sprintf("otel-execution-%d", n))
	}
	r.Handle(Function{Handler: otelScenarios, Environment: execution, ExecutionTimeout: otelExecutionTimeout}, "otel-execution-15")
	// The driver runs the long-running suite in both views.
	r.HandleFunc(otelScenarios, "otel-long-running-1", "otel-long-running-2", "otel-long-running-3")
}

// otelHooks returns the OpenTelemetry hooks of the run, in the view the
// function's environment selects.
func otelHooks(env *Env) middleware.Option {
	view := durableotel.InvocationView
	if env.Getenv("OTEL_PLUGIN_MODE") == "execution" {
		view = durableotel.ExecutionView
	}
	return middleware.WithHooks(durableotel.Hooks(durableotel.WithTracerProvider(env.TracerProvider), durableotel.WithView(view)))
}

// otelTarget is the instrumented chained-invoke target: it echoes its input,
// or fails when the input asks.
func otelTarget(env *Env) lambda.Handler {
	return env.Wrap(adapters.Handler(func(_ context.Context, in map[string]any) (any, error) {
		if in["fail"] == true {
			return nil, errors.New("the invoked function failed")
		}
		return in, nil
	}), otelHooks(env))
}

// delaySeconds is a number of seconds given as a JSON number or string
// (delay_seconds is a substituted placeholder, hence a string).
type delaySeconds int

func (s *delaySeconds) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		*s = delaySeconds(x)
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return fmt.Errorf("delay_seconds: %w", err)
		}
		*s = delaySeconds(n)
	case nil:
	default:
		return fmt.Errorf("delay_seconds: unexpected %T", v)
	}
	return nil
}

func (s delaySeconds) duration() time.Duration {
	if s < 1 {
		return time.Second
	}
	return time.Duration(s) * time.Second
}

type otelInput struct {
	Scenario     string       `json:"scenario"`
	DelaySeconds delaySeconds `json:"delay_seconds"`
}

func otelScenarios(env *Env) lambda.Handler {
	target := otelTargetInvocation
	if env.Getenv("OTEL_PLUGIN_MODE") == "execution" {
		target = otelTargetExecution
	}
	return env.Wrap(adapters.Handler(func(ctx context.Context, in otelInput) (any, error) {
		switch in.Scenario {
		case "success":
			return durable.Step(ctx, "otel-success", okStep("ok"))
		case "retry":
			return durable.Step(ctx, "otel-retry", failFirstAttempt, retryAfter(2))
		case "terminal-failure":
			return durable.Step(ctx, "otel-terminal-failure", failStep, noRetry)
		case "handled-failure":
			if _, err := durable.Step(ctx, "otel-handled-failure", failStep, noRetry); !isStepError(err) {
				return nil, unexpected(err)
			}
			return durable.Step(ctx, "otel-recovery-step", okStep("recovered"))
		case "child-context":
			return durable.Child(ctx, "otel-child-context", func(ctx context.Context) (string, error) {
				return durable.Step(ctx, "otel-child-step", okStep("child"))
			})
		case "virtual-context":
			return durable.Child(ctx, "otel-virtual-context", func(context.Context) (string, error) {
				return "virtual-complete", nil
			}, durable.Virtual())
		case "child-context-failure":
			return durable.Child(ctx, "otel-failed-child-context", func(context.Context) (string, error) { return "", errIntentional })
		case "execution-failure":
			return nil, errors.New("the handler failed before any operation")
		case "wait-resume":
			return waitThenStep(ctx, "otel-wait", 2*time.Second, "otel-after-resume")
		case "wait-interrupted":
			return waitThenStep(ctx, "otel-interrupted-wait", 2*otelExecutionTimeout, "otel-never")
		case "long-wait":
			return waitThenStep(ctx, "otel-long-wait", in.DelaySeconds.duration(), "otel-after-long-wait")
		case "long-retry":
			policy := durable.FixedRetry(2, in.DelaySeconds.duration())
			return durable.Step(ctx, "otel-long-retry", failFirstAttempt, durable.WithRetry(policy))
		case "wait-for-condition":
			return durable.WaitForCondition(ctx, "otel-condition", 0, increment, untilAtLeast(2, time.Second))
		case "wait-for-condition-failure":
			return durable.WaitForCondition(ctx, "otel-failed-condition", 0, checkFails, untilAtLeast(2, time.Second))
		case "wait-for-callback":
			return durable.WaitForCallback[string](ctx, "otel-callback", submitNothing, jsonResult)
		case "wait-for-callback-failure":
			return durable.WaitForCallback[string](ctx, "otel-failed-callback", submitNothing, jsonResult)
		case "long-callback":
			return durable.WaitForCallback[string](ctx, "otel-long-callback", submitNothing, jsonResult)
		case "parallel-hierarchy":
			branch := func(x string) durable.Branch[string] {
				return durable.Branch[string]{Name: "otel-parallel-branch-" + x, Fn: func(ctx context.Context) (string, error) {
					return durable.Step(ctx, "otel-parallel-step-"+x, okStep(x))
				}}
			}
			return batchOutcome(durable.Parallel(ctx, "otel-parallel", []durable.Branch[string]{branch("a"), branch("b")}, sequential))
		case "parallel-failure":
			branches := []durable.Branch[string]{{Name: "otel-failed-parallel-branch", Fn: func(context.Context) (string, error) { return "", errIntentional }}}
			return batchOutcome(durable.Parallel(ctx, "otel-failed-parallel", branches, sequential))
		case "map-hierarchy":
			return batchOutcome(durable.Map(ctx, "otel-map", []int{0, 1}, func(ctx context.Context, item, _ int) (string, error) {
				return durable.Step(ctx, fmt.Sprint("otel-map-step-", item), okStep("ok"))
			}, sequential, durable.WithItemName(func(item, _ int) string { return fmt.Sprint("otel-map-iteration-", item) })))
		case "map-failure":
			return batchOutcome(durable.Map(ctx, "otel-failed-map", []int{0}, func(context.Context, int, int) (string, error) {
				return "", errIntentional
			}, sequential, durable.WithItemName(func(item, _ int) string { return fmt.Sprint("otel-failed-map-iteration-", item) })))
		case "chained-invoke":
			return durable.Invoke[any](ctx, "otel-invoke", env.FunctionName(target), map[string]any{"from": "otel-invoke"})
		case "chained-invoke-failure":
			return durable.Invoke[any](ctx, "otel-failed-invoke", env.FunctionName(target), map[string]any{"fail": true})
		}
		return nil, fmt.Errorf("unknown scenario %q", in.Scenario)
	}), otelHooks(env))
}

func okStep(v string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return v, nil }
}

func failStep(context.Context) (string, error) { return "", errIntentional }

// failFirstAttempt fails the first attempt of a step and succeeds after.
func failFirstAttempt(ctx context.Context) (string, error) {
	if durable.StepAttempt(ctx) == 1 {
		return "", errors.New("transient failure on the first attempt")
	}
	return "recovered", nil
}

func isStepError(err error) bool {
	var se *durable.StepError
	return errors.As(err, &se)
}

// unexpected passes a suspension (or any error) on, and reports an
// unexpected success.
func unexpected(err error) error {
	if err != nil {
		return err
	}
	return errors.New("the failing operation succeeded")
}

func waitThenStep(ctx context.Context, wait string, d time.Duration, step string) (string, error) {
	if err := durable.Wait(ctx, wait, d); err != nil {
		return "", err
	}
	return durable.Step(ctx, step, okStep("resumed"))
}

// batchOutcome returns the values of a batch, or its item failures as the
// handler's error.
func batchOutcome[T any](res *durable.BatchResult[T], err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return res.Values(), res.Err()
}
