package durable

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
)

// WaitDecision is what a [WaitStrategy] decides after a check: stop polling,
// or check again after Delay.
type WaitDecision struct {
	// Done stops polling: the state just checked is the result.
	Done bool
	// Delay is the time before the next check, rounded up to whole seconds,
	// at least 1 s and at most [MaxWait]. The function is suspended meanwhile.
	Delay time.Duration
}

// StopPolling is the decision to stop: the state just checked is the result.
func StopPolling() WaitDecision { return WaitDecision{Done: true} }

// PollAgain is the decision to check again after delay.
func PollAgain(delay time.Duration) WaitDecision { return WaitDecision{Delay: delay} }

// WaitStrategy decides, after each check of [WaitForCondition], whether the
// condition is met. state is what the check returned; attempt is the
// 1-based number of that check. It runs once per check, right after it, and
// its decision is recorded with the state, so it is not run on replay.
type WaitStrategy[S any] func(state S, attempt int) WaitDecision

// PollUntil returns a strategy that stops when done(state) holds, and
// otherwise checks again after the delay backoff gives for the attempt:
// InitialDelay × Multiplier^(attempt-1), capped at MaxDelay, with Jitter
// applied, as for retries. backoff's MaxAttempts and RetryIf are not used:
// bound the checks with [WithMaxPolls].
func PollUntil[S any](done func(state S) bool, backoff RetryPolicy) WaitStrategy[S] {
	return func(state S, attempt int) WaitDecision {
		if done(state) {
			return StopPolling()
		}
		p := backoff
		p.MaxAttempts, p.RetryIf = attempt+1, nil
		d, _ := p.Next(attempt, nil)
		return PollAgain(d)
	}
}

// ConditionOption configures [WaitForCondition].
type ConditionOption interface{ applyCondition(*conditionConfig) }

type conditionConfig struct {
	serdes   Serdes
	maxPolls int
}

type conditionOptionFunc func(*conditionConfig)

func (f conditionOptionFunc) applyCondition(c *conditionConfig) { f(c) }

func (o SerdesOption) applyCondition(c *conditionConfig) { c.serdes = o.s }

// WithMaxPolls bounds the checks of [WaitForCondition]: when the n-th check
// does not meet the condition, the operation fails with a [*StepError]
// wrapping a [*PollLimitError]. The default, 0, sets no bound: polling goes
// on until the strategy stops it or the execution times out.
func WithMaxPolls(n int) ConditionOption {
	return conditionOptionFunc(func(c *conditionConfig) { c.maxPolls = n })
}

// PollLimitError is the error of a [WaitForCondition] whose condition was
// still unmet after the checks [WithMaxPolls] allows. It is recorded as the
// operation's error and rebuilt on replay: errors.As finds it in the
// [*StepError] on every invocation.
type PollLimitError struct {
	Polls int `json:"polls"`
}

func (e *PollLimitError) Error() string {
	return fmt.Sprintf("durable: the condition was not met after %d checks", e.Polls)
}

func init() { RegisterError[*PollLimitError]() }

// WaitForCondition polls: it runs check on the state, asks strategy whether
// the condition is met, and if not, suspends the function for the delay the
// strategy chose and checks again on a later invocation, starting from the
// state the last check returned. It returns the state of the check that met
// the condition. initial is the state of the first check.
//
// Each check is one attempt of a STEP operation (SubType
// "WaitForCondition"): its state is recorded after every check, so a check
// runs once and replay returns the recorded state. Durable operations cannot
// be started inside check; [StepAttempt] gives the check number. A check
// that returns an error or panics fails the operation with a [*StepError],
// as AWS's SDKs do: there is no retry of failed checks, because a retry
// would lose the state. Make check return the state unchanged on transient
// errors to keep polling instead.
func WaitForCondition[S any](ctx context.Context, name string, initial S, check func(ctx context.Context, state S) (S, error), strategy WaitStrategy[S], opts ...ConditionOption) (S, error) {
	var zero S
	f, err := frameOf(ctx)
	if err != nil {
		return zero, err
	}
	cfg := conditionConfig{serdes: JSON}
	for _, o := range opts {
		o.applyCondition(&cfg)
	}
	if err := validateName("wait-for-condition", name); err != nil {
		return zero, err
	}
	if check == nil || strategy == nil {
		return zero, fmt.Errorf("durable: wait-for-condition %q needs a check function and a wait strategy (see durable.PollUntil)", name)
	}
	if cfg.maxPolls < 0 {
		return zero, fmt.Errorf("durable: wait-for-condition %q: WithMaxPolls(%d) is negative; use 0 for no bound", name, cfg.maxPolls)
	}
	op, err := f.Begin(types.OperationTypeStep, "WaitForCondition", name)
	if err != nil {
		return zero, err
	}
	defer op.End()
	return runCondition(ctx, op, &cfg, initial, check, strategy)
}

func runCondition[S any](ctx context.Context, op *ctxstate.Op, cfg *conditionConfig, initial S, check func(context.Context, S) (S, error), strategy WaitStrategy[S]) (S, error) {
	var zero S
	exec := op.Frame.Execution()
	state := initial
	attempt := 1
	needStart := true
	if rec := op.Recorded; rec != nil {
		if rec.StepDetails != nil {
			attempt = int(rec.StepDetails.Attempt) + 1
		}
		startHook(exec, op, true)
		if v, done, err := replayedStep[S](op, cfg.serdes, "wait-for-condition", attempt-1); done {
			return v, err
		}
		switch rec.Status {
		case types.OperationStatusPending:
			endHook(exec, op, rec.Status, attempt-1, true, nil)
			return zero, exec.Suspend(fmt.Sprintf("wait-for-condition %q waits for its next check", op.Name))
		case types.OperationStatusStarted:
			// A check was cut short by the end of an invocation: run it again.
			needStart = false
		}
		// READY or STARTED: the state is the one the last check recorded.
		if data := stepResult(rec); data != "" {
			s, err := decode[S](cfg.serdes, "wait-for-condition", op.Name, data)
			if err != nil {
				return zero, err
			}
			state = s
		}
	} else {
		startHook(exec, op, false)
	}

	if needStart {
		exec.Checkpoint(update(op, types.OperationActionStart))
	}
	next, err := runStepAttempt(ctx, op, attempt, func(ctx context.Context) (S, error) { return check(ctx, state) })
	if err != nil {
		if exec.Suspended() && ctx.Err() != nil {
			return zero, exec.Suspend("")
		}
		return failCondition[S](op, attempt, err)
	}
	payload, err := encode(cfg.serdes, "wait-for-condition", op.Name, next)
	if err != nil {
		return failCondition[S](op, attempt, err)
	}
	decision, err := decide(strategy, next, attempt)
	if err != nil {
		return failCondition[S](op, attempt, err)
	}
	if decision.Done {
		u := update(op, types.OperationActionSucceed)
		u.Payload = &payload
		if err := exec.CheckpointSync(u); err != nil {
			return zero, err
		}
		out, err := decode[S](cfg.serdes, "wait-for-condition", op.Name, payload)
		endHook(exec, op, types.OperationStatusSucceeded, attempt, false, err)
		return out, err
	}
	if cfg.maxPolls > 0 && attempt >= cfg.maxPolls {
		return failCondition[S](op, attempt, &PollLimitError{Polls: attempt})
	}
	secs, err := pollDelaySeconds(op.Name, decision.Delay)
	if err != nil {
		return failCondition[S](op, attempt, err)
	}
	// A RETRY without an error continues polling: the service records the
	// state and invokes the function again after the delay.
	u := update(op, types.OperationActionRetry)
	u.Payload = &payload
	u.StepOptions = &types.StepOptions{NextAttemptDelaySeconds: &secs}
	if err := exec.CheckpointSync(u); err != nil {
		return zero, err
	}
	endHook(exec, op, types.OperationStatusPending, attempt, false, nil)
	return zero, exec.Suspend(fmt.Sprintf("wait-for-condition %q checks again in %ds", op.Name, secs))
}

// decide runs the strategy, turning a panic into an error.
func decide[S any](strategy WaitStrategy[S], state S, attempt int) (d WaitDecision, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return strategy(state, attempt), nil
}

// pollDelaySeconds converts a polling delay to whole seconds: at least 1 s,
// as the service needs, and at most MaxWait.
func pollDelaySeconds(name string, d time.Duration) (int32, error) {
	secs := max(ceilSeconds(d), 1)
	if secs > maxWaitSeconds {
		return 0, fmt.Errorf("durable: the wait strategy of wait-for-condition %q asked for a delay of %s, longer than the 366 days the service allows", name, d)
	}
	return int32(secs), nil
}

// failCondition records a failed check: a FAIL and a *StepError.
func failCondition[S any](op *ctxstate.Op, attempt int, cause error) (S, error) {
	var zero S
	exec := op.Frame.Execution()
	obj := errorObjectFor(cause)
	u := update(op, types.OperationActionFail)
	u.Error = &obj
	if err := exec.CheckpointSync(u); err != nil {
		return zero, err
	}
	serr := stepErrorFrom(&obj, op.Name, op.ID, attempt, cause)
	endHook(exec, op, types.OperationStatusFailed, attempt, false, serr)
	return zero, serr
}
