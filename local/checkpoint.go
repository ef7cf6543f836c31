package local

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Payload limits of the service (protocol.md §4): 1 MiB per operation
// payload and per error object, 6 MiB for the EXECUTION result.
const (
	maxPayload          = 1 << 20
	maxExecutionPayload = 6 << 20
	maxErrorBytes       = 1 << 20
	maxDelaySeconds     = 31622400
	maxUpdates          = 10000
)

// checkpoint implements CheckpointDurableExecution (protocol.md §3.1–3.3).
func (s *Service) checkpoint(_ context.Context, in *lambda.CheckpointDurableExecutionInput) (*lambda.CheckpointDurableExecutionOutput, error) {
	if in == nil || in.DurableExecutionArn == nil || *in.DurableExecutionArn == "" {
		return nil, invalidParam("DurableExecutionArn is required.")
	}
	if in.CheckpointToken == nil || *in.CheckpointToken == "" {
		return nil, invalidParam("CheckpointToken is required.")
	}
	clientToken := ""
	if in.ClientToken != nil {
		clientToken = *in.ClientToken
		if !validClientToken(clientToken) {
			return nil, invalidParam("ClientToken must be 1 to 64 printable ASCII characters without spaces.")
		}
	}
	if len(in.Updates) > maxUpdates {
		return nil, invalidParam("Too many updates: %d (at most %d).", len(in.Updates), maxUpdates)
	}
	e, err := s.lookup(*in.DurableExecutionArn)
	if err != nil {
		return nil, err
	}
	tok := *in.CheckpointToken

	e.mu.Lock()
	// 1. A retry of the last accepted request gets the same answer.
	if last := e.last; last != nil && clientToken != "" && last.clientToken == clientToken && last.token == tok {
		out := *last.out
		e.mu.Unlock()
		return &out, nil
	}
	// 2. Only the running invocation, with the current token, may checkpoint.
	if !e.validToken(tok) {
		e.mu.Unlock()
		return nil, invalidToken()
	}
	// 3. Validate the whole batch before changing anything.
	if err := e.validate(in.Updates); err != nil {
		e.mu.Unlock()
		return nil, err
	}
	// 4. Apply.
	now := s.now()
	for i := range in.Updates {
		s.apply(e, &in.Updates[i], now)
	}
	e.nextToken()
	// 5. Timers that fell due are completed before the delta is computed.
	s.process(e, now)
	s.rearm(e, now)
	// 6. The delta: operations changed since the handler last saw them.
	dirty := e.takeDirty()
	ops := make([]types.Operation, len(dirty))
	for i, o := range dirty {
		ops[i] = o.api()
	}
	out := &lambda.CheckpointDurableExecutionOutput{
		NewExecutionState: &types.CheckpointUpdatedExecutionState{Operations: ops},
	}
	// No next checkpoint once the execution is over.
	if !e.terminal() {
		out.CheckpointToken = ptr(e.token)
	}
	if clientToken == "" {
		if err := s.unlock(e); err != nil {
			return nil, err
		}
		return out, nil
	}
	e.last = &checkpointReply{clientToken: clientToken, token: tok, out: out}
	if err := s.unlock(e); err != nil {
		return nil, err
	}
	cp := *out // the cached answer stays intact whatever the caller does
	return &cp, nil
}

func validClientToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// allowedAction reports whether action is allowed on an operation of type t.
func allowedAction(t types.OperationType, a types.OperationAction) bool {
	switch t {
	case types.OperationTypeStep:
		return a == types.OperationActionStart || a == types.OperationActionSucceed || a == types.OperationActionFail || a == types.OperationActionRetry
	case types.OperationTypeContext:
		return a == types.OperationActionStart || a == types.OperationActionSucceed || a == types.OperationActionFail
	case types.OperationTypeWait, types.OperationTypeChainedInvoke:
		return a == types.OperationActionStart || a == types.OperationActionCancel
	case types.OperationTypeCallback:
		return a == types.OperationActionStart
	case types.OperationTypeExecution:
		return a == types.OperationActionSucceed || a == types.OperationActionFail
	}
	return false
}

func validType(t types.OperationType) bool {
	switch t {
	case types.OperationTypeExecution, types.OperationTypeContext, types.OperationTypeStep,
		types.OperationTypeWait, types.OperationTypeCallback, types.OperationTypeChainedInvoke:
		return true
	}
	return false
}

func validAction(a types.OperationAction) bool {
	switch a {
	case types.OperationActionStart, types.OperationActionSucceed, types.OperationActionFail,
		types.OperationActionRetry, types.OperationActionCancel:
		return true
	}
	return false
}

// errorSize is the size of an error object's fields combined.
func errorSize(e *types.ErrorObject) int {
	if e == nil {
		return 0
	}
	n := 0
	for _, p := range []*string{e.ErrorData, e.ErrorMessage, e.ErrorType} {
		if p != nil {
			n += len(*p)
		}
	}
	for _, l := range e.StackTrace {
		n += len(l)
	}
	return n
}

// batchView is what validate knows of an operation started earlier in the
// same request.
type batchView struct {
	typ    types.OperationType
	action types.OperationAction
	status types.OperationStatus
}

// validate checks a batch of updates against the execution's state
// (protocol.md §3.3). Messages follow the official emulators'.
func (e *execution) validate(updates []types.OperationUpdate) error {
	var seen map[string]batchView
	if len(updates) > 1 {
		seen = make(map[string]batchView, len(updates))
	}
	for i := range updates {
		u := &updates[i]
		if u.Id == nil || !validOperationID(*u.Id) {
			return invalidParam("Invalid operation id: must be 1 to 64 characters of [a-zA-Z0-9-_].")
		}
		id := *u.Id
		if !validType(u.Type) {
			return invalidParam("Invalid operation type %q.", string(u.Type))
		}
		if !validAction(u.Action) {
			return invalidParam("Invalid action %q.", string(u.Action))
		}
		if !allowedAction(u.Type, u.Action) {
			return invalidParam("Invalid action for the given operation type.")
		}
		if u.Name != nil && !validName(*u.Name) {
			return invalidParam("Invalid operation name: must be 1 to 256 printable ASCII characters.")
		}
		if u.SubType != nil && !validSubType(*u.SubType) {
			return invalidParam("Invalid operation subtype: must be 1 to 32 characters of [a-zA-Z0-9-_].")
		}
		if u.ParentId != nil && !validOperationID(*u.ParentId) {
			return invalidParam("Invalid parent operation id.")
		}
		limit := maxPayload
		if u.Type == types.OperationTypeExecution {
			limit = maxExecutionPayload
		}
		if u.Payload != nil && len(*u.Payload) > limit {
			return invalidParam("Payload size %d bytes of operation %s exceeds the limit of %d bytes.", len(*u.Payload), id, limit)
		}
		if n := errorSize(u.Error); n > maxErrorBytes {
			return invalidParam("Error object size %d bytes of operation %s exceeds the limit of %d bytes.", n, id, maxErrorBytes)
		}
		switch u.Action {
		case types.OperationActionFail:
			if u.Payload != nil {
				return invalidParam("Cannot provide a Payload for FAIL action.")
			}
		case types.OperationActionSucceed:
			if u.Error != nil {
				return invalidParam("Cannot provide an Error for SUCCEED action.")
			}
		}

		if u.Type == types.OperationTypeExecution {
			if i != len(updates)-1 {
				for _, v := range updates[i+1:] {
					if v.Type == types.OperationTypeExecution {
						return invalidParam("Cannot checkpoint multiple EXECUTION updates.")
					}
				}
				return invalidParam("EXECUTION checkpoint must be the last update.")
			}
			continue
		}

		// The current status: from an earlier update of this batch, else
		// from the stored operation.
		var cur types.OperationStatus
		existing := e.byID[id]
		if prev, ok := seen[id]; ok {
			if prev.action != types.OperationActionStart || u.Action == types.OperationActionStart ||
				(prev.typ != types.OperationTypeStep && prev.typ != types.OperationTypeContext) {
				return invalidParam("Cannot checkpoint multiple operations with the same ID.")
			}
			if prev.typ != u.Type {
				return invalidParam("Inconsistent operation type.")
			}
			cur = prev.status
		} else if existing != nil {
			cur = existing.Status
		}
		if existing != nil {
			if existing.Type != u.Type {
				return invalidParam("Inconsistent operation type.")
			}
			if u.SubType != nil && *u.SubType != existing.SubType {
				return invalidParam("Inconsistent operation subtype.")
			}
			if u.Name != nil && *u.Name != existing.Name {
				return invalidParam("Inconsistent operation name.")
			}
			if u.ParentId != nil && *u.ParentId != existing.ParentID {
				return invalidParam("Inconsistent parent operation id.")
			}
		}
		if u.ParentId != nil && existing == nil {
			if p := e.byID[*u.ParentId]; p != nil {
				if p.Type != types.OperationTypeContext {
					return invalidParam("Invalid parent operation id.")
				}
			} else if v, ok := seen[*u.ParentId]; !ok || v.typ != types.OperationTypeContext || v.action != types.OperationActionStart {
				return invalidParam("Invalid parent operation id.")
			}
		}

		switch u.Type {
		case types.OperationTypeStep:
			switch u.Action {
			case types.OperationActionStart:
				if cur != "" && cur != types.OperationStatusReady {
					return invalidParam("Invalid current STEP state to start.")
				}
			case types.OperationActionSucceed, types.OperationActionFail:
				if cur != "" && cur != types.OperationStatusStarted && cur != types.OperationStatusReady {
					return invalidParam("Invalid current STEP state to close.")
				}
			case types.OperationActionRetry:
				if cur != "" && cur != types.OperationStatusStarted && cur != types.OperationStatusReady {
					return invalidParam("Invalid current STEP state to close.")
				}
				if u.StepOptions == nil {
					return invalidParam("Invalid StepOptions for the given action.")
				}
				if d := u.StepOptions.NextAttemptDelaySeconds; d != nil && (*d < 1 || *d > maxDelaySeconds) {
					return invalidParam("NextAttemptDelaySeconds must be between 1 and %d.", maxDelaySeconds)
				}
				if u.Payload != nil && u.Error != nil {
					return invalidParam("Cannot provide both a Payload and an Error for RETRY action.")
				}
			}
		case types.OperationTypeContext:
			switch u.Action {
			case types.OperationActionStart:
				if cur != "" {
					return invalidParam("Cannot start a CONTEXT that already exist.")
				}
			default:
				if cur != "" && cur != types.OperationStatusStarted {
					return invalidParam("Invalid current CONTEXT state to close.")
				}
			}
		case types.OperationTypeWait:
			switch u.Action {
			case types.OperationActionStart:
				if cur != "" {
					return invalidParam("Cannot start a WAIT that already exist.")
				}
				if u.WaitOptions == nil || u.WaitOptions.WaitSeconds == nil {
					return invalidParam("Invalid WaitOptions for the given action.")
				}
				if w := *u.WaitOptions.WaitSeconds; w < 1 || w > maxDelaySeconds {
					return invalidParam("WaitSeconds must be between 1 and %d.", maxDelaySeconds)
				}
			case types.OperationActionCancel:
				if cur != types.OperationStatusStarted {
					return invalidParam("Invalid current WAIT state to cancel.")
				}
			}
		case types.OperationTypeCallback:
			if cur != "" {
				return invalidParam("Cannot start a CALLBACK that already exist.")
			}
			if o := u.CallbackOptions; o != nil && (o.TimeoutSeconds < 0 || o.HeartbeatTimeoutSeconds < 0 ||
				o.TimeoutSeconds > maxDelaySeconds || o.HeartbeatTimeoutSeconds > maxDelaySeconds) {
				return invalidParam("Invalid CallbackOptions for the given action.")
			}
		case types.OperationTypeChainedInvoke:
			switch u.Action {
			case types.OperationActionStart:
				if cur != "" {
					return invalidParam("Cannot start a CHAINED_INVOKE that already exist.")
				}
				o := u.ChainedInvokeOptions
				if o == nil || o.FunctionName == nil || *o.FunctionName == "" || len(*o.FunctionName) > 170 {
					return invalidParam("Invalid ChainedInvokeOptions for the given action.")
				}
				if o.TenantId != nil && (*o.TenantId == "" || len(*o.TenantId) > 256) {
					return invalidParam("Invalid ChainedInvokeOptions for the given action: TenantId must be 1 to 256 characters.")
				}
			case types.OperationActionCancel:
				if cur != types.OperationStatusStarted {
					return invalidParam("Invalid current CHAINED_INVOKE state to cancel.")
				}
			}
		}
		if seen != nil {
			status := types.OperationStatusStarted
			if u.Action != types.OperationActionStart {
				status = types.OperationStatusSucceeded // any terminal status: a third update is refused anyway
			}
			seen[id] = batchView{typ: u.Type, action: u.Action, status: status}
		}
	}
	return nil
}

// apply applies one validated update and records its history event.
func (s *Service) apply(e *execution, u *types.OperationUpdate, now time.Time) {
	if u.Type == types.OperationTypeExecution {
		if u.Action == types.OperationActionSucceed {
			s.complete(e, now, types.ExecutionStatusSucceeded, cloneString(u.Payload), nil)
		} else {
			errObj := cloneError(u.Error)
			if errObj == nil {
				errObj = &types.ErrorObject{}
			}
			s.complete(e, now, types.ExecutionStatusFailed, nil, errObj)
		}
		return
	}
	o := e.byID[*u.Id]
	if o == nil {
		o = &operation{ID: *u.Id, Type: u.Type, Start: now}
		if u.ParentId != nil {
			o.ParentID = *u.ParentId
		}
		if u.Name != nil {
			o.Name = *u.Name
		}
		if u.SubType != nil {
			o.SubType = *u.SubType
		}
		e.addOp(o)
	}
	switch u.Type {
	case types.OperationTypeStep:
		s.applyStep(e, o, u, now)
	case types.OperationTypeContext:
		switch u.Action {
		case types.OperationActionStart:
			o.Status = types.OperationStatusStarted
			ev := e.event(o, types.EventTypeContextStarted, now)
			ev.ContextStartedDetails = &types.ContextStartedDetails{}
		case types.OperationActionSucceed:
			o.Status, o.End, o.Result = types.OperationStatusSucceeded, now, cloneString(u.Payload)
			o.ReplayChildren = u.ContextOptions != nil && u.ContextOptions.ReplayChildren != nil && *u.ContextOptions.ReplayChildren
			ev := e.event(o, types.EventTypeContextSucceeded, now)
			ev.ContextSucceededDetails = &types.ContextSucceededDetails{Result: eventResult(o.Result)}
		case types.OperationActionFail:
			o.Status, o.End, o.Error = types.OperationStatusFailed, now, cloneError(u.Error)
			o.ReplayChildren = u.ContextOptions != nil && u.ContextOptions.ReplayChildren != nil && *u.ContextOptions.ReplayChildren
			ev := e.event(o, types.EventTypeContextFailed, now)
			ev.ContextFailedDetails = &types.ContextFailedDetails{Error: eventError(o.Error)}
		}
	case types.OperationTypeWait:
		switch u.Action {
		case types.OperationActionStart:
			o.Status = types.OperationStatusStarted
			o.WaitSeconds = *u.WaitOptions.WaitSeconds
			o.ScheduledEnd = now.Add(time.Duration(o.WaitSeconds) * time.Second)
			ev := e.event(o, types.EventTypeWaitStarted, now)
			ev.WaitStartedDetails = &types.WaitStartedDetails{Duration: ptr(o.WaitSeconds), ScheduledEndTimestamp: ptr(o.ScheduledEnd)}
		case types.OperationActionCancel:
			o.Status, o.End = types.OperationStatusCancelled, now
			ev := e.event(o, types.EventTypeWaitCancelled, now)
			d := &types.WaitCancelledDetails{}
			if u.Error != nil {
				d.Error = eventError(u.Error)
			}
			ev.WaitCancelledDetails = d
		}
	case types.OperationTypeCallback:
		o.Status = types.OperationStatusStarted
		o.CallbackID = newCallbackID(e.ID, o.ID)
		if opts := u.CallbackOptions; opts != nil {
			o.TimeoutSeconds, o.HeartbeatSeconds = opts.TimeoutSeconds, opts.HeartbeatTimeoutSeconds
			if o.TimeoutSeconds > 0 {
				o.TimeoutAt = now.Add(time.Duration(o.TimeoutSeconds) * time.Second)
			}
			if o.HeartbeatSeconds > 0 {
				o.HeartbeatAt = now.Add(time.Duration(o.HeartbeatSeconds) * time.Second)
			}
		}
		ev := e.event(o, types.EventTypeCallbackStarted, now)
		d := &types.CallbackStartedDetails{CallbackId: ptr(o.CallbackID)}
		if o.TimeoutSeconds > 0 {
			d.Timeout = ptr(o.TimeoutSeconds)
		}
		if o.HeartbeatSeconds > 0 {
			d.HeartbeatTimeout = ptr(o.HeartbeatSeconds)
		}
		ev.CallbackStartedDetails = d
	case types.OperationTypeChainedInvoke:
		switch u.Action {
		case types.OperationActionStart:
			s.startChainedInvoke(e, o, u, now)
		case types.OperationActionCancel:
			s.stopChainedInvoke(e, o, u.Error, now)
		}
	}
	e.touch(o)
}

func (s *Service) applyStep(e *execution, o *operation, u *types.OperationUpdate, now time.Time) {
	switch u.Action {
	case types.OperationActionStart:
		o.Status = types.OperationStatusStarted
		o.NextAttempt = time.Time{}
		ev := e.event(o, types.EventTypeStepStarted, now)
		ev.StepStartedDetails = &types.StepStartedDetails{}
	case types.OperationActionSucceed:
		o.Attempt++
		o.Status, o.End, o.NextAttempt = types.OperationStatusSucceeded, now, time.Time{}
		o.Result, o.Error = cloneString(u.Payload), nil
		ev := e.event(o, types.EventTypeStepSucceeded, now)
		ev.StepSucceededDetails = &types.StepSucceededDetails{
			Result:       eventResult(o.Result),
			RetryDetails: &types.RetryDetails{CurrentAttempt: o.Attempt},
		}
	case types.OperationActionFail:
		o.Attempt++
		o.Status, o.End, o.NextAttempt = types.OperationStatusFailed, now, time.Time{}
		o.Result, o.Error = nil, cloneError(u.Error)
		ev := e.event(o, types.EventTypeStepFailed, now)
		ev.StepFailedDetails = &types.StepFailedDetails{
			Error:        eventError(o.Error),
			RetryDetails: &types.RetryDetails{CurrentAttempt: o.Attempt},
		}
	case types.OperationActionRetry:
		o.Attempt++
		delay := int32(1)
		if d := u.StepOptions.NextAttemptDelaySeconds; d != nil {
			delay = *d
		}
		o.Status = types.OperationStatusPending
		o.NextAttempt = now.Add(time.Duration(delay) * time.Second)
		o.Result, o.Error = cloneString(u.Payload), cloneError(u.Error)
		retry := &types.RetryDetails{CurrentAttempt: o.Attempt, NextAttemptDelaySeconds: ptr(delay)}
		if o.Error != nil {
			ev := e.event(o, types.EventTypeStepFailed, now)
			ev.StepFailedDetails = &types.StepFailedDetails{Error: eventError(o.Error), RetryDetails: retry}
		} else {
			ev := e.event(o, types.EventTypeStepSucceeded, now)
			ev.StepSucceededDetails = &types.StepSucceededDetails{Result: eventResult(o.Result), RetryDetails: retry}
		}
	}
}
