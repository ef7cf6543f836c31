package conformance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/durablectx/durable"
)

// Suite callback (4-x): callbacks created with CreateCallback and completed
// by the driver's callback actions, timeouts and heartbeats.

func registerCallback(r *Registry) {
	r.HandleFunc(durableFunc(awaitCallback), "4-1")
	r.HandleFunc(durableFunc(awaitApprovalCallback), "4-2")
	r.HandleFunc(durableFunc(callbackTimesOut), "4-3")
	r.HandleFunc(durableFunc(callbackWithHeartbeat), "4-5")
	r.HandleFunc(durableFunc(awaitCallback), "4-6")
	r.HandleFunc(durableFunc(callbackStepAwait), "4-7")
	r.HandleFunc(durableFunc(callbackWithTimeoutStepAwait), "4-8")
	r.HandleFunc(durableFunc(callbackWaitAwait), "4-9")
	r.HandleFunc(durableFunc(callbackThenWait), "4-12")
	r.HandleFunc(durableFunc(callbackTimeoutCaughtThenWait), "4-14")
	r.HandleFunc(durableFunc(callbackWithNumberSerdes), "4-16")
	r.HandleFunc(durableFunc(twoCallbacksInSequence), "4-17")
	r.HandleFunc(durableFunc(twoCallbacksAtOnce), "4-18")
}

// jsonResult decodes callback results from JSON: the driver sends them as
// JSON text, as the official runner does.
var jsonResult = durable.WithSerdes(durable.JSON)

// 4-1, 4-6: a callback named after the input, awaited; its result is
// returned. A failure sent for it fails the execution (4-6).
func awaitCallback(ctx context.Context, name string) (string, error) {
	cb, err := durable.CreateCallback[string](ctx, name, jsonResult)
	if err != nil {
		return "", err
	}
	return cb.Await(ctx)
}

// 4-2: a callback named approval.
func awaitApprovalCallback(ctx context.Context, _ any) (string, error) {
	return awaitCallback(ctx, "approval")
}

// 4-3: a callback with a 5-second timeout that nobody completes.
func callbackTimesOut(ctx context.Context, name string) (string, error) {
	cb, err := durable.CreateCallback[string](ctx, name, jsonResult, durable.WithTimeout(5*time.Second))
	if err != nil {
		return "", err
	}
	return cb.Await(ctx)
}

// 4-5: a callback with a 10-second heartbeat timeout; the sender heartbeats,
// then succeeds.
func callbackWithHeartbeat(ctx context.Context, name string) (string, error) {
	cb, err := durable.CreateCallback[string](ctx, name, jsonResult, durable.WithHeartbeatTimeout(10*time.Second))
	if err != nil {
		return "", err
	}
	return cb.Await(ctx)
}

// 4-7: create a callback, run a step, then await the callback, which fails.
func callbackStepAwait(ctx context.Context, name string) (string, error) {
	return createStepAwait(ctx, name)
}

// 4-8: as 4-7 with a 5-second timeout that passes.
func callbackWithTimeoutStepAwait(ctx context.Context, name string) (string, error) {
	return createStepAwait(ctx, name, durable.WithTimeout(5*time.Second))
}

func createStepAwait(ctx context.Context, name string, opts ...durable.CallbackOption) (string, error) {
	cb, err := durable.CreateCallback[string](ctx, name, append([]durable.CallbackOption{jsonResult}, opts...)...)
	if err != nil {
		return "", err
	}
	if _, err := echoStep(ctx, "between", "work"); err != nil {
		return "", err
	}
	return cb.Await(ctx)
}

// 4-9: create a callback, wait 5 seconds (the callback completes meanwhile),
// then await the callback.
func callbackWaitAwait(ctx context.Context, name string) (string, error) {
	cb, err := durable.CreateCallback[string](ctx, name, jsonResult)
	if err != nil {
		return "", err
	}
	if err := durable.Wait(ctx, "wait", 5*time.Second); err != nil {
		return "", err
	}
	return cb.Await(ctx)
}

// 4-12: await a callback, then wait 2 seconds, then return its result.
func callbackThenWait(ctx context.Context, name string) (string, error) {
	v, err := awaitCallback(ctx, name)
	if err != nil {
		return "", err
	}
	if err := durable.Wait(ctx, "wait", 2*time.Second); err != nil {
		return "", err
	}
	return v, nil
}

// 4-14: a callback with a 3-second timeout; the timeout is caught, then a
// 2-second wait.
func callbackTimeoutCaughtThenWait(ctx context.Context, name string) (string, error) {
	message := "completed"
	if _, err := callbackTimesOutAfter(ctx, name, 3*time.Second); err != nil {
		var te *durable.CallbackTimeoutError
		if !errors.As(err, &te) {
			return "", err
		}
		message = "timed out: " + te.ErrorType
	}
	if err := durable.Wait(ctx, "wait", 2*time.Second); err != nil {
		return "", err
	}
	return message, nil
}

func callbackTimesOutAfter(ctx context.Context, name string, d time.Duration) (string, error) {
	cb, err := durable.CreateCallback[string](ctx, name, jsonResult, durable.WithTimeout(d))
	if err != nil {
		return "", err
	}
	return cb.Await(ctx)
}

// numberSerdes reads a callback payload as an integer.
type numberSerdes struct{}

func (numberSerdes) Serialize(v any) (string, error) {
	n, ok := v.(int)
	if !ok {
		return "", fmt.Errorf("numberSerdes: %T is not an int", v)
	}
	return strconv.Itoa(n), nil
}

func (numberSerdes) Deserialize(data string, ptr any) error {
	p, ok := ptr.(*int)
	if !ok {
		return fmt.Errorf("numberSerdes: cannot fill %T", ptr)
	}
	n, err := strconv.Atoi(strings.TrimSpace(data))
	if err != nil {
		return fmt.Errorf("numberSerdes: %w", err)
	}
	*p = n
	return nil
}

type countResult struct {
	Count   int `json:"count"`
	Doubled int `json:"doubled"`
}

// 4-16: the callback's payload is turned into a number by a custom serdes.
func callbackWithNumberSerdes(ctx context.Context, name string) (countResult, error) {
	cb, err := durable.CreateCallback[int](ctx, name, durable.WithSerdes(numberSerdes{}))
	if err != nil {
		return countResult{}, err
	}
	n, err := cb.Await(ctx)
	if err != nil {
		return countResult{}, err
	}
	return countResult{Count: n, Doubled: 2 * n}, nil
}

// 4-17: create and await callback A, then create and await callback B.
func twoCallbacksInSequence(ctx context.Context, names []string) ([]string, error) {
	if len(names) != 2 {
		return nil, fmt.Errorf("want two callback names, got %d", len(names))
	}
	a, err := awaitCallback(ctx, names[0])
	if err != nil {
		return nil, err
	}
	b, err := awaitCallback(ctx, names[1])
	if err != nil {
		return nil, err
	}
	return []string{a, b}, nil
}

// 4-18: create callbacks A and B, then await A, then B.
func twoCallbacksAtOnce(ctx context.Context, names []string) ([]string, error) {
	if len(names) != 2 {
		return nil, fmt.Errorf("want two callback names, got %d", len(names))
	}
	a, err := durable.CreateCallback[string](ctx, names[0], jsonResult)
	if err != nil {
		return nil, err
	}
	b, err := durable.CreateCallback[string](ctx, names[1], jsonResult)
	if err != nil {
		return nil, err
	}
	va, err := a.Await(ctx)
	if err != nil {
		return nil, err
	}
	vb, err := b.Await(ctx)
	if err != nil {
		return nil, err
	}
	return []string{va, vb}, nil
}
