package durable_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/durabletest"
)

// Wait suspends the function: it is not running, nor billed, while the
// service holds the execution, and is invoked again when the time is up.
func ExampleWait() {
	handler := func(ctx context.Context, _ any) (string, error) {
		if err := durable.Wait(ctx, "cool-off", 24*time.Hour); err != nil {
			return "", err // durable.ErrSuspended: return it, the middleware answers PENDING
		}
		return "cooled off", nil
	}

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil) // the virtual clock skips the day
	fmt.Println(res.Status, res.Output, "after", res.Invocations(), "invocations")
	op := res.Operation("cool-off")
	fmt.Println(op.Type, op.SubType, op.Status, *op.Events[0].WaitStartedDetails.Duration)
	// Output:
	// SUCCEEDED cooled off after 2 invocations
	// WAIT Wait SUCCEEDED 86400
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

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Status, res.Output)
	op := res.Operation("reminder")
	fmt.Println(op.Name, op.Type, *op.Events[0].WaitStartedDetails.Duration)
	// Output:
	// SUCCEEDED remind the customer
	// reminder WAIT 3600
}

// CreateCallback hands out an id; another system answers through the
// durable API (SendDurableExecutionCallbackSuccess), and Await returns what
// it sent. Until then the function is suspended.
func ExampleCreateCallback() {
	var asked string // the callback id the reviewer was given
	handler := func(ctx context.Context, _ any) (string, error) {
		cb, err := durable.CreateCallback[string](ctx, "approval", durable.WithTimeout(48*time.Hour))
		if err != nil {
			return "", err
		}
		if _, err := durable.Step(ctx, "ask", func(ctx context.Context) (any, error) {
			fmt.Println("ask a reviewer to answer the callback")
			asked = cb.ID()
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

	t := newT()
	defer t.cleanup()
	exec := durabletest.Start(t, handler, nil)
	id := exec.WaitForCallback("approval") // the function is suspended, waiting
	fmt.Println("the reviewer got the callback's id:", id == asked)
	exec.SucceedCallback(id, "yes") // the reviewer answers
	res := exec.Result()
	fmt.Println(res.Status, res.Output)
	// Output:
	// ask a reviewer to answer the callback
	// the reviewer got the callback's id: true
	// SUCCEEDED reviewer says yes
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

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil) // nobody answers: the service times the callback out after an hour
	fmt.Println(res.Status, res.Output)
	fmt.Println("callback:", res.Operation("approval").Status)
	// Output:
	// SUCCEEDED no answer: Callback.Timeout
	// callback: TIMED_OUT
}

type expense struct {
	Approved bool   `json:"approved"`
	Note     string `json:"note"`
}

// WaitForCallback combines creating a callback and handing its id over: the
// submit function runs once, as a step, with the id.
func ExampleWaitForCallback() {
	var submitted string
	handler := func(ctx context.Context, amount int) (string, error) {
		decision, err := durable.WaitForCallback[expense](ctx, "expense",
			func(ctx context.Context, callbackID string) error {
				fmt.Printf("queue expense of %d for approval\n", amount)
				submitted = callbackID
				return nil
			}, durable.WithHeartbeatTimeout(time.Hour))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("approved: %v (%s)", decision.Approved, decision.Note), nil
	}

	t := newT()
	defer t.cleanup()
	exec := durabletest.Start(t, handler, 120)
	id := exec.WaitForCallback("expense")
	fmt.Println("the approver replies to the submitted id:", id == submitted)
	exec.SucceedCallback(id, expense{Approved: true, Note: "within budget"})
	res := exec.Result()
	fmt.Println(res.Status, res.Output, "after", res.Invocations(), "invocations")
	// Output:
	// queue expense of 120 for approval
	// the approver replies to the submitted id: true
	// SUCCEEDED approved: true (within budget) after 2 invocations
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
	pricing := func(ctx context.Context, items []string) (quote, error) {
		fmt.Println("pricing", items)
		return quote{Total: 7 + 10}, nil
	}

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, []string{"book", "pen"},
		durabletest.WithFunction("pricing", pricing)) // the durable function "pricing"
	fmt.Println(res.Status, res.Output, "after", res.Invocations(), "invocations")
	op := res.Operation("price")
	started := op.Events[0].ChainedInvokeStartedDetails
	fmt.Println(op.Type, *started.FunctionName, *started.TenantId, op.Status)
	// Output:
	// pricing [book pen]
	// SUCCEEDED 17 after 2 invocations
	// CHAINED_INVOKE pricing:live shop-7 SUCCEEDED
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

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, "job-42")
	fmt.Println(res.Status, res.Output, "after", res.Invocations(), "invocations")
	for _, e := range res.Operation("job-done").Events {
		if d := e.StepSucceededDetails; d != nil && d.RetryDetails != nil && d.RetryDetails.NextAttemptDelaySeconds != nil {
			fmt.Printf("recorded %s, next check in %ds\n", *d.Result.Payload, *d.RetryDetails.NextAttemptDelaySeconds)
		}
	}
	// Output:
	// check 1: job-42 is QUEUED
	// check 2: job-42 is RUNNING
	// check 3: job-42 is DONE
	// SUCCEEDED DONE after 3 invocations
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

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Invocations(), "invocations, same time on replay:", seen[0].Equal(seen[1]))
	// Output: 2 invocations, same time on replay: true
}

// UUID and Rand give values that are the same on every replay without a
// checkpoint: they derive from the execution and the order they are drawn in.
func ExampleUUID() {
	var ids []string
	var dice []int
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
		dice = append(dice, r.IntN(6)+1)
		for _, pause := range []string{"pause", "pause again"} {
			if err := durable.Wait(ctx, pause, time.Minute); err != nil {
				return 0, err
			}
		}
		return dice[len(dice)-1], nil
	}

	t := newT()
	defer t.cleanup()
	res := durabletest.Run(t, handler, nil)
	fmt.Println(res.Invocations(), "invocations, same id:", ids[0] == ids[1] && ids[1] == ids[2], "length:", len(ids[0]))
	fmt.Println("same dice:", dice[0] == dice[1] && dice[1] == dice[2], "checkpointed operations:", len(res.Operations()), "(the waits)")
	// Output:
	// 3 invocations, same id: true length: 36
	// same dice: true checkpointed operations: 2 (the waits)
}
