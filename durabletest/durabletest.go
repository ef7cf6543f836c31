package durabletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/local"
	"github.com/durablectx/durable/middleware"
)

// FunctionName is the name the handler under test is registered under.
const FunctionName = "handler"

// Execution statuses, for comparisons with [Result.Status].
const (
	Succeeded = types.ExecutionStatusSucceeded
	Failed    = types.ExecutionStatusFailed
	TimedOut  = types.ExecutionStatusTimedOut
	Stopped   = types.ExecutionStatusStopped
)

// TB is the part of [testing.TB] this package uses; pass the test's
// *testing.T. Fatalf must not return, as testing's does not.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	Context() context.Context
}

// An Option configures a run.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	start     time.Time
	mw        []middleware.Option
	service   []local.Option
	function  []local.FunctionOption
	functions map[string]lambda.Handler // more durable functions, not yet wrapped
	answers   []answer
}

// answer is a callback answer given by an option.
type answer struct {
	name   string
	result any
	err    error
}

// WithCallbackResult answers every callback named name with result as soon
// as it starts. name is the name given to [durable.WaitForCallback] or
// [durable.CreateCallback]. A string or []byte result is sent as is (the
// callback decodes it raw when its type is string or []byte, as the SDKs do);
// anything else is sent as JSON.
func WithCallbackResult(name string, result any) Option {
	return optionFunc(func(c *config) { c.answers = append(c.answers, answer{name: name, result: result}) })
}

// WithCallbackError fails every callback named name with err as soon as it
// starts; see [Execution.FailCallback] for how err is sent.
func WithCallbackError(name string, err error) Option {
	return optionFunc(func(c *config) { c.answers = append(c.answers, answer{name: name, err: err}) })
}

// WithMiddleware adds options to the [middleware.Wrap] that makes the handler
// durable, e.g. [middleware.WithHooks] or [middleware.WithCheckpointMode].
func WithMiddleware(opts ...middleware.Option) Option {
	return optionFunc(func(c *config) { c.mw = append(c.mw, opts...) })
}

// WithStartTime sets where the virtual clock starts (default: the current
// time, to the millisecond).
func WithStartTime(t time.Time) Option {
	return optionFunc(func(c *config) { c.start = t })
}

// WithServiceOptions adds options to the [local.Service] the run creates,
// e.g. [local.WithFailedInvocationPolicy]. A [local.WithClock] given here
// replaces the virtual clock, which this package needs to move time itself:
// give a [*local.VirtualClock].
func WithServiceOptions(opts ...local.Option) Option {
	return optionFunc(func(c *config) { c.service = append(c.service, opts...) })
}

// WithFunctionOptions configures the function under test, e.g.
// [local.WithExecutionTimeout].
func WithFunctionOptions(opts ...local.FunctionOption) Option {
	return optionFunc(func(c *config) { c.function = append(c.function, opts...) })
}

// WithFunction registers fn as the durable function name on the run's
// service, for handlers that call it with [durable.Invoke].
func WithFunction[In, Out any](name string, fn func(context.Context, In) (Out, error)) Option {
	return optionFunc(func(c *config) {
		if c.functions == nil {
			c.functions = map[string]lambda.Handler{}
		}
		c.functions[name] = adapters.Handler(fn)
	})
}

// Execution is an execution of the handler under test, driven step by step.
// It is not safe for concurrent use.
type Execution[Out any] struct {
	t        TB
	ctx      context.Context
	svc      *local.Service
	arn      string
	answers  []answer
	answered map[string]bool
	deadline time.Time // when the execution times out
	result   *Result[Out]
}

// Run runs handler with input on a new local service with a virtual clock
// until its execution ends, and returns the result. It fails t if the
// service cannot start the handler or the execution cannot end.
func Run[In, Out any](t TB, handler func(context.Context, In) (Out, error), input In, opts ...Option) *Result[Out] {
	t.Helper()
	return Start(t, handler, input, opts...).Result()
}

// Start starts handler with input on a new local service with a virtual
// clock and returns at once; the clock moves only when the execution is
// driven with [Execution.WaitForCallback] or [Execution.Result]. The service
// is closed when the test ends.
func Start[In, Out any](t TB, handler func(context.Context, In) (Out, error), input In, opts ...Option) *Execution[Out] {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.start.IsZero() {
		cfg.start = time.Now().UTC().Truncate(time.Millisecond)
	}
	svc, err := local.New(append([]local.Option{local.WithClock(local.NewVirtualClock(cfg.start))}, cfg.service...)...)
	if err != nil {
		t.Fatalf("durabletest: start the local service: %v", err)
		return nil
	}
	t.Cleanup(func() { svc.Close() })
	mw := append([]middleware.Option{middleware.WithAPI(svc.API())}, cfg.mw...)
	svc.Register(FunctionName, middleware.Wrap(adapters.Handler(handler), mw...), cfg.function...)
	for name, h := range cfg.functions {
		svc.Register(name, middleware.Wrap(h, mw...))
	}
	payload, err := json.Marshal(input)
	if err != nil {
		t.Fatalf("durabletest: encode the input: %v", err)
		return nil
	}
	ctx := t.Context()
	arn, err := svc.Start(ctx, FunctionName, payload)
	if err != nil {
		t.Fatalf("durabletest: start the execution: %v", err)
		return nil
	}
	return &Execution[Out]{t: t, ctx: ctx, svc: svc, arn: arn, answers: cfg.answers, answered: map[string]bool{}}
}

// ARN returns the execution's ARN.
func (e *Execution[Out]) ARN() string { return e.arn }

// Service returns the local service the execution runs on, for what this
// package does not cover: its [local.Service.API] is a Lambda client, and
// [local.Service.Clock] the virtual clock.
func (e *Execution[Out]) Service() *local.Service { return e.svc }

// WaitForCallback runs the execution, moving the virtual clock as needed,
// until a callback named name is open (started and not completed), and
// returns its id. name is the name given to [durable.WaitForCallback] or
// [durable.CreateCallback]. It fails the test if the execution ends or can
// go no further first.
func (e *Execution[Out]) WaitForCallback(name string) string {
	e.t.Helper()
	var id string
	h := e.drive(func(h *history) bool {
		for _, cb := range h.openCallbacks() {
			if cb.matches(name) {
				id = cb.id
				return true
			}
		}
		return false
	}, "a callback named "+name)
	if id == "" {
		e.t.Fatalf("durabletest: the execution ended before a callback named %q started\n%s", name, h)
	}
	return id
}

// SucceedCallback completes the callback id with result, like
// SendDurableExecutionCallbackSuccess. A string or []byte result is sent as
// is; anything else as JSON.
func (e *Execution[Out]) SucceedCallback(id string, result any) {
	e.t.Helper()
	if err := e.succeed(id, result); err != nil {
		e.t.Fatalf("durabletest: %v", err)
	}
}

// FailCallback completes the callback id with an error, like
// SendDurableExecutionCallbackFailure: a [*durable.CallbackError] is sent
// as the error object it carries, any other error with its message and, as
// type, its Go type name ([durable.ErrorTypeName]).
func (e *Execution[Out]) FailCallback(id string, err error) {
	e.t.Helper()
	if err := e.fail(id, err); err != nil {
		e.t.Fatalf("durabletest: %v", err)
	}
}

// HeartbeatCallback sends a heartbeat to the callback id, like
// SendDurableExecutionCallbackHeartbeat.
func (e *Execution[Out]) HeartbeatCallback(id string) {
	e.t.Helper()
	_, err := e.svc.API().SendDurableExecutionCallbackHeartbeat(e.ctx, &lambdaapi.SendDurableExecutionCallbackHeartbeatInput{CallbackId: &id})
	if err != nil {
		e.t.Fatalf("durabletest: heartbeat callback %s: %v", id, err)
	}
}

// Result runs the execution to its end, moving the virtual clock as needed
// and answering callbacks as the options say, and returns its result.
func (e *Execution[Out]) Result() *Result[Out] {
	e.t.Helper()
	if e.result != nil {
		return e.result
	}
	h := e.drive(func(*history) bool { return false }, "its end")
	out, err := e.svc.API().GetDurableExecution(e.ctx, &lambdaapi.GetDurableExecutionInput{DurableExecutionArn: &e.arn})
	if err != nil {
		e.t.Fatalf("durabletest: %v", err)
		return nil
	}
	r := &Result[Out]{ARN: e.arn, Status: out.Status, Error: out.Error, History: h.events}
	if p := aws.ToString(out.Result); out.Status == Succeeded && p != "" {
		r.RawOutput = p
		if err := json.Unmarshal([]byte(p), &r.Output); err != nil {
			e.t.Fatalf("durabletest: decode the result %s: %v", short(p), err)
		}
	}
	e.result = r
	return r
}

// drive runs the execution until done reports true or the execution ends:
// it lets invocations finish, answers callbacks per the options and moves
// the virtual clock to the next timer when nothing else can happen.
func (e *Execution[Out]) drive(done func(*history) bool, what string) *history {
	e.t.Helper()
	for {
		if err := e.svc.WaitIdle(e.ctx); err != nil {
			e.t.Fatalf("durabletest: waiting for %s: %v", what, err)
			return &history{}
		}
		h, err := e.history()
		if err != nil {
			e.t.Fatalf("durabletest: %v", err)
			return &history{}
		}
		if done(h) || h.terminal() {
			return h
		}
		if answered, err := e.autoAnswer(h); err != nil {
			e.t.Fatalf("durabletest: %v", err)
			return h
		} else if answered {
			continue
		}
		if len(h.openCallbacks()) > 0 && !e.timerBeforeTimeout() {
			// Only the execution timeout, a year away by default, would
			// end it: a forgotten callback answer, not a test of timeouts.
			e.t.Fatalf("durabletest: waiting for %s: the execution can go no further: %s\n%s", what, h.waitingFor(), h)
			return h
		}
		_, err = e.svc.AdvanceToNextTimer(e.ctx)
		switch {
		case err == nil:
		case errors.Is(err, local.ErrNoTimer):
			if h, err := e.history(); err == nil && (h.terminal() || done(h)) {
				return h // it moved on meanwhile
			}
			e.t.Fatalf("durabletest: waiting for %s: the execution can go no further: %s\n%s", what, h.waitingFor(), h)
			return h
		case errors.Is(err, local.ErrRealClock):
			e.t.Fatalf("durabletest: the service runs on a real clock: give WithServiceOptions a *local.VirtualClock")
			return h
		default:
			e.t.Fatalf("durabletest: waiting for %s: %v", what, err)
			return h
		}
	}
}

// timerBeforeTimeout reports whether a timer other than the execution
// timeout is pending on the virtual clock.
func (e *Execution[Out]) timerBeforeTimeout() bool {
	vc, ok := e.svc.Clock().(*local.VirtualClock)
	if !ok {
		return true // AdvanceToNextTimer reports the real clock
	}
	next, ok := vc.Next()
	if !ok {
		return false
	}
	if e.deadline.IsZero() {
		out, err := e.svc.API().GetDurableExecution(e.ctx, &lambdaapi.GetDurableExecutionInput{DurableExecutionArn: &e.arn})
		if err != nil || out.DurableConfig == nil || out.DurableConfig.ExecutionTimeout == nil {
			return true
		}
		e.deadline = aws.ToTime(out.StartTimestamp).Add(time.Duration(*out.DurableConfig.ExecutionTimeout) * time.Second)
	}
	return next.Before(e.deadline)
}

// autoAnswer answers the open callbacks the options name.
func (e *Execution[Out]) autoAnswer(h *history) (bool, error) {
	sent := false
	for _, cb := range h.openCallbacks() {
		if e.answered[cb.id] {
			continue
		}
		for _, a := range e.answers {
			if !cb.matches(a.name) {
				continue
			}
			e.answered[cb.id] = true
			var err error
			if a.err != nil {
				err = e.fail(cb.id, a.err)
			} else {
				err = e.succeed(cb.id, a.result)
			}
			if err != nil {
				return false, err
			}
			sent = true
			break
		}
	}
	return sent, nil
}

func (e *Execution[Out]) succeed(id string, result any) error {
	var payload []byte
	switch r := result.(type) {
	case string:
		payload = []byte(r)
	case []byte:
		payload = r
	default:
		b, err := json.Marshal(result)
		if err != nil {
			return fmt.Errorf("encode the result of callback %s: %w", id, err)
		}
		payload = b
	}
	_, err := e.svc.API().SendDurableExecutionCallbackSuccess(e.ctx, &lambdaapi.SendDurableExecutionCallbackSuccessInput{CallbackId: &id, Result: payload})
	if err != nil {
		return fmt.Errorf("succeed callback %s: %w", id, err)
	}
	return nil
}

func (e *Execution[Out]) fail(id string, cause error) error {
	var obj types.ErrorObject
	var ce *durable.CallbackError
	if errors.As(cause, &ce) {
		obj = ce.ErrorObject()
	} else if cause != nil {
		obj = types.ErrorObject{ErrorType: aws.String(durable.ErrorTypeName(cause)), ErrorMessage: aws.String(cause.Error())}
	}
	_, err := e.svc.API().SendDurableExecutionCallbackFailure(e.ctx, &lambdaapi.SendDurableExecutionCallbackFailureInput{CallbackId: &id, Error: &obj})
	if err != nil {
		return fmt.Errorf("fail callback %s: %w", id, err)
	}
	return nil
}

// history reads the execution's history.
func (e *Execution[Out]) history() (*history, error) {
	var events []types.Event
	in := &lambdaapi.GetDurableExecutionHistoryInput{DurableExecutionArn: &e.arn, IncludeExecutionData: aws.Bool(true), MaxItems: 1000}
	for {
		out, err := e.svc.API().GetDurableExecutionHistory(e.ctx, in)
		if err != nil {
			return nil, err
		}
		events = append(events, out.Events...)
		if aws.ToString(out.NextMarker) == "" {
			return &history{events: events}, nil
		}
		in.Marker = out.NextMarker
	}
}

// short keeps a payload short enough for an error message.
func short(s string) string {
	if len(s) > 200 {
		return s[:197] + "..."
	}
	return strings.TrimSpace(s)
}
