package durable_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/durabletest"
	"github.com/durablectx/durable/local"
	"github.com/durablectx/durable/middleware"
)

// A handler keeps the aws-lambda-go signature; middleware.Durable makes it
// durable. In a test, durabletest runs it on an in-process service that
// plays the Lambda service.
func Example() {
	handler := func(ctx context.Context, name string) (string, error) {
		greeting, err := durable.Step(ctx, "greet", func(ctx context.Context) (string, error) {
			return "Hello, " + name + "!", nil
		})
		if err != nil {
			return "", err
		}
		return greeting, nil
	}

	t := newT() // in a test: the test's *testing.T
	defer t.cleanup()
	res := durabletest.Run(t, handler, "World")
	fmt.Println(res.Status, res.Output)
	// Output: SUCCEEDED Hello, World!
}

// Step records its result: when the function is invoked again (here after
// a wait), the recorded result is returned and the step function does not
// run.
func ExampleStep() {
	runs := 0
	handler := func(ctx context.Context, _ any) (int, error) {
		n, err := durable.Step(ctx, "count", func(ctx context.Context) (int, error) {
			runs++
			return 42, nil
		})
		if err != nil {
			return 0, err
		}
		if err := durable.Wait(ctx, "pause", time.Minute); err != nil {
			return 0, err
		}
		return n, nil
	}

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Output, "invocations:", res.Invocations(), "runs:", runs)
	// Output: 42 invocations: 2 runs: 1
}

// A failed attempt is retried after a durable delay: the function is
// suspended and invoked again when the retry is due.
func ExampleWithRetry() {
	handler := func(ctx context.Context, _ any) (string, error) {
		return durable.Step(ctx, "call-partner", func(ctx context.Context) (string, error) {
			if durable.StepAttempt(ctx) < 3 {
				return "", errors.New("partner unavailable")
			}
			return fmt.Sprintf("ok on attempt %d", durable.StepAttempt(ctx)), nil
		}, durable.WithRetry(durable.RetryPolicy{
			MaxAttempts:  5,
			InitialDelay: time.Second,
			Multiplier:   2,
			Jitter:       durable.NoJitter,
		}))
	}

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Status, res.Output)
	op := res.Operation("call-partner")
	fmt.Println("attempts:", op.Attempts, "invocations:", res.Invocations())
	for _, e := range op.Events {
		if d := e.StepFailedDetails; d != nil {
			fmt.Printf("attempt %d: %s, retry in %ds\n", d.RetryDetails.CurrentAttempt,
				*d.Error.Payload.ErrorMessage, *d.RetryDetails.NextAttemptDelaySeconds)
		}
	}
	// Output:
	// SUCCEEDED ok on attempt 3
	// attempts: 3 invocations: 3
	// attempt 1: partner unavailable, retry in 1s
	// attempt 2: partner unavailable, retry in 2s
}

// The middleware is ordinary aws-lambda-go middleware: adapters.Chain
// composes it with others. Middleware before it sees the durable envelope;
// middleware after it sees the user's event and the durable ctx. Here the
// chain runs on a local.Service, whose API plays the durable API.
func Example_middlewareWiring() {
	tag := func(label string) adapters.Middleware {
		return func(next lambda.Handler) lambda.Handler {
			return lambdaFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
				what := "event " + string(payload)
				if strings.Contains(string(payload), "DurableExecutionArn") {
					what = "durable envelope"
				}
				fmt.Printf("%s sees the %s, durable ctx: %v\n", label, what, durable.ExecutionARN(ctx) != "")
				return next.Invoke(ctx, payload)
			})
		}
	}
	handler := func(ctx context.Context, in map[string]string) (string, error) {
		return durable.Step(ctx, "upper", func(ctx context.Context) (string, error) {
			return strings.ToUpper(in["name"]), nil
		})
	}

	ctx := context.Background()
	svc, err := local.New(local.WithClock(local.NewVirtualClock(time.Now())), local.WithAutoAdvance())
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	h := adapters.Chain(
		tag("outer"),
		middleware.Durable(middleware.WithAPI(svc.API())),
		tag("inner"),
	)(adapters.Handler(handler))
	svc.Register("greeter", h)
	arn, err := svc.Start(ctx, "greeter", []byte(`{"name":"ada"}`))
	if err != nil {
		panic(err)
	}
	out, err := svc.RunUntilTerminal(ctx, arn)
	if err != nil {
		panic(err)
	}
	fmt.Println(out.Status, *out.Result)
	// Output:
	// outer sees the durable envelope, durable ctx: false
	// inner sees the event {"name":"ada"}, durable ctx: true
	// SUCCEEDED "ADA"
}

// Durable operations work at any call depth, with any context derived from
// the handler's: helpers need no special parameter.
func Example_deepStep() {
	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, checkout, "order-7")
	fmt.Println(res.Status, res.Output)
	// Output: SUCCEEDED reserved order-7 within 30s
}

func checkout(ctx context.Context, orderID string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return reserve(context.WithValue(ctx, orderKey{}, orderID))
}

type orderKey struct{}

func reserve(ctx context.Context) (string, error) {
	return durable.Step(ctx, "reserve", func(ctx context.Context) (string, error) {
		deadline, _ := ctx.Deadline()
		return fmt.Sprintf("reserved %s within %.0fs", ctx.Value(orderKey{}), time.Until(deadline).Round(10*time.Second).Seconds()), nil
	})
}

type lambdaFunc func(context.Context, []byte) ([]byte, error)

func (f lambdaFunc) Invoke(ctx context.Context, p []byte) ([]byte, error) { return f(ctx, p) }

// exampleT stands in for a test's *testing.T in the Examples, which have
// none: durabletest.Run and durabletest.Start take a durabletest.TB.
type exampleT struct{ cleanups []func() }

func newT() *exampleT                              { return &exampleT{} }
func (t *exampleT) Helper()                        {}
func (t *exampleT) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (t *exampleT) Cleanup(f func())               { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Context() context.Context       { return context.Background() }

// cleanup runs the registered cleanups, last first, as a test's end does.
func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
