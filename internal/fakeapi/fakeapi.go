// Package fakeapi is a small in-memory durable API for the SDK's own unit
// tests: it applies checkpoint updates to an operation table, answers with
// the operations each call changed, chains tokens, and drives a handler
// through invocations with a virtual clock. The full service, with history,
// HTTP and persistence, is package local.
package fakeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// API is an in-memory durable API for one execution.
type API struct {
	// Latency is added to every checkpoint call.
	Latency time.Duration

	mu      sync.Mutex
	arn     string
	token   int
	ops     []*types.Operation
	byID    map[string]*types.Operation
	now     time.Time
	calls   []Call
	counter int
}

// Call is one recorded checkpoint call.
type Call struct {
	Token   string
	Updates []types.OperationUpdate
}

// New returns an API holding an execution started with input.
func New(input string) *API {
	a := &API{arn: "arn:aws:lambda:us-east-1:123456789012:function:test:$LATEST/durable-execution/test/exec1",
		byID: map[string]*types.Operation{}, now: time.Unix(1767225600, 0).UTC()}
	id, st := "exec1", a.now
	a.ops = append(a.ops, &types.Operation{Id: &id, Type: types.OperationTypeExecution, Status: types.OperationStatusStarted,
		StartTimestamp: &st, ExecutionDetails: &types.ExecutionDetails{InputPayload: &input}})
	return a
}

// ARN returns the execution ARN.
func (a *API) ARN() string { return a.arn }

// Calls returns the checkpoint calls made so far.
func (a *API) Calls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Call(nil), a.calls...)
}

// Updates returns every update received, in order.
func (a *API) Updates() []types.OperationUpdate {
	var out []types.OperationUpdate
	for _, c := range a.Calls() {
		out = append(out, c.Updates...)
	}
	return out
}

// Operations returns a copy of the operation table, EXECUTION first.
func (a *API) Operations() []types.Operation {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]types.Operation, len(a.ops))
	for i, op := range a.ops {
		out[i] = *op
	}
	return out
}

// Operation returns the operation with the given name, or nil.
func (a *API) Operation(name string) *types.Operation {
	for _, op := range a.Operations() {
		if op.Name != nil && *op.Name == name {
			return &op
		}
	}
	return nil
}

// Token returns the current checkpoint token.
func (a *API) Token() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokenLocked()
}

func (a *API) tokenLocked() string { return "tok" + strconv.Itoa(a.token) }

// CheckpointDurableExecution implements checkpointer.API.
func (a *API) CheckpointDurableExecution(ctx context.Context, in *lambdaapi.CheckpointDurableExecutionInput, _ ...func(*lambdaapi.Options)) (*lambdaapi.CheckpointDurableExecutionOutput, error) {
	if a.Latency > 0 {
		select {
		case <-time.After(a.Latency):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if in.CheckpointToken == nil || *in.CheckpointToken != a.tokenLocked() {
		return nil, &smithy.GenericAPIError{Code: "InvalidParameterValueException", Message: "Invalid Checkpoint Token: stale or unknown token", Fault: smithy.FaultClient}
	}
	a.calls = append(a.calls, Call{Token: *in.CheckpointToken, Updates: append([]types.OperationUpdate(nil), in.Updates...)})
	var changed []types.Operation
	for _, u := range in.Updates {
		op, err := a.apply(u)
		if err != nil {
			return nil, err
		}
		if op != nil {
			changed = append(changed, *op)
		}
	}
	a.token++
	tok := a.tokenLocked()
	return &lambdaapi.CheckpointDurableExecutionOutput{CheckpointToken: &tok, NewExecutionState: &types.CheckpointUpdatedExecutionState{Operations: changed}}, nil
}

// GetDurableExecutionState implements checkpointer.API; it returns everything in one page.
func (a *API) GetDurableExecutionState(ctx context.Context, in *lambdaapi.GetDurableExecutionStateInput, _ ...func(*lambdaapi.Options)) (*lambdaapi.GetDurableExecutionStateOutput, error) {
	return &lambdaapi.GetDurableExecutionStateOutput{Operations: a.Operations()}, nil
}

func (a *API) apply(u types.OperationUpdate) (*types.Operation, error) {
	if u.Id == nil {
		return nil, &smithy.GenericAPIError{Code: "InvalidParameterValueException", Message: "missing Id"}
	}
	now := a.now
	op := a.byID[*u.Id]
	if u.Type == types.OperationTypeExecution {
		return nil, nil
	}
	if op == nil {
		if u.Action != types.OperationActionStart && u.Type != types.OperationTypeStep && u.Type != types.OperationTypeContext {
			return nil, &smithy.GenericAPIError{Code: "InvalidParameterValueException", Message: "operation " + *u.Id + " does not exist"}
		}
		op = &types.Operation{Id: u.Id, ParentId: u.ParentId, Name: u.Name, Type: u.Type, SubType: u.SubType, StartTimestamp: &now, Status: types.OperationStatusStarted}
		a.ops = append(a.ops, op)
		a.byID[*u.Id] = op
	}
	switch u.Type {
	case types.OperationTypeStep:
		if op.StepDetails == nil {
			op.StepDetails = &types.StepDetails{}
		}
		d := op.StepDetails
		switch u.Action {
		case types.OperationActionStart:
			op.Status = types.OperationStatusStarted
		case types.OperationActionSucceed:
			d.Attempt++
			op.Status, d.Result, op.EndTimestamp = types.OperationStatusSucceeded, u.Payload, &now
		case types.OperationActionFail:
			d.Attempt++
			op.Status, d.Error, op.EndTimestamp = types.OperationStatusFailed, u.Error, &now
		case types.OperationActionRetry:
			d.Attempt++
			next := now.Add(time.Duration(*u.StepOptions.NextAttemptDelaySeconds) * time.Second)
			op.Status, d.Error, d.Result, d.NextAttemptTimestamp = types.OperationStatusPending, u.Error, u.Payload, &next
		}
	case types.OperationTypeWait:
		end := now.Add(time.Duration(*u.WaitOptions.WaitSeconds) * time.Second)
		op.WaitDetails = &types.WaitDetails{ScheduledEndTimestamp: &end}
	case types.OperationTypeContext:
		switch u.Action {
		case types.OperationActionSucceed:
			op.Status, op.EndTimestamp = types.OperationStatusSucceeded, &now
			op.ContextDetails = &types.ContextDetails{Result: u.Payload, ReplayChildren: replayChildren(u)}
		case types.OperationActionFail:
			op.Status, op.EndTimestamp = types.OperationStatusFailed, &now
			op.ContextDetails = &types.ContextDetails{Error: u.Error, ReplayChildren: replayChildren(u)}
		}
	case types.OperationTypeCallback:
		a.counter++
		cid := "Y2Ik" + strconv.Itoa(a.counter)
		op.CallbackDetails = &types.CallbackDetails{CallbackId: &cid}
	case types.OperationTypeChainedInvoke:
		op.ChainedInvokeDetails = &types.ChainedInvokeDetails{}
	}
	return op, nil
}

func replayChildren(u types.OperationUpdate) *bool {
	if u.ContextOptions == nil {
		return nil
	}
	return u.ContextOptions.ReplayChildren
}

// Complete resolves the CALLBACK or CHAINED_INVOKE operation with the given
// name: with result when err is nil, else failed.
func (a *API) Complete(name string, result string, errObj *types.ErrorObject) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, op := range a.ops {
		if op.Name == nil || *op.Name != name || op.Status != types.OperationStatusStarted {
			continue
		}
		now := a.now
		op.EndTimestamp = &now
		op.Status = types.OperationStatusSucceeded
		if errObj != nil {
			op.Status = types.OperationStatusFailed
		}
		switch op.Type {
		case types.OperationTypeCallback:
			op.CallbackDetails.Result, op.CallbackDetails.Error = &result, errObj
		case types.OperationTypeChainedInvoke:
			op.ChainedInvokeDetails.Result, op.ChainedInvokeDetails.Error = &result, errObj
		default:
			continue
		}
		return nil
	}
	return fmt.Errorf("fakeapi: no open callback or invoke named %q", name)
}

// Finish ends the open WAIT, CALLBACK or CHAINED_INVOKE operation with the
// given name with any status, as the service does on its own: a callback
// timing out (TIMED_OUT with ErrorType "Callback.Timeout"), a chained invoke
// stopped, a wait cancelled. result and errObj may be nil.
func (a *API) Finish(name string, status types.OperationStatus, result *string, errObj *types.ErrorObject) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, op := range a.ops {
		if op.Name == nil || *op.Name != name || op.Status != types.OperationStatusStarted {
			continue
		}
		switch op.Type {
		case types.OperationTypeWait:
		case types.OperationTypeCallback:
			op.CallbackDetails.Result, op.CallbackDetails.Error = result, errObj
		case types.OperationTypeChainedInvoke:
			op.ChainedInvokeDetails.Result, op.ChainedInvokeDetails.Error = result, errObj
		default:
			continue
		}
		now := a.now
		op.Status, op.EndTimestamp = status, &now
		return nil
	}
	return fmt.Errorf("fakeapi: no open wait, callback or invoke named %q", name)
}

// Advance moves the clock to the next timer (a wait's end or a retry) and
// fires every timer due. It reports whether any timer fired.
func (a *API) Advance() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	var next time.Time
	for _, op := range a.ops {
		var t *time.Time
		switch {
		case op.Type == types.OperationTypeWait && op.Status == types.OperationStatusStarted:
			t = op.WaitDetails.ScheduledEndTimestamp
		case op.Type == types.OperationTypeStep && op.Status == types.OperationStatusPending:
			t = op.StepDetails.NextAttemptTimestamp
		}
		if t != nil && (next.IsZero() || t.Before(next)) {
			next = *t
		}
	}
	if next.IsZero() {
		return false
	}
	a.now = next
	for _, op := range a.ops {
		switch {
		case op.Type == types.OperationTypeWait && op.Status == types.OperationStatusStarted && !op.WaitDetails.ScheduledEndTimestamp.After(next):
			op.Status, op.EndTimestamp = types.OperationStatusSucceeded, &next
		case op.Type == types.OperationTypeStep && op.Status == types.OperationStatusPending && !op.StepDetails.NextAttemptTimestamp.After(next):
			op.Status, op.StepDetails.NextAttemptTimestamp = types.OperationStatusReady, nil
		}
	}
	return true
}

// Envelope returns the durable envelope of the next invocation; it rotates the token.
func (a *API) Envelope() []byte {
	a.mu.Lock()
	a.token++
	tok := a.tokenLocked()
	ops := make([]map[string]any, 0, len(a.ops))
	for _, op := range a.ops {
		ops = append(ops, wire(op))
	}
	a.mu.Unlock()
	b, err := json.Marshal(map[string]any{
		"DurableExecutionArn":   a.arn,
		"CheckpointToken":       tok,
		"InitialExecutionState": map[string]any{"Operations": ops, "NextMarker": ""},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// wire renders an operation as the envelope carries it: epoch-millisecond timestamps.
func wire(op *types.Operation) map[string]any {
	b, err := json.Marshal(op)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	fix := func(m map[string]any, key string, t *time.Time) {
		if t != nil {
			m[key] = t.UnixMilli()
		} else {
			delete(m, key)
		}
	}
	fix(m, "StartTimestamp", op.StartTimestamp)
	fix(m, "EndTimestamp", op.EndTimestamp)
	if op.StepDetails != nil {
		fix(m["StepDetails"].(map[string]any), "NextAttemptTimestamp", op.StepDetails.NextAttemptTimestamp)
	}
	if op.WaitDetails != nil {
		fix(m["WaitDetails"].(map[string]any), "ScheduledEndTimestamp", op.WaitDetails.ScheduledEndTimestamp)
	}
	return m
}

// Output is a decoded invocation answer.
type Output struct {
	Status string
	Result *string
	Error  *types.ErrorObject
}

// Invoke runs one invocation of h and decodes its answer.
func (a *API) Invoke(ctx context.Context, h lambda.Handler) (Output, error) {
	b, err := h.Invoke(ctx, a.Envelope())
	if err != nil {
		return Output{}, err
	}
	var out Output
	if err := json.Unmarshal(b, &out); err != nil {
		return Output{}, fmt.Errorf("fakeapi: bad answer %s: %w", b, err)
	}
	return out, nil
}

// Run invokes h until it answers SUCCEEDED or FAILED, advancing the clock
// between PENDING answers. It returns every answer.
func (a *API) Run(ctx context.Context, h lambda.Handler, maxInvocations int) ([]Output, error) {
	var outs []Output
	for i := 0; i < maxInvocations; i++ {
		out, err := a.Invoke(ctx, h)
		if err != nil {
			return outs, err
		}
		outs = append(outs, out)
		if out.Status != "PENDING" {
			return outs, nil
		}
		a.Advance()
	}
	return outs, fmt.Errorf("fakeapi: not finished after %d invocations", maxInvocations)
}

// Record applies an update as if an earlier invocation had checkpointed it.
func (a *API) Record(u types.OperationUpdate) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.apply(u); err != nil {
		panic(err)
	}
}
