package durabletest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/durabletest"
)

type Request struct {
	Amount int `json:"amount"`
}

// refund is the handler under test: a step that fails once, a day-long wait
// and a manager's approval through a callback.
func refund(ctx context.Context, req Request) (string, error) {
	id, err := durable.Step(ctx, "refund", func(ctx context.Context) (string, error) {
		if durable.StepAttempt(ctx) == 1 {
			return "", errors.New("bank unavailable")
		}
		return fmt.Sprintf("rf-%d", req.Amount), nil
	}, durable.WithRetry(durable.FixedRetry(3, time.Minute)))
	if err != nil {
		return "", err
	}
	if err := durable.Wait(ctx, "settle", 24*time.Hour); err != nil {
		return "", err
	}
	approver, err := durable.WaitForCallback[string](ctx, "approval", func(ctx context.Context, callbackID string) error {
		return nil // send callbackID to the manager
	})
	if err != nil {
		return "", err
	}
	return id + " approved by " + approver, nil
}

func ExampleRun() {
	t := newT() // in a test: the test's *testing.T
	defer t.cleanup()

	res := durabletest.Run(t, refund, Request{Amount: 42},
		durabletest.WithCallbackResult("approval", "dana"))

	fmt.Println(res.Status, res.Output)
	fmt.Println("refund attempts:", res.Operation("refund").Attempts)
	fmt.Println("invocations:", res.Invocations())
	start, end := res.History[0].EventTimestamp, res.History[len(res.History)-1].EventTimestamp
	fmt.Println("took more than a day:", end.Sub(*start) > 24*time.Hour)
	// Output:
	// SUCCEEDED rf-42 approved by dana
	// refund attempts: 2
	// invocations: 4
	// took more than a day: true
}

// exampleT stands in for a test's *testing.T in the Example.
type exampleT struct{ cleanups []func() }

func newT() *exampleT                              { return &exampleT{} }
func (t *exampleT) Helper()                        {}
func (t *exampleT) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (t *exampleT) Cleanup(f func())               { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Context() context.Context       { return context.Background() }

func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
