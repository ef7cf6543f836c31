package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
)

// CallbackOption configures [CreateCallback] and [WaitForCallback].
type CallbackOption interface{ applyCallback(*callbackConfig) }

type callbackConfig struct {
	timeout     time.Duration
	heartbeat   time.Duration
	serdes      Serdes
	submitRetry RetryPolicy
	// The timeouts in the whole seconds the service takes, set by newCallbackConfig.
	timeoutSecs, heartbeatSecs int32
}

type callbackOptionFunc func(*callbackConfig)

func (f callbackOptionFunc) applyCallback(c *callbackConfig) { f(c) }

func (o SerdesOption) applyCallback(c *callbackConfig) { c.serdes = o.s }

// WithTimeout bounds how long a callback waits for its result. When it
// passes, the service ends the callback and awaiting it returns a
// [*CallbackTimeoutError] with ErrorType "Callback.Timeout". The timeout is
// rounded up to whole seconds; 0, the default, means no timeout.
func WithTimeout(d time.Duration) CallbackOption {
	return callbackOptionFunc(func(c *callbackConfig) { c.timeout = d })
}

// WithHeartbeatTimeout bounds the time between heartbeats the callback's
// sender reports (SendDurableExecutionCallbackHeartbeat) while it works.
// When it passes without one, the service ends the callback and awaiting it
// returns a [*CallbackTimeoutError] with ErrorType "Callback.Heartbeat".
// Rounded up to whole seconds; 0, the default, means no heartbeat timeout.
func WithHeartbeatTimeout(d time.Duration) CallbackOption {
	return callbackOptionFunc(func(c *callbackConfig) { c.heartbeat = d })
}

// WithSubmitterRetry sets the retry policy of the step that runs the submit
// function of [WaitForCallback]; the default is [DefaultRetry].
// [CreateCallback] ignores it.
func WithSubmitterRetry(p RetryPolicy) CallbackOption {
	return callbackOptionFunc(func(c *callbackConfig) { c.submitRetry = p })
}

// newCallbackConfig applies opts over the defaults and checks them. A string
// or []byte result is the payload as the sender sent it (the [Raw] serdes),
// as in AWS's SDKs; any other type is decoded from JSON.
func newCallbackConfig[T any](what, name string, opts []CallbackOption) (callbackConfig, error) {
	cfg := callbackConfig{serdes: JSON, submitRetry: DefaultRetry}
	switch reflect.TypeFor[T]() {
	case reflect.TypeFor[string](), reflect.TypeFor[[]byte]():
		cfg.serdes = Raw
	}
	for _, o := range opts {
		o.applyCallback(&cfg)
	}
	if err := validateName(what, name); err != nil {
		return cfg, err
	}
	var err error
	if cfg.timeoutSecs, err = timeoutSeconds(what, name, "timeout", cfg.timeout); err != nil {
		return cfg, err
	}
	if cfg.heartbeatSecs, err = timeoutSeconds(what, name, "heartbeat timeout", cfg.heartbeat); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// timeoutSeconds converts a callback timeout to whole seconds, rounding up.
func timeoutSeconds(what, name, which string, d time.Duration) (int32, error) {
	if d < 0 {
		return 0, fmt.Errorf("durable: %s %q has a negative %s (%s): use 0 for none", what, name, which, d)
	}
	secs := ceilSeconds(d)
	if secs > maxWaitSeconds {
		return 0, fmt.Errorf("durable: %s %q has a %s of %s, longer than an execution can last (366 days): use 0 for none", what, name, which, d)
	}
	return int32(secs), nil
}

// Callback is an open callback: an id to hand to another system, and the
// result that system sends back through the durable API
// (SendDurableExecutionCallbackSuccess or SendDurableExecutionCallbackFailure).
// T is the type of the result.
type Callback[T any] struct {
	op     *ctxstate.Op
	id     string
	serdes Serdes
	ended  atomic.Bool
}

// CreateCallback starts a callback and returns it once the service has
// assigned its id; it does not wait for the result. Send [Callback.ID] to
// the system that will answer, then call [Callback.Await]. Several callbacks
// may be open at once.
//
// The result is decoded with the [Raw] serdes when T is string or []byte,
// as AWS's SDKs do, and from JSON otherwise; [WithSerdes] chooses another.
// [WithTimeout] and [WithHeartbeatTimeout] bound the wait for it.
func CreateCallback[T any](ctx context.Context, name string, opts ...CallbackOption) (*Callback[T], error) {
	f, err := frameOf(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := newCallbackConfig[T]("callback", name, opts)
	if err != nil {
		return nil, err
	}
	op, err := f.Begin(types.OperationTypeCallback, "Callback", name)
	if err != nil {
		return nil, err
	}
	defer op.End()
	return startCallback[T](op, &cfg)
}

func startCallback[T any](op *ctxstate.Op, cfg *callbackConfig) (*Callback[T], error) {
	exec := op.Frame.Execution()
	rec := op.Recorded
	if rec != nil {
		startHook(exec, op, true)
	} else {
		startHook(exec, op, false)
		u := update(op, types.OperationActionStart)
		u.CallbackOptions = &types.CallbackOptions{TimeoutSeconds: cfg.timeoutSecs, HeartbeatTimeoutSeconds: cfg.heartbeatSecs}
		// The id comes back in the response: the START must be durable first.
		if err := exec.CheckpointSync(u); err != nil {
			return nil, err
		}
		rec = op.Refresh()
	}
	var id string
	if rec != nil && rec.CallbackDetails != nil {
		id = deref(rec.CallbackDetails.CallbackId)
	}
	if id == "" {
		return nil, fmt.Errorf("durable: the service returned no callback id for callback %q (operation %s)", op.Name, op.ID)
	}
	return &Callback[T]{op: op, id: id, serdes: cfg.serdes}, nil
}

// ID returns the callback id: the token the answering system passes to
// SendDurableExecutionCallbackSuccess, ...Failure or ...Heartbeat.
func (c *Callback[T]) ID() string { return c.id }

// Await returns the callback's result. While no result has arrived, it
// returns an error wrapping [ErrSuspended]: return it from the handler, and
// the service invokes the function again when the result arrives (or the
// callback times out). A failure sent by the answering system is a
// [*CallbackError]; a timeout a [*CallbackTimeoutError].
//
// Await is not an operation of its own: it reads the state of the callback
// started by [CreateCallback], and may be called more than once. ctx must
// belong to the same invocation as the callback.
func (c *Callback[T]) Await(ctx context.Context) (T, error) {
	var zero T
	f, err := frameOf(ctx)
	if err != nil {
		return zero, err
	}
	if _, inStep := f.Step(); inStep {
		return zero, ErrOperationInStep
	}
	exec := c.op.Frame.Execution()
	if f.Execution() != exec {
		return zero, fmt.Errorf("durable: callback %q was created in another invocation: create callbacks in the handler on every invocation, do not keep them in variables that outlive it", c.op.Name)
	}
	rec := c.op.Refresh()
	if rec == nil {
		return zero, fmt.Errorf("durable: callback %q (operation %s) is missing from the execution state", c.op.Name, c.op.ID)
	}
	switch rec.Status {
	case types.OperationStatusStarted:
		c.end(rec.Status, nil)
		return zero, exec.Suspend(fmt.Sprintf("callback %q waits for its result", c.op.Name))
	case types.OperationStatusSucceeded:
		var data string
		if rec.CallbackDetails != nil {
			data = deref(rec.CallbackDetails.Result)
		}
		v, err := decode[T](c.serdes, "callback", c.op.Name, data)
		c.end(rec.Status, err)
		return v, err
	case types.OperationStatusTimedOut:
		err := callbackTimeoutFrom(c.op.Name, c.op.ID, c.id, callbackErrorObject(rec))
		c.end(rec.Status, err)
		return zero, err
	case types.OperationStatusCancelled:
		err := &CancelledError{Kind: "callback", Name: c.op.Name, OperationID: c.op.ID}
		c.end(rec.Status, err)
		return zero, err
	default:
		err := callbackErrorFrom(c.op.Name, c.op.ID, c.id, callbackErrorObject(rec))
		c.end(rec.Status, err)
		return zero, err
	}
}

// end reports the callback's outcome to the hooks, once per result.
func (c *Callback[T]) end(status types.OperationStatus, err error) {
	exec := c.op.Frame.Execution()
	if status != types.OperationStatusStarted && c.ended.Swap(true) {
		return
	}
	endHook(exec, c.op, status, 0, c.op.Replaying(), err)
}

func callbackErrorObject(rec *types.Operation) *types.ErrorObject {
	if rec.CallbackDetails == nil {
		return nil
	}
	return rec.CallbackDetails.Error
}

// CallbackError is the error of a callback that the answering system
// completed with a failure (SendDurableExecutionCallbackFailure). It carries
// the error object that system sent.
type CallbackError struct {
	// Name and OperationID identify the callback (for [WaitForCallback], its
	// name and the id of its callback operation); CallbackID is its id.
	Name        string
	OperationID string
	CallbackID  string
	// RecordedError is what the answering system sent.
	RecordedError
}

func (e *CallbackError) Error() string {
	if e.ErrorType == "" {
		return fmt.Sprintf("durable: callback %q failed: %s", e.Name, e.ErrorMessage)
	}
	return fmt.Sprintf("durable: callback %q failed: %s: %s", e.Name, e.ErrorType, e.ErrorMessage)
}

func callbackErrorFrom(name, opID, callbackID string, obj *types.ErrorObject) *CallbackError {
	return &CallbackError{Name: name, OperationID: opID, CallbackID: callbackID, RecordedError: recordedFrom(obj)}
}

// The ErrorTypes the service records on timed-out callbacks.
const (
	ErrorTypeCallbackTimeout   = "Callback.Timeout"
	ErrorTypeCallbackHeartbeat = "Callback.Heartbeat"
)

// CallbackTimeoutError is the error of a callback the service ended because
// its result did not come in time: ErrorType is [ErrorTypeCallbackTimeout]
// when the [WithTimeout] bound passed, [ErrorTypeCallbackHeartbeat] when the
// [WithHeartbeatTimeout] bound passed without a heartbeat.
type CallbackTimeoutError struct {
	Name         string
	OperationID  string
	CallbackID   string
	ErrorType    string
	ErrorMessage string
}

func (e *CallbackTimeoutError) Error() string {
	what := "no result within its timeout"
	if e.Heartbeat() {
		what = "no heartbeat within its heartbeat timeout"
	}
	return fmt.Sprintf("durable: callback %q timed out (%s): %s", e.Name, e.ErrorType, what)
}

// Heartbeat reports whether the callback timed out waiting for a heartbeat.
func (e *CallbackTimeoutError) Heartbeat() bool { return e.ErrorType == ErrorTypeCallbackHeartbeat }

// ErrorObject returns the error as the service recorded it.
func (e *CallbackTimeoutError) ErrorObject() types.ErrorObject {
	return errorObjectOf(e.ErrorType, e.ErrorMessage, "", nil)
}

func callbackTimeoutFrom(name, opID, callbackID string, obj *types.ErrorObject) *CallbackTimeoutError {
	e := &CallbackTimeoutError{Name: name, OperationID: opID, CallbackID: callbackID, ErrorType: ErrorTypeCallbackTimeout}
	if obj != nil {
		if t := deref(obj.ErrorType); t != "" {
			e.ErrorType = t
		}
		e.ErrorMessage = deref(obj.ErrorMessage)
	}
	if e.ErrorMessage == "" {
		e.ErrorMessage = "Callback timed out"
	}
	return e
}

// WaitForCallback starts a callback, runs submit with its id, and returns
// the callback's result: the usual way to hand work to another system (a
// human approval, a partner API, a queue consumer) and wait for its answer.
//
// It is built as AWS's SDKs build it: a CONTEXT operation (SubType
// "WaitForCallback") holding a CALLBACK operation named "<name> create
// callback id" and a STEP named "<name> submitter" that runs submit. submit
// runs as a step, so it runs once, is retried per [WithSubmitterRetry], and
// must make the id reach the answering system (an idempotent send is best:
// a step may run again after a crash). Until the result arrives
// WaitForCallback returns an error wrapping [ErrSuspended].
//
// Errors are the same on every invocation: a [*CallbackError] when the
// answering system reports a failure, a [*CallbackTimeoutError] when the
// callback times out, a [*StepError] when submit fails for good. Options and
// decoding are those of [CreateCallback].
func WaitForCallback[T any](ctx context.Context, name string, submit func(ctx context.Context, callbackID string) error, opts ...CallbackOption) (T, error) {
	var zero T
	f, err := frameOf(ctx)
	if err != nil {
		return zero, err
	}
	cfg, err := newCallbackConfig[T]("wait-for-callback", name, opts)
	if err != nil {
		return zero, err
	}
	if submit == nil {
		return zero, fmt.Errorf("durable: wait-for-callback %q has no submit function: pass one that sends the callback id to the system that will answer", name)
	}
	callbackName, submitterName := "", ""
	if name != "" {
		callbackName, submitterName = name+callbackSuffix, name+" submitter"
	}
	if len(callbackName) > 256 {
		return zero, fmt.Errorf("durable: wait-for-callback name %q is too long: its callback operation is named %q and names are at most 256 characters; use at most %d",
			name, callbackName, 256-len(callbackSuffix))
	}
	op, err := f.Begin(types.OperationTypeContext, "WaitForCallback", name)
	if err != nil {
		return zero, err
	}
	defer op.End()
	child := childConfig{serdes: cfg.serdes, subType: "WaitForCallback"}
	v, err := runChild(ctx, op, &child, func(ctx context.Context) (T, error) {
		cf, _ := frameOf(ctx)
		cop, err := cf.Begin(types.OperationTypeCallback, "Callback", callbackName)
		if err != nil {
			return zero, err
		}
		cb, err := startCallback[T](cop, &cfg)
		cop.End()
		if err != nil {
			return zero, err
		}
		_, err = Step(ctx, submitterName, func(ctx context.Context) (any, error) {
			return nil, submit(ctx, cb.ID())
		}, WithRetry(cfg.submitRetry))
		var stErr *StepError
		if errors.As(err, &stErr) {
			return zero, &callbackFailure{err: stErr, kind: "submitter"}
		} else if err != nil {
			return zero, err
		}
		v, err := cb.Await(ctx)
		var (
			cbErr *CallbackError
			toErr *CallbackTimeoutError
		)
		switch {
		case errors.As(err, &cbErr):
			cbErr.Name = name
			return zero, &callbackFailure{err: cbErr, kind: "callback"}
		case errors.As(err, &toErr):
			toErr.Name = name
			return zero, &callbackFailure{err: toErr, kind: "timeout"}
		}
		return v, err
	})
	var ce *ChildError
	if err != nil && errors.As(err, &ce) {
		return zero, callbackFailureFrom(ce)
	}
	return v, err
}

const callbackSuffix = " create callback id"

// callbackFailure is how a failed WaitForCallback records its error on the
// CONTEXT operation: the inner error's own object, with ErrorData holding
// what rebuilds the same typed error on replay, when the callback and
// submitter operations are no longer in the state.
type callbackFailure struct {
	err  error
	kind string // "callback", "timeout" or "submitter"
}

// callbackFailureData is the ErrorData of a failed WaitForCallback context.
type callbackFailureData struct {
	Kind        string `json:"durableWaitForCallback"`
	Name        string `json:"name,omitempty"`
	OperationID string `json:"operationId,omitempty"`
	CallbackID  string `json:"callbackId,omitempty"`
	Attempt     int    `json:"attempt,omitempty"`
	ErrorData   string `json:"errorData,omitempty"`
}

func (f *callbackFailure) Error() string { return f.err.Error() }
func (f *callbackFailure) Unwrap() error { return f.err }

// ErrorObject implements the recorded form runChild checkpoints.
func (f *callbackFailure) ErrorObject() types.ErrorObject {
	d := callbackFailureData{Kind: f.kind}
	var obj types.ErrorObject
	switch e := f.err.(type) {
	case *CallbackError:
		obj = e.ErrorObject()
		d.Name, d.OperationID, d.CallbackID, d.ErrorData = e.Name, e.OperationID, e.CallbackID, e.ErrorData
	case *CallbackTimeoutError:
		obj = e.ErrorObject()
		d.Name, d.OperationID, d.CallbackID = e.Name, e.OperationID, e.CallbackID
	case *StepError:
		obj = e.ErrorObject()
		d.Name, d.OperationID, d.Attempt, d.ErrorData = e.Name, e.OperationID, e.Attempt, e.ErrorData
	}
	if b, err := json.Marshal(d); err == nil {
		s := string(b)
		obj.ErrorData = &s
	}
	return obj
}

// callbackFailureFrom turns the error of a failed WaitForCallback context
// back into the typed error it recorded; a context failed for another
// reason keeps its *ChildError.
func callbackFailureFrom(ce *ChildError) error {
	var live *callbackFailure
	if errors.As(ce, &live) {
		return live.err
	}
	var d callbackFailureData
	if json.Unmarshal([]byte(ce.ErrorData), &d) != nil || d.Kind == "" {
		return ce
	}
	obj := errorObjectOf(ce.ErrorType, ce.ErrorMessage, d.ErrorData, ce.StackTrace)
	if d.ErrorData == "" {
		obj.ErrorData = nil
	}
	switch d.Kind {
	case "callback":
		return callbackErrorFrom(d.Name, d.OperationID, d.CallbackID, &obj)
	case "timeout":
		return callbackTimeoutFrom(d.Name, d.OperationID, d.CallbackID, &obj)
	case "submitter":
		return stepErrorFrom(&obj, d.Name, d.OperationID, d.Attempt, nil)
	}
	return ce
}
