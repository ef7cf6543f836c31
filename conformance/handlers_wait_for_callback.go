package conformance

import (
	"context"
	"errors"
	"time"

	"github.com/durablectx/durable"
)

// Suite wait_for_callback (7-x): WaitForCallback, its submitter, results,
// failures, timeouts and heartbeats.

func registerWaitForCallback(r *Registry) {
	r.HandleFunc(durableFunc(waitForCallbackNamedByInput), "7-1", "7-4")
	r.HandleFunc(durableFunc(waitForApproval), "7-2")
	r.HandleFunc(durableFunc(waitForCallbackTimesOut), "7-5")
	r.HandleFunc(durableFunc(waitForCallbackFailureCaught), "7-6")
	r.HandleFunc(durableFunc(twoWaitForCallbacks), "7-9")
	r.HandleFunc(durableFunc(waitStepWaitForCallback), "7-10")
	r.HandleFunc(durableFunc(waitForCallbackJSON), "7-11")
	r.HandleFunc(durableFunc(waitForCallbackWithHeartbeat), "7-13")
	r.HandleFunc(durableFunc(waitForCallbackTimeoutCaught), "7-14")
}

// submitNothing is a submitter that completes without doing anything
// durable: the driver answers the callback.
func submitNothing(context.Context, string) error { return nil }

func waitForCallback(ctx context.Context, name string, opts ...durable.CallbackOption) (string, error) {
	return durable.WaitForCallback[string](ctx, name, submitNothing, append([]durable.CallbackOption{jsonResult}, opts...)...)
}

// 7-1, 7-4: one wait_for_callback named after the input, returning the
// callback's result; a failure is not caught (7-4).
func waitForCallbackNamedByInput(ctx context.Context, name string) (string, error) {
	return waitForCallback(ctx, name)
}

// 7-2: one wait_for_callback named approval.
func waitForApproval(ctx context.Context, _ any) (string, error) {
	return waitForCallback(ctx, "approval")
}

// 7-5: a 3-second timeout that passes, not caught.
func waitForCallbackTimesOut(ctx context.Context, name string) (string, error) {
	return waitForCallback(ctx, name, durable.WithTimeout(3*time.Second))
}

// 7-6: the callback's failure is caught: the handler returns "recovered".
func waitForCallbackFailureCaught(ctx context.Context, name string) (string, error) {
	if _, err := waitForCallback(ctx, name); err != nil {
		var ce *durable.CallbackError
		if !errors.As(err, &ce) {
			return "", err
		}
		return "recovered", nil
	}
	return "not failed", nil
}

// 7-9: two wait_for_callback operations, "first" then "second"; the second's
// result is returned.
func twoWaitForCallbacks(ctx context.Context, _ any) (string, error) {
	if _, err := waitForCallback(ctx, "first"); err != nil {
		return "", err
	}
	return waitForCallback(ctx, "second")
}

// 7-10: a 1-second wait, a top-level step, then a wait_for_callback named
// after the input.
func waitStepWaitForCallback(ctx context.Context, name string) (string, error) {
	if err := durable.Wait(ctx, "wait", time.Second); err != nil {
		return "", err
	}
	if _, err := echoStep(ctx, "fixed-data", "data"); err != nil {
		return "", err
	}
	return waitForCallback(ctx, name)
}

type approvalStatus struct {
	Status string `json:"status"`
}

// 7-11: the callback's JSON object result is decoded; its status is
// returned.
func waitForCallbackJSON(ctx context.Context, name string) (string, error) {
	v, err := durable.WaitForCallback[approvalStatus](ctx, name, submitNothing)
	if err != nil {
		return "", err
	}
	return v.Status, nil
}

// 7-13: a 10-second heartbeat timeout; the sender heartbeats, then succeeds.
func waitForCallbackWithHeartbeat(ctx context.Context, name string) (string, error) {
	return waitForCallback(ctx, name, durable.WithHeartbeatTimeout(10*time.Second))
}

// 7-14: a 3-second timeout that passes, caught: the handler returns
// "timed-out-handled".
func waitForCallbackTimeoutCaught(ctx context.Context, name string) (string, error) {
	if _, err := waitForCallback(ctx, name, durable.WithTimeout(3*time.Second)); err != nil {
		var te *durable.CallbackTimeoutError
		if !errors.As(err, &te) {
			return "", err
		}
		return "timed-out-handled", nil
	}
	return "not timed out", nil
}
