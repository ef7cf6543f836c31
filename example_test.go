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
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

// A handler keeps the aws-lambda-go signature; middleware.Durable makes it
// durable. Here an in-memory durable API plays the Lambda service.
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

	api := fakeapi.New(`"World"`) // the service, holding an execution started with "World"
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	out, _ := api.Invoke(context.Background(), h)
	fmt.Println(out.Status, *out.Result)
	// Output: SUCCEEDED "Hello, World!"
}

// Step records its result: when the function is invoked again, the recorded
// result is returned and the step function does not run.
func ExampleStep() {
	runs := 0
	handler := func(ctx context.Context, _ any) (int, error) {
		return durable.Step(ctx, "count", func(ctx context.Context) (int, error) {
			runs++
			return 42, nil
		})
	}
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	first, _ := api.Invoke(context.Background(), h)
	replay, _ := api.Invoke(context.Background(), h) // the same history again
	fmt.Println(*first.Result, *replay.Result, "runs:", runs)
	// Output: 42 42 runs: 1
}

// A failed attempt is retried after a durable delay: the function is
// suspended (PENDING) and invoked again when the retry is due.
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
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	outs, _ := api.Run(context.Background(), h, 10)
	for _, o := range outs {
		fmt.Print(o.Status, " ")
	}
	fmt.Println(*outs[len(outs)-1].Result)
	// Output: PENDING PENDING SUCCEEDED "ok on attempt 3"
}

// The middleware is ordinary aws-lambda-go middleware: adapters.Chain
// composes it with others. Middleware before it sees the durable envelope;
// middleware after it sees the user's event and the durable ctx.
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
	api := fakeapi.New(`{"name":"ada"}`)
	h := adapters.Chain(
		tag("outer"),
		middleware.Durable(middleware.WithAPI(api)),
		tag("inner"),
	)(adapters.Handler(handler))
	out, _ := api.Invoke(context.Background(), h)
	fmt.Println(out.Status, *out.Result)
	// Output:
	// outer sees the durable envelope, durable ctx: false
	// inner sees the event {"name":"ada"}, durable ctx: true
	// SUCCEEDED "ADA"
}

// Durable operations work at any call depth, with any context derived from
// the handler's: helpers need no special parameter.
func Example_deepStep() {
	api := fakeapi.New(`"order-7"`)
	h := middleware.Wrap(adapters.Handler(checkout), middleware.WithAPI(api))
	out, _ := api.Invoke(context.Background(), h)
	fmt.Println(out.Status, *out.Result)
	// Output: SUCCEEDED "reserved order-7 within 30s"
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
