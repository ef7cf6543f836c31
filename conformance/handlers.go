package conformance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/middleware"
)

// The Go handlers of the requirements, one per requirement, written against
// the public API only (durable, middleware, adapters, otel and the hooks
// type of ctxstate). Each file holds one suite: handlers_step.go,
// handlers_wait.go, and so on. Each handler follows the requirement's
// `handler` and `invocations` text and produces the history it expects.

// Handlers returns the registry of the Go handlers of every requirement.
func Handlers() *Registry {
	r := NewRegistry()
	registerStep(r)
	registerWait(r)
	registerChild(r)
	registerCallback(r)
	registerWaitForCallback(r)
	registerInvoke(r)
	registerWaitForCondition(r)
	registerMap(r)
	registerParallel(r)
	registerPlugin(r)
	registerOtel(r)
	return r
}

// durableFunc is a HandlerFunc running fn, a typed handler, as a durable
// function of the run's service.
func durableFunc[In, Out any](fn func(ctx context.Context, in In) (Out, error), opts ...middleware.Option) HandlerFunc {
	return func(env *Env) lambda.Handler {
		return env.Wrap(adapters.Handler(fn), opts...)
	}
}

// envFunc is durableFunc for handlers that need the run's Env.
func envFunc[In, Out any](fn func(env *Env) func(ctx context.Context, in In) (Out, error)) HandlerFunc {
	return func(env *Env) lambda.Handler {
		return env.Wrap(adapters.Handler(fn(env)))
	}
}

// noRetry runs a step once: its first failure is final.
var noRetry = durable.WithRetry(durable.NoRetry)

// retryAfter retries a step once per second, up to attempts attempts.
func retryAfter(attempts int) durable.StepOption {
	return durable.WithRetry(durable.FixedRetry(attempts, time.Second))
}

// TransientError is the error type whose recorded ErrorType the requirements
// match with .*TransientError$ (1-16).
type TransientError struct{ Message string }

func (e *TransientError) Error() string { return e.Message }

func init() { durable.RegisterError[*TransientError]() }

// errIntentional is the error of steps and functions that fail on purpose.
var errIntentional = errors.New("intentional failure")

// replayLogger is a logger that writes during replay too, the "replay logging
// enabled" of the reference SDKs, with the execution ARN the log check
// filters on: a second run of code that must run once shows in the counts.
func replayLogger(ctx context.Context, env *Env) *slog.Logger {
	h := slog.NewJSONHandler(env.Logs, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(h).With("durableExecutionArn", durable.ExecutionARN(ctx))
}

// awaitRecorded waits until the service has recorded an event of type
// eventType for the operation id: what a crash test needs before it crashes
// "after the START is checkpointed".
func awaitRecorded(ctx context.Context, env *Env, id, eventType string) error {
	arn := durable.ExecutionARN(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var marker *string
		for {
			out, err := env.API.GetDurableExecutionHistory(ctx, &lambdaapi.GetDurableExecutionHistoryInput{DurableExecutionArn: &arn, Marker: marker, MaxItems: 1000})
			if err != nil {
				return err
			}
			for _, ev := range out.Events {
				if string(ev.EventType) == eventType && ev.Id != nil && *ev.Id == id {
					return nil
				}
			}
			if out.NextMarker == nil || *out.NextMarker == "" {
				break
			}
			marker = out.NextMarker
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("no %s event for operation %s after 10s", eventType, id)
}
