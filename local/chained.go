package local

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// A CHAINED_INVOKE runs its target as a durable execution of its own (the
// DurableExecutionArn of ChainedInvokeStarted). When that execution ends, the
// caller's operation takes its outcome (SUCCEEDED, FAILED, TIMED_OUT or
// STOPPED), the matching ChainedInvoke* event is recorded and the caller is
// invoked again.

// chainedStartGrace is how long a chained invoke's target waits, on the wall
// clock, for its caller's invocation to end before it is invoked anyway. On
// AWS the target's first invocation practically always starts after the
// caller suspended; waiting for that makes histories deterministic
// (ChainedInvokeStarted, InvocationCompleted, ChainedInvokeSucceeded).
const chainedStartGrace = 200 * time.Millisecond

// releaseChild invokes a held chained invoke target.
func (s *Service) releaseChild(child *execution) {
	if s.ctx.Err() != nil {
		return // the next service on this store invokes it
	}
	child.mu.Lock()
	if child.held {
		child.held = false
		child.NeedsReinvoke = false
		s.trigger(child)
	}
	_ = s.unlock(child)
}

// releaseChildren releases the targets started by e's invocation once e.mu
// is released. e.mu must be held.
func (s *Service) releaseChildren(e *execution) {
	for _, c := range e.children {
		e.defer_(func() { s.releaseChild(c) })
	}
	e.children = nil
}

// startChainedInvoke applies a CHAINED_INVOKE START. e.mu must be held.
func (s *Service) startChainedInvoke(e *execution, o *operation, u *types.OperationUpdate, now time.Time) {
	opts := u.ChainedInvokeOptions
	o.Status = types.OperationStatusStarted
	o.FunctionName = *opts.FunctionName
	if opts.TenantId != nil {
		o.TenantID = *opts.TenantId
	}
	payload := cloneString(u.Payload)

	var startErr *types.ErrorObject
	version := latestVersion
	fn, qualifier, ok := parseFunctionName(o.FunctionName)
	if !ok {
		startErr = &types.ErrorObject{ErrorType: ptr(codeInvalidParameter), ErrorMessage: ptr("Invalid function name: " + o.FunctionName)}
	} else {
		if qualifier != "" {
			version = qualifier
		}
		input := "{}"
		if payload != nil && *payload != "" {
			input = *payload
		}
		child, err := s.createExecution(fn, version, []byte(input), startConfig{tenantID: o.TenantID}, e.ARN, o.ID)
		if err != nil {
			ae := asAPIError(err)
			startErr = &types.ErrorObject{ErrorType: ptr(ae.code), ErrorMessage: ptr(ae.msg)}
		} else {
			o.ChildARN = child.ARN
			e.children = append(e.children, child)
			time.AfterFunc(chainedStartGrace, func() { s.releaseChild(child) })
		}
	}

	ev := e.event(o, types.EventTypeChainedInvokeStarted, now)
	d := &types.ChainedInvokeStartedDetails{
		FunctionName:    ptr(o.FunctionName),
		Input:           eventInput(payload),
		ExecutedVersion: ptr(version),
	}
	if o.TenantID != "" {
		d.TenantId = ptr(o.TenantID)
	}
	if o.ChildARN != "" {
		d.DurableExecutionArn = ptr(o.ChildARN)
	}
	ev.ChainedInvokeStartedDetails = d

	if startErr != nil {
		o.Status, o.End, o.Error = types.OperationStatusFailed, now, startErr
		ev := e.event(o, types.EventTypeChainedInvokeFailed, now)
		ev.ChainedInvokeFailedDetails = &types.ChainedInvokeFailedDetails{Error: eventError(startErr)}
		s.trigger(e)
	}
}

// stopChainedInvoke applies a CHAINED_INVOKE CANCEL: the operation ends
// STOPPED and so does the target execution. e.mu must be held.
func (s *Service) stopChainedInvoke(e *execution, o *operation, errObj *types.ErrorObject, now time.Time) {
	errObj = cloneError(errObj)
	if errObj == nil {
		errObj = &types.ErrorObject{ErrorMessage: ptr("Chained invoke cancelled")}
	}
	o.Status, o.End, o.Error = types.OperationStatusStopped, now, errObj
	ev := e.event(o, types.EventTypeChainedInvokeStopped, now)
	ev.ChainedInvokeStoppedDetails = &types.ChainedInvokeStoppedDetails{Error: eventError(errObj)}
	if child := o.ChildARN; child != "" {
		e.defer_(func() { _, _ = s.stopExecution(child, cloneError(errObj)) })
	}
}

// chainedDone hands the outcome of e, a chained invoke's target, to its
// caller once e.mu is released. e.mu must be held.
func (s *Service) chainedDone(e *execution) {
	parentARN, opID := e.ParentARN, e.ParentOp
	status, result, errObj := e.Status, cloneString(e.Result), cloneError(e.Error)
	e.defer_(func() {
		p, err := s.lookup(parentARN)
		if err != nil {
			return
		}
		p.mu.Lock()
		o := p.byID[opID]
		if p.terminal() || o == nil || o.Status != types.OperationStatusStarted {
			p.mu.Unlock()
			return
		}
		now := s.now()
		o.End = now
		switch status {
		case types.ExecutionStatusSucceeded:
			o.Status, o.Result = types.OperationStatusSucceeded, result
			ev := p.event(o, types.EventTypeChainedInvokeSucceeded, now)
			ev.ChainedInvokeSucceededDetails = &types.ChainedInvokeSucceededDetails{Result: eventResult(result)}
		case types.ExecutionStatusFailed:
			o.Status, o.Error = types.OperationStatusFailed, errObj
			ev := p.event(o, types.EventTypeChainedInvokeFailed, now)
			ev.ChainedInvokeFailedDetails = &types.ChainedInvokeFailedDetails{Error: eventError(errObj)}
		case types.ExecutionStatusTimedOut:
			o.Status, o.Error = types.OperationStatusTimedOut, errObj
			ev := p.event(o, types.EventTypeChainedInvokeTimedOut, now)
			ev.ChainedInvokeTimedOutDetails = &types.ChainedInvokeTimedOutDetails{Error: eventError(errObj)}
		default:
			o.Status, o.Error = types.OperationStatusStopped, errObj
			ev := p.event(o, types.EventTypeChainedInvokeStopped, now)
			ev.ChainedInvokeStoppedDetails = &types.ChainedInvokeStoppedDetails{Error: eventError(errObj)}
		}
		p.touch(o)
		s.trigger(p)
		s.rearm(p, now)
		_ = s.unlock(p)
	})
}
