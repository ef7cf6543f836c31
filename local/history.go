package local

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// History events are recorded when they happen, in one append-only list per
// execution, which gives EventIds dense from 1 in the order AWS records them
// (protocol.md §3.10, conformance README §2.8):
//
//   - ExecutionStarted when the execution is created;
//   - one event per accepted checkpoint update, in request order;
//   - the service's own transitions (WaitSucceeded, Callback*, ChainedInvoke*,
//     ExecutionTimedOut, ExecutionStopped) the moment they happen;
//   - InvocationCompleted when an invocation ends, after its checkpoints'
//     events, followed by ExecutionSucceeded or ExecutionFailed when the
//     handler's answer ended the execution.
//
// A step made READY by its retry timer records nothing.

// event appends an event about operation o and returns it for its details.
func (e *execution) event(o *operation, typ types.EventType, now time.Time) *types.Event {
	n := o.identity()
	ev := &types.Event{EventType: typ, EventTimestamp: ptr(now), Id: n.id, Name: n.name, SubType: n.subType, ParentId: n.parentID}
	e.appendEvent(ev)
	return ev
}

// executionEvent appends an event about the execution itself.
func (e *execution) executionEvent(typ types.EventType, now time.Time) *types.Event {
	ev := &types.Event{EventType: typ, EventTimestamp: ptr(now), Id: ptr(e.ID), Name: ptr(e.Name)}
	e.appendEvent(ev)
	return ev
}

func eventResult(p *string) *types.EventResult {
	return &types.EventResult{Payload: cloneString(p), Truncated: ptr(false)}
}

func eventInput(p *string) *types.EventInput {
	return &types.EventInput{Payload: cloneString(p), Truncated: ptr(false)}
}

func eventError(e *types.ErrorObject) *types.EventError {
	p := cloneError(e)
	if p == nil {
		p = &types.ErrorObject{}
	}
	return &types.EventError{Payload: p, Truncated: ptr(false)}
}

// history implements GetDurableExecutionHistory.
func (s *Service) history(_ context.Context, in *lambda.GetDurableExecutionHistoryInput) (*lambda.GetDurableExecutionHistoryOutput, error) {
	if in == nil || in.DurableExecutionArn == nil {
		return nil, invalidParam("DurableExecutionArn is required.")
	}
	max, err := pageSize(in.MaxItems)
	if err != nil {
		return nil, err
	}
	e, err := s.lookup(*in.DurableExecutionArn)
	if err != nil {
		return nil, err
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	reverse := in.ReverseOrder != nil && *in.ReverseOrder

	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.events)
	// Marker: the EventId of the next event to return.
	next := 1
	if reverse {
		next = n
	}
	if in.Marker != nil && *in.Marker != "" {
		m, err := strconv.Atoi(*in.Marker)
		if err != nil || m < 1 || m > n {
			return nil, invalidParam("Invalid marker.")
		}
		next = m
	}
	out := &lambda.GetDurableExecutionHistoryOutput{Events: []types.Event{}}
	for len(out.Events) < max && next >= 1 && next <= n {
		out.Events = append(out.Events, copyEvent(e.events[next-1], withData))
		if reverse {
			next--
		} else {
			next++
		}
	}
	if next >= 1 && next <= n {
		out.NextMarker = ptr(strconv.Itoa(next))
	}
	return out, nil
}

// pageSize validates MaxItems: 0 means the default of 100; at most 1000.
func pageSize(n int32) (int, error) {
	switch {
	case n == 0:
		return 100, nil
	case n < 0 || n > 1000:
		return 0, invalidParam("MaxItems must be between 1 and 1000.")
	}
	return int(n), nil
}

// copyEvent returns a copy of ev that the caller may keep, without payloads
// unless withData.
func copyEvent(ev *types.Event, withData bool) types.Event {
	c := *ev
	if withData {
		return c
	}
	input := func(p *types.EventInput) *types.EventInput {
		if p == nil {
			return nil
		}
		return &types.EventInput{Truncated: ptr(true)}
	}
	result := func(p *types.EventResult) *types.EventResult {
		if p == nil {
			return nil
		}
		return &types.EventResult{Truncated: ptr(true)}
	}
	errorOf := func(p *types.EventError) *types.EventError {
		if p == nil {
			return nil
		}
		return &types.EventError{Truncated: ptr(true)}
	}
	if d := c.ExecutionStartedDetails; d != nil {
		c.ExecutionStartedDetails = &types.ExecutionStartedDetails{Input: input(d.Input), ExecutionTimeout: d.ExecutionTimeout}
	}
	if d := c.ExecutionSucceededDetails; d != nil {
		c.ExecutionSucceededDetails = &types.ExecutionSucceededDetails{Result: result(d.Result)}
	}
	if d := c.ExecutionFailedDetails; d != nil {
		c.ExecutionFailedDetails = &types.ExecutionFailedDetails{Error: errorOf(d.Error)}
	}
	if d := c.ExecutionTimedOutDetails; d != nil {
		c.ExecutionTimedOutDetails = &types.ExecutionTimedOutDetails{Error: errorOf(d.Error)}
	}
	if d := c.ExecutionStoppedDetails; d != nil {
		c.ExecutionStoppedDetails = &types.ExecutionStoppedDetails{Error: errorOf(d.Error)}
	}
	if d := c.ContextSucceededDetails; d != nil {
		c.ContextSucceededDetails = &types.ContextSucceededDetails{Result: result(d.Result)}
	}
	if d := c.ContextFailedDetails; d != nil {
		c.ContextFailedDetails = &types.ContextFailedDetails{Error: errorOf(d.Error)}
	}
	if d := c.WaitCancelledDetails; d != nil {
		c.WaitCancelledDetails = &types.WaitCancelledDetails{Error: errorOf(d.Error)}
	}
	if d := c.StepSucceededDetails; d != nil {
		c.StepSucceededDetails = &types.StepSucceededDetails{Result: result(d.Result), RetryDetails: d.RetryDetails}
	}
	if d := c.StepFailedDetails; d != nil {
		c.StepFailedDetails = &types.StepFailedDetails{Error: errorOf(d.Error), RetryDetails: d.RetryDetails}
	}
	if d := c.ChainedInvokeStartedDetails; d != nil {
		cp := *d
		cp.Input = input(d.Input)
		c.ChainedInvokeStartedDetails = &cp
	}
	if d := c.ChainedInvokeSucceededDetails; d != nil {
		c.ChainedInvokeSucceededDetails = &types.ChainedInvokeSucceededDetails{Result: result(d.Result)}
	}
	if d := c.ChainedInvokeFailedDetails; d != nil {
		c.ChainedInvokeFailedDetails = &types.ChainedInvokeFailedDetails{Error: errorOf(d.Error)}
	}
	if d := c.ChainedInvokeTimedOutDetails; d != nil {
		c.ChainedInvokeTimedOutDetails = &types.ChainedInvokeTimedOutDetails{Error: errorOf(d.Error)}
	}
	if d := c.ChainedInvokeStoppedDetails; d != nil {
		c.ChainedInvokeStoppedDetails = &types.ChainedInvokeStoppedDetails{Error: errorOf(d.Error)}
	}
	if d := c.CallbackSucceededDetails; d != nil {
		c.CallbackSucceededDetails = &types.CallbackSucceededDetails{Result: result(d.Result)}
	}
	if d := c.CallbackFailedDetails; d != nil {
		c.CallbackFailedDetails = &types.CallbackFailedDetails{Error: errorOf(d.Error)}
	}
	if d := c.CallbackTimedOutDetails; d != nil {
		c.CallbackTimedOutDetails = &types.CallbackTimedOutDetails{Error: errorOf(d.Error)}
	}
	if d := c.InvocationCompletedDetails; d != nil && d.Error != nil {
		cp := *d
		cp.Error = errorOf(d.Error)
		c.InvocationCompletedDetails = &cp
	}
	return c
}
