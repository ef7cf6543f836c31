package durable_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

// printStatuses prints the answers of a run of invocations.
func printStatuses(outs []fakeapi.Output) {
	for i, o := range outs {
		if i > 0 {
			fmt.Print(" ")
		}
		fmt.Print(o.Status)
	}
	if last := outs[len(outs)-1]; last.Result != nil {
		fmt.Print(" ", *last.Result)
	}
	fmt.Println()
}

// Wait suspends the function: it is not running, nor billed, while the
// service holds the execution, and is invoked again when the time is up.
func ExampleWait() {
	handler := func(ctx context.Context, _ any) (string, error) {
		if err := durable.Wait(ctx, "cool-off", 24*time.Hour); err != nil {
			return "", err // durable.ErrSuspended: return it, the middleware answers PENDING
		}
		return "cooled off", nil
	}
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	outs, _ := api.Run(context.Background(), h, 5) // Run moves the virtual clock between invocations
	printStatuses(outs)
	u := api.Updates()[0]
	fmt.Println(u.Type, *u.SubType, *u.Name, *u.WaitOptions.WaitSeconds)
	// Output:
	// PENDING SUCCEEDED "cooled off"
	// WAIT Wait cool-off 86400
}

// WaitUntil waits for a moment rather than a duration. With a time recorded
// by durable.Now, the deadline is the same on every replay.
func ExampleWaitUntil() {
	handler := func(ctx context.Context, _ any) (string, error) {
		ordered, err := durable.Now(ctx)
		if err != nil {
			return "", err
		}
		if err := durable.WaitUntil(ctx, "reminder", ordered.Add(time.Hour)); err != nil {
			return "", err
		}
		return "remind the customer", nil
	}
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	outs, _ := api.Run(context.Background(), h, 5)
	printStatuses(outs)
	for _, u := range api.Updates() {
		if u.Type == types.OperationTypeWait {
			fmt.Println(*u.Name, *u.WaitOptions.WaitSeconds)
		}
	}
	// Output:
	// PENDING SUCCEEDED "remind the customer"
	// reminder 3600
}

// CreateCallback hands out an id; another system answers through the
// durable API (SendDurableExecutionCallbackSuccess), and Await returns what
// it sent. Until then the function is suspended.
func ExampleCreateCallback() {
	handler := func(ctx context.Context, _ any) (string, error) {
		cb, err := durable.CreateCallback[string](ctx, "approval", durable.WithTimeout(48*time.Hour))
		if err != nil {
			return "", err
		}
		if _, err := durable.Step(ctx, "ask", func(ctx context.Context) (any, error) {
			fmt.Println("ask a reviewer to answer callback", cb.ID())
			return nil, nil
		}); err != nil {
			return "", err
		}
		answer, err := cb.Await(ctx)
		if err != nil {
			return "", err
		}
		return "reviewer says " + answer, nil
	}
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	first, _ := api.Invoke(context.Background(), h)
	_ = api.Complete("approval", "yes", nil) // the reviewer answers
	second, _ := api.Invoke(context.Background(), h)
	fmt.Println(first.Status, second.Status, *second.Result)
	// Output:
	// ask a reviewer to answer callback Y2Ik1
	// PENDING SUCCEEDED "reviewer says yes"
}

// A callback that gets no answer in time fails with a typed error, whose
// ErrorType says which bound passed.
func ExampleWithTimeout() {
	handler := func(ctx context.Context, _ any) (string, error) {
		cb, err := durable.CreateCallback[string](ctx, "approval", durable.WithTimeout(time.Hour))
		if err != nil {
			return "", err
		}
		answer, err := cb.Await(ctx)
		var timeout *durable.CallbackTimeoutError
		if errors.As(err, &timeout) {
			return "no answer: " + timeout.ErrorType, nil
		}
		return answer, err
	}
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	first, _ := api.Invoke(context.Background(), h)
	// The service times the callback out after an hour.
	_ = api.Finish("approval", types.OperationStatusTimedOut, nil,
		&types.ErrorObject{ErrorType: sptr(durable.ErrorTypeCallbackTimeout), ErrorMessage: sptr("Callback timed out")})
	second, _ := api.Invoke(context.Background(), h)
	fmt.Println(first.Status, second.Status, *second.Result)
	// Output: PENDING SUCCEEDED "no answer: Callback.Timeout"
}

type expense struct {
	Approved bool   `json:"approved"`
	Note     string `json:"note"`
}

// WaitForCallback combines creating a callback and handing its id over: the
// submit function runs once, as a step, with the id.
func ExampleWaitForCallback() {
	handler := func(ctx context.Context, amount int) (string, error) {
		decision, err := durable.WaitForCallback[expense](ctx, "expense",
			func(ctx context.Context, callbackID string) error {
				fmt.Printf("queue expense of %d for approval, reply to %s\n", amount, callbackID)
				return nil
			}, durable.WithHeartbeatTimeout(time.Hour))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("approved: %v (%s)", decision.Approved, decision.Note), nil
	}
	api := fakeapi.New(`120`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	first, _ := api.Invoke(context.Background(), h)
	// The approver answers the callback; its operation is named "<name> create callback id".
	_ = api.Complete("expense create callback id", `{"approved": true, "note": "within budget"}`, nil)
	second, _ := api.Invoke(context.Background(), h)
	fmt.Println(first.Status, second.Status, *second.Result)
	// Output:
	// queue expense of 120 for approval, reply to Y2Ik1
	// PENDING SUCCEEDED "approved: true (within budget)"
}

// Invoke calls another Lambda function through the service: this function is
// suspended while it runs, and gets its result on the next invocation.
func ExampleInvoke() {
	type quote struct {
		Total int `json:"total"`
	}
	handler := func(ctx context.Context, items []string) (int, error) {
		q, err := durable.Invoke[quote](ctx, "price", "pricing:live", items, durable.WithTenantID("shop-7"))
		if err != nil {
			return 0, err // ErrSuspended while pricing runs; an *InvokeError if it failed
		}
		return q.Total, nil
	}
	api := fakeapi.New(`["book","pen"]`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	first, _ := api.Invoke(context.Background(), h)
	u := api.Updates()[0]
	fmt.Println(u.Type, *u.ChainedInvokeOptions.FunctionName, *u.ChainedInvokeOptions.TenantId, *u.Payload)
	_ = api.Complete("price", `{"total":17}`, nil) // pricing:live returned
	second, _ := api.Invoke(context.Background(), h)
	fmt.Println(first.Status, second.Status, *second.Result)
	// Output:
	// CHAINED_INVOKE pricing:live shop-7 ["book","pen"]
	// PENDING SUCCEEDED 17
}

// WaitForCondition polls: each check runs once and records its state; between
// checks the function is suspended for the delay the strategy picks.
func ExampleWaitForCondition() {
	statuses := []string{"QUEUED", "RUNNING", "DONE"} // what an external job reports, one per poll
	polls := 0
	handler := func(ctx context.Context, jobID string) (string, error) {
		return durable.WaitForCondition(ctx, "job-done", "UNKNOWN",
			func(ctx context.Context, _ string) (string, error) {
				status := statuses[polls]
				polls++
				fmt.Printf("check %d: %s is %s\n", durable.StepAttempt(ctx), jobID, status)
				return status, nil
			},
			durable.PollUntil(func(status string) bool { return status == "DONE" },
				durable.RetryPolicy{InitialDelay: 10 * time.Second, Multiplier: 2, Jitter: durable.NoJitter}),
			durable.WithMaxPolls(10))
	}
	api := fakeapi.New(`"job-42"`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	outs, _ := api.Run(context.Background(), h, 10)
	printStatuses(outs)
	for _, u := range api.Updates() {
		if u.Action == types.OperationActionRetry {
			fmt.Printf("recorded %s, next check in %ds\n", *u.Payload, *u.StepOptions.NextAttemptDelaySeconds)
		}
	}
	// Output:
	// check 1: job-42 is QUEUED
	// check 2: job-42 is RUNNING
	// check 3: job-42 is DONE
	// PENDING PENDING SUCCEEDED "DONE"
	// recorded "QUEUED", next check in 10s
	// recorded "RUNNING", next check in 20s
}

// Now records the time once, so that code deciding on it takes the same path
// on every replay.
func ExampleNow() {
	var seen []time.Time
	handler := func(ctx context.Context, _ any) (string, error) {
		now, err := durable.Now(ctx)
		if err != nil {
			return "", err
		}
		seen = append(seen, now)
		if err := durable.Wait(ctx, "pause", time.Minute); err != nil {
			return "", err
		}
		if now.Weekday() == time.Sunday {
			return "closed", nil
		}
		return "open", nil
	}
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	outs, _ := api.Run(context.Background(), h, 5)
	fmt.Println(len(outs), "invocations, same time on replay:", seen[0].Equal(seen[1]))
	// Output: 2 invocations, same time on replay: true
}

// UUID and Rand give values that are the same on every replay without a
// checkpoint: they derive from the execution and the order they are drawn in.
func ExampleUUID() {
	var ids []string
	handler := func(ctx context.Context, _ any) (int, error) {
		id, err := durable.UUID(ctx)
		if err != nil {
			return 0, err
		}
		ids = append(ids, id)
		r, err := durable.Rand(ctx)
		if err != nil {
			return 0, err
		}
		dice := r.IntN(6) + 1
		if err := durable.Wait(ctx, "pause", time.Minute); err != nil {
			return 0, err
		}
		return dice, nil
	}
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(api))
	outs, _ := api.Run(context.Background(), h, 5)
	again, _ := api.Invoke(context.Background(), h) // one more replay
	fmt.Println(len(ids), "invocations, same id:", ids[0] == ids[1] && ids[1] == ids[2], "length:", len(ids[0]))
	fmt.Println("same dice:", *outs[1].Result == *again.Result, "updates:", len(api.Updates()), "(the wait's START)")
	// Output:
	// 3 invocations, same id: true length: 36
	// same dice: true updates: 1 (the wait's START)
}

func sptr(s string) *string { return &s }
