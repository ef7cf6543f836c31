package conformance_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/conformance"
)

// A driver runs requirements on the embedded local service with the
// handlers of a registry: here the Go handler of requirement 1-2, a step
// named custom_step_name.
func ExampleDriver() {
	reqs, _, err := conformance.Load("testdata/core")
	if err != nil {
		fmt.Println(err)
		return
	}
	reqs = conformance.Select(reqs, []string{"step"}, []string{"1-2"})

	reg := conformance.NewRegistry()
	reg.HandleFunc(func(env *conformance.Env) lambda.Handler {
		return env.Wrap(adapters.Handler(func(ctx context.Context, name string) (string, error) {
			return durable.Step(ctx, "custom_step_name", func(context.Context) (string, error) {
				return "Hello, " + name + "!", nil
			})
		}))
	}, "1-2")

	results := conformance.NewDriver(reg, conformance.Options{}).Run(context.Background(), reqs)
	for _, r := range results {
		fmt.Println(r.ID, r.Status)
	}
	fmt.Println(conformance.Summarize(results))
	// Output:
	// 1-2 PASSED
	// conformance: 1 passed, 0 failed, 0 not implemented, 0 uncovered
}
