package durable

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
)

// MaxWait is the longest wait the service accepts: 366 days (31,622,400 s).
// It bounds [Wait], [WaitUntil], callback timeouts and polling delays.
const MaxWait = 366 * 24 * time.Hour

const maxWaitSeconds = int64(MaxWait / time.Second)

// Wait suspends the execution for d, without running or paying for the
// function in between: the service invokes it again once d has passed.
//
// d is rounded up to whole seconds and must be between 1 s and [MaxWait];
// outside that range Wait returns an error before anything is recorded. On
// the invocation that starts the wait, and on any invocation that replays it
// before it has elapsed, Wait returns an error wrapping [ErrSuspended]:
// return it from the handler. Once the wait has elapsed, Wait returns nil.
// A wait the service cancelled returns a [*CancelledError].
func Wait(ctx context.Context, name string, d time.Duration) error {
	f, err := frameOf(ctx)
	if err != nil {
		return err
	}
	if err := validateName("wait", name); err != nil {
		return err
	}
	secs, err := waitSeconds(name, d)
	if err != nil {
		return err
	}
	op, err := f.Begin(types.OperationTypeWait, "Wait", name)
	if err != nil {
		return err
	}
	defer op.End()
	return runWait(op, secs)
}

// WaitUntil suspends the execution until t, like [Wait].
//
// The duration is computed from the execution's clock when the wait starts
// and recorded with it, so replay does not depend on when it runs: a
// recorded wait is replayed as it was recorded. A t in the past, or less
// than a second away, waits the shortest wait the service has (1 s), so the
// history holds the same operations however late the code ran. A t more
// than [MaxWait] away is an error, returned before anything is recorded.
func WaitUntil(ctx context.Context, name string, t time.Time) error {
	f, err := frameOf(ctx)
	if err != nil {
		return err
	}
	if err := validateName("wait", name); err != nil {
		return err
	}
	if t.IsZero() {
		return fmt.Errorf("durable: wait %q until the zero time: pass the moment to wait for", name)
	}
	d := max(t.Sub(f.Execution().Now()), time.Second)
	secs, err := waitSeconds(name, d)
	if err != nil {
		return err
	}
	op, err := f.Begin(types.OperationTypeWait, "Wait", name)
	if err != nil {
		return err
	}
	defer op.End()
	return runWait(op, secs)
}

// CancelledError reports an operation the service ended without a result
// (status CANCELLED), such as a cancelled wait.
type CancelledError struct {
	// Kind is the operation kind: "wait", "callback".
	Kind        string
	Name        string
	OperationID string
}

func (e *CancelledError) Error() string {
	return fmt.Sprintf("durable: %s %q was cancelled before it completed", e.Kind, e.Name)
}

// waitSeconds converts a wait to the whole seconds the service takes,
// rounding up, and checks its range.
func waitSeconds(name string, d time.Duration) (int32, error) {
	if d <= 0 {
		return 0, fmt.Errorf("durable: wait %q of %s is not positive: waits last 1 s to 366 days", name, d)
	}
	secs := ceilSeconds(d)
	if secs > maxWaitSeconds {
		return 0, fmt.Errorf("durable: wait %q of %s is longer than the 366 days (31622400 s) the service allows: "+
			"split it, or keep the deadline in a step and wait again", name, d)
	}
	return int32(secs), nil
}

// ceilSeconds rounds d up to whole seconds, exactly.
func ceilSeconds(d time.Duration) int64 {
	secs := int64(d / time.Second)
	if d%time.Second > 0 {
		secs++
	}
	return secs
}

func runWait(op *ctxstate.Op, secs int32) error {
	exec := op.Frame.Execution()
	if rec := op.Recorded; rec != nil {
		startHook(exec, op, true)
		return waitOutcome(op, rec, true)
	}
	startHook(exec, op, false)
	u := update(op, types.OperationActionStart)
	u.WaitOptions = &types.WaitOptions{WaitSeconds: &secs}
	if err := exec.CheckpointSync(u); err != nil {
		return err
	}
	rec := op.Refresh()
	if rec == nil {
		return exec.Suspend(fmt.Sprintf("wait %q for %ds", op.Name, secs))
	}
	return waitOutcome(op, rec, false)
}

// waitOutcome maps the state of a wait to what Wait returns.
func waitOutcome(op *ctxstate.Op, rec *types.Operation, replaying bool) error {
	exec := op.Frame.Execution()
	switch rec.Status {
	case types.OperationStatusSucceeded:
		endHook(exec, op, rec.Status, 0, replaying, nil)
		return nil
	case types.OperationStatusStarted:
		endHook(exec, op, rec.Status, 0, replaying, nil)
		reason := fmt.Sprintf("wait %q has not elapsed", op.Name)
		if d := rec.WaitDetails; d != nil && d.ScheduledEndTimestamp != nil {
			reason = fmt.Sprintf("wait %q ends at %s", op.Name, d.ScheduledEndTimestamp.UTC().Format(time.RFC3339))
		}
		return exec.Suspend(reason)
	default:
		err := &CancelledError{Kind: "wait", Name: op.Name, OperationID: op.ID}
		endHook(exec, op, rec.Status, 0, replaying, err)
		return err
	}
}
