package durable

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
	"github.com/durablectx/durable/ctxstate"
)

// StepOption configures a [Step].
type StepOption interface{ applyStep(*stepConfig) }

type stepConfig struct {
	retry      RetryPolicy
	atMostOnce bool
	serdes     Serdes
	subType    string
}

type stepOptionFunc func(*stepConfig)

func (f stepOptionFunc) applyStep(c *stepConfig) { f(c) }

// WithRetry sets the step's retry policy; the default is [DefaultRetry].
func WithRetry(p RetryPolicy) StepOption {
	return stepOptionFunc(func(c *stepConfig) { c.retry = p })
}

// AtMostOnce makes the step run at most once per attempt: its START is
// durable before the function runs, and a step found started but unfinished
// after a crash is not run again blindly: it fails the attempt with a
// [*StepInterruptedError], which the retry policy then judges. The default is
// at least once per attempt: a step interrupted by a crash runs again.
func AtMostOnce() StepOption {
	return stepOptionFunc(func(c *stepConfig) { c.atMostOnce = true })
}

// WithSerdes sets how an operation's result is recorded; the default is
// [JSON]. It applies to [Step], [Child] and the other operations that record
// a result.
func WithSerdes(s Serdes) SerdesOption { return SerdesOption{s} }

// SerdesOption is the option [WithSerdes] returns; it configures any
// operation that records a result.
type SerdesOption struct{ s Serdes }

func (o SerdesOption) applyStep(c *stepConfig)   { c.serdes = o.s }
func (o SerdesOption) applyChild(c *childConfig) { c.serdes = o.s }

// Step runs fn once and records its result, so that later invocations return
// the recorded result without running fn again. It is the unit of work of a
// durable function: put every side effect and every non-deterministic value
// in a step.
//
// ctx is any context derived from the handler's; the name (1 to 256
// printable ASCII characters, or empty) labels the step in the history.
// fn receives a context that carries the attempt number ([StepAttempt]) and
// the operation id ([OperationID]); durable operations cannot be started
// with it. An error from fn, or a panic, fails the attempt; the retry policy
// ([WithRetry], [DefaultRetry] by default) decides whether another attempt
// follows, after a durable delay during which the function is suspended
// ([ErrSuspended]). When it does not, Step returns a [*StepError].
func Step[T any](ctx context.Context, name string, fn func(context.Context) (T, error), opts ...StepOption) (T, error) {
	var zero T
	f, err := frameOf(ctx)
	if err != nil {
		return zero, err
	}
	cfg := newStepConfig(opts)
	if err := validateName("step", name); err != nil {
		return zero, err
	}
	op, err := f.Begin(types.OperationTypeStep, cfg.subType, name)
	if err != nil {
		return zero, err
	}
	defer op.End()
	return runStep(ctx, op, &cfg, fn)
}

// newStepConfig applies opts to the defaults. It returns the configuration
// by value: options are interface calls, so the value they edit escapes to
// the heap, and keeping that here means a step without options allocates
// nothing for its configuration.
func newStepConfig(opts []StepOption) stepConfig {
	if len(opts) == 0 {
		return stepConfig{retry: DefaultRetry, serdes: JSON, subType: "Step"}
	}
	cfg := &stepConfig{retry: DefaultRetry, serdes: JSON, subType: "Step"}
	for _, o := range opts {
		o.applyStep(cfg)
	}
	return *cfg
}

// StepAttempt returns the 1-based attempt number of the step whose function
// received ctx, or 0 outside a step function.
func StepAttempt(ctx context.Context) int {
	if f, ok := ctxstate.FromContext(ctx); ok {
		if s, ok := f.Step(); ok {
			return s.Attempt
		}
	}
	return 0
}

// OperationID returns the wire id of the step whose function received ctx,
// or "" outside a step function. It is stable across attempts and
// invocations: use it as an idempotency key for the step's side effects.
func OperationID(ctx context.Context) string {
	if f, ok := ctxstate.FromContext(ctx); ok {
		if s, ok := f.Step(); ok {
			return s.ID
		}
	}
	return ""
}

func frameOf(ctx context.Context) (*ctxstate.Frame, error) {
	f, ok := ctxstate.FromContext(ctx)
	if !ok {
		return nil, ErrNoExecution
	}
	return f, nil
}

func runStep[T any](ctx context.Context, op *ctxstate.Op, cfg *stepConfig, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	exec := op.Frame.Execution()
	hooks := exec.Hooks()
	rec := op.Recorded
	attempt := 1
	needStart := true
	if rec != nil {
		if rec.StepDetails != nil {
			attempt = int(rec.StepDetails.Attempt) + 1
		}
		if hooks != nil && hooks.OperationStart != nil {
			hooks.OperationStart(opInfo(exec, op, true, attempt))
		}
		if v, done, err := replayedStep[T](op, cfg.serdes, "step", attempt-1); done {
			return v, err
		}
		switch rec.Status {
		case types.OperationStatusPending:
			return zero, exec.Suspend(fmt.Sprintf("step %q waits for its retry", op.Name))
		case types.OperationStatusStarted:
			needStart = false
			if cfg.atMostOnce {
				return failAttempt[T](op, cfg, attempt, &StepInterruptedError{Name: op.Name, OperationID: op.ID})
			}
		case types.OperationStatusReady:
			// The retry is due: the attempt runs now, and needs its own START.
		}
	} else if hooks != nil && hooks.OperationStart != nil {
		hooks.OperationStart(opInfo(exec, op, false, attempt))
	}

	if needStart {
		t := exec.Checkpoint(update(op, types.OperationActionStart))
		if cfg.atMostOnce {
			if err := exec.Await(t); err != nil {
				return zero, err
			}
		}
	}

	v, err := runStepAttempt(ctx, op, attempt, fn)
	if err != nil {
		if exec.Suspended() && ctx.Err() != nil {
			// The step was cut short by suspension, not by its own failure:
			// record nothing; it runs again on the next invocation.
			return zero, exec.Suspend("")
		}
		return failAttempt[T](op, cfg, attempt, err)
	}

	payload, err := encode(cfg.serdes, "step", op.Name, v)
	if err != nil {
		// A result that cannot be recorded is a failed attempt: the retry
		// policy sees it, and the history says what went wrong.
		return failAttempt[T](op, cfg, attempt, err)
	}
	u := update(op, types.OperationActionSucceed)
	u.Payload = &payload
	t := exec.Checkpoint(u)
	if exec.Mode() == checkpointer.Sync || cfg.atMostOnce {
		if err := exec.Await(t); err != nil {
			return zero, err
		}
	}
	// Return the value as replay will: through the serdes.
	out, err := decode[T](cfg.serdes, "step", op.Name, payload)
	endHook(exec, op, types.OperationStatusSucceeded, attempt, false, err)
	return out, err
}

// failAttempt records a failed attempt: a RETRY and a suspension when the
// policy retries, a FAIL and a *StepError otherwise.
func failAttempt[T any](op *ctxstate.Op, cfg *stepConfig, attempt int, cause error) (T, error) {
	var zero T
	exec := op.Frame.Execution()
	obj := errorObjectFor(cause)
	if delay, ok := cfg.retry.Next(attempt, cause); ok {
		u := update(op, types.OperationActionRetry)
		u.Error = &obj
		u.StepOptions = &types.StepOptions{NextAttemptDelaySeconds: int32ptr(int32(delay / time.Second))}
		if err := exec.CheckpointSync(u); err != nil {
			return zero, err
		}
		endHook(exec, op, types.OperationStatusPending, attempt, false, cause)
		return zero, exec.Suspend(fmt.Sprintf("step %q retries in %s", op.Name, delay))
	}
	u := update(op, types.OperationActionFail)
	u.Error = &obj
	if err := exec.CheckpointSync(u); err != nil {
		return zero, err
	}
	serr := stepErrorFrom(&obj, op.Name, op.ID, attempt, cause)
	endHook(exec, op, types.OperationStatusFailed, attempt, false, serr)
	return zero, serr
}

// runStepAttempt runs one attempt of a step-like function: in a step frame (no
// durable operations inside), between the attempt hooks, panics recovered.
func runStepAttempt[T any](ctx context.Context, op *ctxstate.Op, attempt int, fn func(context.Context) (T, error)) (T, error) {
	exec := op.Frame.Execution()
	hooks := exec.Hooks()
	sctx := ctxstate.NewContext(ctx, op.Frame.StepFrame(ctxstate.StepInfo{ID: op.ID, Name: op.Name, Attempt: attempt}))
	if hooks != nil && hooks.AttemptStart != nil {
		hooks.AttemptStart(opInfo(exec, op, false, attempt))
	}
	if hooks != nil && hooks.AttemptContext != nil {
		sctx = hooks.AttemptContext(sctx, opInfo(exec, op, false, attempt))
	}
	v, err := callStep(sctx, fn)
	if hooks != nil && hooks.AttemptEnd != nil {
		info := opInfo(exec, op, false, attempt)
		info.Err = err
		hooks.AttemptEnd(info)
	}
	return v, err
}

// callStep runs fn, turning a panic into a *PanicError.
func callStep[T any](ctx context.Context, fn func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return fn(ctx)
}

// replayedStep returns the recorded outcome of a step-like operation that
// finished in an earlier invocation: its result through s, or its
// *StepError. done is false while the operation has not finished.
func replayedStep[T any](op *ctxstate.Op, s Serdes, what string, attempts int) (v T, done bool, err error) {
	rec, exec := op.Recorded, op.Frame.Execution()
	switch rec.Status {
	case types.OperationStatusSucceeded:
		v, err = decode[T](s, what, op.Name, stepResult(rec))
	case types.OperationStatusFailed, types.OperationStatusCancelled, types.OperationStatusTimedOut, types.OperationStatusStopped:
		var obj *types.ErrorObject
		if rec.StepDetails != nil {
			obj = rec.StepDetails.Error
		}
		err = stepErrorFrom(obj, op.Name, op.ID, attempts, nil)
	default:
		return v, false, nil
	}
	endHook(exec, op, rec.Status, attempts, true, err)
	return v, true, err
}

func stepResult(rec *types.Operation) string {
	if rec.StepDetails == nil {
		return ""
	}
	return deref(rec.StepDetails.Result)
}

// update returns an update of op with the fields every action carries.
func update(op *ctxstate.Op, action types.OperationAction) types.OperationUpdate {
	u := types.OperationUpdate{Id: &op.ID, Type: op.Type, Action: action}
	if op.SubType != "" {
		u.SubType = &op.SubType
	}
	if op.Name != "" {
		u.Name = &op.Name
	}
	if op.ParentID != "" {
		u.ParentId = &op.ParentID
	}
	return u
}

func int32ptr(v int32) *int32 { return &v }

// opInfo describes op to hooks. Start is the operation's recorded start
// when the service has one, else now.
func opInfo(exec *ctxstate.Execution, op *ctxstate.Op, replaying bool, attempt int) ctxstate.OperationInfo {
	info := ctxstate.OperationInfo{
		ExecutionARN: exec.ARN(), ID: op.ID, ParentID: op.ParentID, Name: op.Name,
		Type: op.Type, SubType: op.SubType, Replaying: replaying, Attempt: attempt,
	}
	rec := op.Recorded
	if rec == nil || rec.StartTimestamp == nil {
		rec = op.Refresh()
	}
	if rec != nil && rec.StartTimestamp != nil {
		info.Start = *rec.StartTimestamp
	} else {
		info.Start = exec.Now()
	}
	return info
}

// endHook reports the end of op's work in this invocation. A replayed
// outcome is reported only by the first invocation to see it: when the
// service completed the operation while the execution was suspended.
func endHook(exec *ctxstate.Execution, op *ctxstate.Op, status types.OperationStatus, attempt int, replaying bool, err error) {
	h := exec.Hooks()
	if h == nil || h.OperationEnd == nil {
		return
	}
	if replaying && !exec.Resumed(op.ID) {
		return
	}
	info := opInfo(exec, op, replaying, attempt)
	info.Status = status
	info.Err = err
	info.End = exec.Now()
	if rec := op.Recorded; replaying && rec != nil && rec.EndTimestamp != nil {
		info.End = *rec.EndTimestamp
	}
	if info.End.Before(info.Start) {
		info.Start = info.End
	}
	h.OperationEnd(info)
}

// validateName checks an operation name: empty, or 1 to 256 printable ASCII characters.
func validateName(what, name string) error {
	if len(name) > 256 {
		return fmt.Errorf("durable: %s name is %d characters long; names are at most 256 printable ASCII characters", what, len(name))
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("durable: %s name %q has a character outside printable ASCII at byte %d; use letters, digits, spaces and punctuation", what, name, i)
		}
	}
	return nil
}

// ExecutionARN returns the ARN of the durable execution ctx belongs to, or
// "" when ctx carries none.
func ExecutionARN(ctx context.Context) string {
	if f, ok := ctxstate.FromContext(ctx); ok {
		return f.Execution().ARN()
	}
	return ""
}
