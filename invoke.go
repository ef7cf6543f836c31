package durable

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
)

// InvokeOption configures [Invoke].
type InvokeOption interface{ applyInvoke(*invokeConfig) }

type invokeConfig struct {
	serdes        Serdes // the result's
	payloadSerdes Serdes // the input's
	tenantID      string
}

type invokeOptionFunc func(*invokeConfig)

func (f invokeOptionFunc) applyInvoke(c *invokeConfig) { f(c) }

func (o SerdesOption) applyInvoke(c *invokeConfig) { c.serdes = o.s }

// WithTenantID runs the invoked function for a tenant, for functions with
// tenant isolation (1 to 256 characters).
func WithTenantID(id string) InvokeOption {
	return invokeOptionFunc(func(c *invokeConfig) { c.tenantID = id })
}

// WithPayloadSerdes sets how [Invoke] serializes the input it sends; the
// default is [JSON]. [WithSerdes] sets how the result is decoded.
func WithPayloadSerdes(s Serdes) InvokeOption {
	return invokeOptionFunc(func(c *invokeConfig) { c.payloadSerdes = s })
}

// maxFunctionName is the longest FunctionName the service takes: a name, a
// partial or full ARN, with an optional qualifier.
const maxFunctionName = 170

// Invoke invokes another Lambda function (a chained invoke) with input and
// returns its result, decoded from JSON into T.
//
// functionName is the function's name or ARN, with an optional version or
// alias qualifier ("orders:live"). The service runs the invocation: this
// function is suspended meanwhile (Invoke returns an error wrapping
// [ErrSuspended]) and invoked again when the target completes; from then on
// Invoke returns the recorded result. A target that fails, times out or is
// stopped gives an [*InvokeError] carrying its error.
func Invoke[T any](ctx context.Context, name, functionName string, input any, opts ...InvokeOption) (T, error) {
	var zero T
	f, err := frameOf(ctx)
	if err != nil {
		return zero, err
	}
	cfg := invokeConfig{serdes: JSON, payloadSerdes: JSON}
	for _, o := range opts {
		o.applyInvoke(&cfg)
	}
	if err := validateName("chained invoke", name); err != nil {
		return zero, err
	}
	if functionName == "" || len(functionName) > maxFunctionName {
		return zero, fmt.Errorf("durable: chained invoke %q: the function name %q must be 1 to %d characters: a function name or ARN, with an optional qualifier",
			name, functionName, maxFunctionName)
	}
	if len(cfg.tenantID) > 256 {
		return zero, fmt.Errorf("durable: chained invoke %q: the tenant id is %d characters long; tenant ids are 1 to 256 characters", name, len(cfg.tenantID))
	}
	// The input is serialized before the operation claims its position, on
	// replay too, so that a bad input never leaves a gap in the positions.
	payload, err := cfg.payloadSerdes.Serialize(input)
	if err != nil {
		return zero, fmt.Errorf("durable: cannot serialize the input of chained invoke %q: %w", name, err)
	}
	if len(payload) > MaxPayloadBytes {
		return zero, fmt.Errorf("durable: the input of chained invoke %q is %d bytes, over the %d-byte limit of one operation: "+
			"send a smaller input, or store the data elsewhere (S3, DynamoDB) and send a reference", name, len(payload), MaxPayloadBytes)
	}
	op, err := f.Begin(types.OperationTypeChainedInvoke, "ChainedInvoke", name)
	if err != nil {
		return zero, err
	}
	defer op.End()
	return runInvoke[T](op, &cfg, functionName, payload)
}

func runInvoke[T any](op *ctxstate.Op, cfg *invokeConfig, functionName, payload string) (T, error) {
	var zero T
	exec := op.Frame.Execution()
	if rec := op.Recorded; rec != nil {
		startHook(exec, op, true)
		return invokeOutcome[T](op, cfg, functionName, rec, true)
	}
	startHook(exec, op, false)
	u := update(op, types.OperationActionStart)
	u.Payload = &payload
	u.ChainedInvokeOptions = &types.ChainedInvokeOptions{FunctionName: &functionName}
	if cfg.tenantID != "" {
		u.ChainedInvokeOptions.TenantId = &cfg.tenantID
	}
	if err := exec.CheckpointSync(u); err != nil {
		return zero, err
	}
	rec := op.Refresh()
	if rec == nil {
		return zero, exec.Suspend(fmt.Sprintf("chained invoke %q of %s is running", op.Name, functionName))
	}
	return invokeOutcome[T](op, cfg, functionName, rec, false)
}

// invokeOutcome maps the state of a chained invoke to what Invoke returns.
func invokeOutcome[T any](op *ctxstate.Op, cfg *invokeConfig, functionName string, rec *types.Operation, replaying bool) (T, error) {
	var zero T
	exec := op.Frame.Execution()
	d := rec.ChainedInvokeDetails
	switch rec.Status {
	case types.OperationStatusStarted:
		endHook(exec, op, rec.Status, 0, replaying, nil)
		return zero, exec.Suspend(fmt.Sprintf("chained invoke %q of %s is running", op.Name, functionName))
	case types.OperationStatusSucceeded:
		var data string
		if d != nil {
			data = deref(d.Result)
		}
		v, err := decode[T](cfg.serdes, "chained invoke", op.Name, data)
		endHook(exec, op, rec.Status, 0, replaying, err)
		return v, err
	default:
		e := &InvokeError{Name: op.Name, OperationID: op.ID, FunctionName: functionName, Status: rec.Status}
		if d != nil {
			e.RecordedError = recordedFrom(d.Error)
		}
		endHook(exec, op, rec.Status, 0, replaying, e)
		return zero, e
	}
}

// InvokeError is the error of a chained invoke whose target did not succeed:
// it failed, timed out or was stopped (Status FAILED, TIMED_OUT or STOPPED).
// It carries the error the target's execution recorded.
type InvokeError struct {
	// Name and OperationID identify the invoke; FunctionName its target.
	Name         string
	OperationID  string
	FunctionName string
	// Status is how the target's execution ended.
	Status types.OperationStatus
	// RecordedError is the target's error, when it recorded one.
	RecordedError
}

func (e *InvokeError) Error() string {
	var what string
	switch e.Status {
	case types.OperationStatusTimedOut:
		what = "timed out"
	case types.OperationStatusStopped:
		what = "was stopped"
	case types.OperationStatusCancelled:
		what = "was cancelled"
	default:
		what = "failed"
	}
	msg := fmt.Sprintf("durable: chained invoke %q of %s %s", e.Name, e.FunctionName, what)
	switch {
	case e.ErrorType != "" && e.ErrorMessage != "":
		msg += ": " + e.ErrorType + ": " + e.ErrorMessage
	case e.ErrorMessage != "":
		msg += ": " + e.ErrorMessage
	case e.ErrorType != "":
		msg += ": " + e.ErrorType
	}
	return msg
}

// ErrorObject returns the target's error, so that an execution failing with
// it records what failed downstream; when the target recorded none, it
// describes the outcome.
func (e *InvokeError) ErrorObject() types.ErrorObject {
	if e.ErrorType == "" && e.ErrorMessage == "" {
		return errorObjectOf("durable.InvokeError", e.Error(), "", nil)
	}
	return e.RecordedError.ErrorObject()
}
