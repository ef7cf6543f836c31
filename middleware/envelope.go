package middleware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Envelope is the event Lambda sends a durable function
// (DurableExecutionInvocationInput). Timestamps in it are epoch milliseconds.
type Envelope struct {
	DurableExecutionArn   string
	CheckpointToken       string
	InitialExecutionState struct {
		Operations []WireOperation
		NextMarker string
	}
	UpdatedOperationIds []string
}

// WireOperation is an operation as the envelope carries it.
type WireOperation struct {
	Id                   *string
	ParentId             *string
	Name                 *string
	Type                 types.OperationType
	SubType              *string
	Status               types.OperationStatus
	StartTimestamp       *Millis
	EndTimestamp         *Millis
	ExecutionDetails     *struct{ InputPayload *string }
	ContextDetails       *wireContextDetails
	StepDetails          *wireStepDetails
	WaitDetails          *struct{ ScheduledEndTimestamp *Millis }
	CallbackDetails      *wireResultDetails
	ChainedInvokeDetails *wireResultDetails
}

type wireError struct {
	ErrorType    *string
	ErrorMessage *string
	ErrorData    *string
	StackTrace   []string
}

type wireContextDetails struct {
	ReplayChildren bool
	Result         *string
	Error          *wireError
}

type wireStepDetails struct {
	Attempt              int32
	NextAttemptTimestamp *Millis
	Result               *string
	Error                *wireError
}

type wireResultDetails struct {
	CallbackId *string
	Result     *string
	Error      *wireError
}

// Millis is a timestamp in epoch milliseconds. It also accepts RFC 3339
// strings, which some emulators send.
type Millis time.Time

// UnmarshalJSON implements json.Unmarshaler.
func (m *Millis) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("timestamp %q is neither epoch milliseconds nor RFC 3339", s)
		}
		*m = Millis(t)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is not epoch milliseconds", b)
	}
	*m = Millis(time.UnixMilli(int64(f)).UTC())
	return nil
}

// MarshalJSON implements json.Marshaler.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Time(m).UnixMilli(), 10), nil
}

func (m *Millis) time() *time.Time {
	if m == nil {
		return nil
	}
	t := time.Time(*m)
	return &t
}

func (e *wireError) object() *types.ErrorObject {
	if e == nil {
		return nil
	}
	return &types.ErrorObject{ErrorType: e.ErrorType, ErrorMessage: e.ErrorMessage, ErrorData: e.ErrorData, StackTrace: e.StackTrace}
}

// Operation converts the wire form to the API type.
func (w *WireOperation) Operation() types.Operation {
	op := types.Operation{
		Id: w.Id, ParentId: w.ParentId, Name: w.Name, Type: w.Type, SubType: w.SubType, Status: w.Status,
		StartTimestamp: w.StartTimestamp.time(), EndTimestamp: w.EndTimestamp.time(),
	}
	if d := w.ExecutionDetails; d != nil {
		op.ExecutionDetails = &types.ExecutionDetails{InputPayload: d.InputPayload}
	}
	if d := w.ContextDetails; d != nil {
		op.ContextDetails = &types.ContextDetails{ReplayChildren: &d.ReplayChildren, Result: d.Result, Error: d.Error.object()}
	}
	if d := w.StepDetails; d != nil {
		op.StepDetails = &types.StepDetails{Attempt: d.Attempt, NextAttemptTimestamp: d.NextAttemptTimestamp.time(), Result: d.Result, Error: d.Error.object()}
	}
	if d := w.WaitDetails; d != nil {
		op.WaitDetails = &types.WaitDetails{ScheduledEndTimestamp: d.ScheduledEndTimestamp.time()}
	}
	if d := w.CallbackDetails; d != nil {
		op.CallbackDetails = &types.CallbackDetails{CallbackId: d.CallbackId, Result: d.Result, Error: d.Error.object()}
	}
	if d := w.ChainedInvokeDetails; d != nil {
		op.ChainedInvokeDetails = &types.ChainedInvokeDetails{Result: d.Result, Error: d.Error.object()}
	}
	return op
}

// ErrNotDurable is returned for a payload that is not a durable envelope.
var ErrNotDurable = fmt.Errorf("durable: the event is not a durable execution envelope (no DurableExecutionArn and CheckpointToken): " +
	"the function is probably not configured as durable; enable durable execution in its configuration " +
	"(DurableConfig in the CreateFunction API, SAM or CDK), or remove middleware.Durable")

// DecodeEnvelope parses a durable invocation event.
func DecodeEnvelope(payload []byte) (*Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		var ute *json.UnmarshalTypeError
		if len(payload) == 0 || payload[0] != '{' || asType(err, &ute) {
			return nil, fmt.Errorf("%w: %v", ErrNotDurable, err)
		}
		return nil, fmt.Errorf("durable: malformed durable execution envelope: %w", err)
	}
	if env.DurableExecutionArn == "" || env.CheckpointToken == "" {
		return nil, ErrNotDurable
	}
	return &env, nil
}

// Output is the answer of a durable invocation (DurableExecutionInvocationOutput).
type Output struct {
	Status string     `json:"Status"`
	Result *string    `json:"Result,omitempty"`
	Error  *wireError `json:"Error,omitempty"`
}
