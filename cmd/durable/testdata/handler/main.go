// Command handler is the durable Lambda handler binary of the tests of
// cmd/durable. It runs under `durable serve --function greet=PATH` and
// checkpoints with the default AWS client, which reaches the service through
// the AWS_ENDPOINT_URL_LAMBDA the service sets.
//
// Each step appends "<step> <execution ARN>" to the file named by $STEP_LOG,
// so a test can count how many times each step ran.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/middleware"
)

type input struct {
	Name        string `json:"name"`
	WaitSeconds int    `json:"waitSeconds"`
	Callback    bool   `json:"callback"`
}

func handler(ctx context.Context, in input) (string, error) {
	greeting, err := durable.Step(ctx, "greet", func(ctx context.Context) (string, error) {
		return "hello " + in.Name, record(ctx, "greet")
	})
	if err != nil {
		return "", err
	}
	if in.WaitSeconds > 0 {
		if err := durable.Wait(ctx, "pause", time.Duration(in.WaitSeconds)*time.Second); err != nil {
			return "", err
		}
	}
	if in.Callback {
		answer, err := durable.WaitForCallback[string](ctx, "approval", func(ctx context.Context, id string) error {
			return record(ctx, "submit")
		}, durable.WithTimeout(10*time.Minute))
		if err != nil {
			return "", err
		}
		greeting += ", " + answer
	}
	return durable.Step(ctx, "finish", func(ctx context.Context) (string, error) {
		return greeting + "!", record(ctx, "finish")
	})
}

// record appends a line for the step to $STEP_LOG.
func record(ctx context.Context, step string) error {
	path := os.Getenv("STEP_LOG")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "%s %s\n", step, durable.ExecutionARN(ctx)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func main() {
	adapters.Start(adapters.Handler(handler), middleware.Durable())
}
