// Command durablebin is a durable Lambda handler binary for the tests of
// Service.RegisterBinary: it checkpoints over HTTP to AWS_ENDPOINT_URL_LAMBDA
// with the real AWS SDK, through the project's middleware.
package main

import (
	"context"
	"os"
	"time"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/middleware"
)

type event struct {
	Name  string `json:"name"`
	Crash bool   `json:"crash"`
}

func handler(ctx context.Context, e event) (string, error) {
	greeting, err := durable.Step(ctx, "greet", func(ctx context.Context) (string, error) {
		return "hello " + e.Name, nil
	})
	if err != nil {
		return "", err
	}
	if err := durable.Wait(ctx, "pause", time.Hour); err != nil {
		return "", err
	}
	if e.Crash {
		// Crash once: the marker file tells the next process it happened.
		marker := os.Getenv("CRASH_MARKER")
		if _, err := os.Stat(marker); err != nil {
			_ = os.WriteFile(marker, nil, 0o600)
			os.Exit(3)
		}
	}
	return greeting + " from " + os.Getenv("GREETER"), nil
}

func main() {
	adapters.Start(adapters.Handler(handler), middleware.Durable())
}
