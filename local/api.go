package local

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// describe returns e as GetDurableExecution shows it.
func (s *Service) describe(e *execution, withData bool) *lambda.GetDurableExecutionOutput {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := &lambda.GetDurableExecutionOutput{
		DurableExecutionArn:  ptr(e.ARN),
		DurableExecutionName: ptr(e.Name),
		FunctionArn:          ptr(s.functionARN(e.Function) + ":" + e.Qualifier),
		StartTimestamp:       ptr(e.Start),
		Status:               e.Status,
		Version:              ptr(e.Qualifier),
		DurableConfig: &types.DurableConfig{
			ExecutionTimeout:      ptr(e.Timeout),
			RetentionPeriodInDays: ptr(e.RetentionDays),
		},
		ExecutionDataIncluded: ptr(withData),
	}
	if !e.End.IsZero() {
		out.EndTimestamp = ptr(e.End)
	}
	if withData {
		out.InputPayload = ptr(e.Input)
		out.Result = cloneString(e.Result)
		out.Error = cloneError(e.Error)
	}
	return out
}

// getExecution implements GetDurableExecution.
func (s *Service) getExecution(_ context.Context, in *lambda.GetDurableExecutionInput) (*lambda.GetDurableExecutionOutput, error) {
	if in == nil || in.DurableExecutionArn == nil || *in.DurableExecutionArn == "" {
		return nil, invalidParam("DurableExecutionArn is required.")
	}
	e, err := s.lookup(*in.DurableExecutionArn)
	if err != nil {
		return nil, err
	}
	return s.describe(e, in.IncludeExecutionData == nil || *in.IncludeExecutionData), nil
}

// listExecutions implements ListDurableExecutionsByFunction. Executions are
// returned newest first unless ReverseOrder is true; the marker is the
// creation sequence number of the next execution.
func (s *Service) listExecutions(_ context.Context, in *lambda.ListDurableExecutionsByFunctionInput) (*lambda.ListDurableExecutionsByFunctionOutput, error) {
	if in == nil || in.FunctionName == nil {
		return nil, invalidParam("FunctionName is required.")
	}
	fn, qualifier, ok := parseFunctionName(*in.FunctionName)
	if !ok {
		return nil, invalidParam("Invalid function name: %q.", *in.FunctionName)
	}
	if in.Qualifier != nil && *in.Qualifier != "" {
		if !validQualifier(*in.Qualifier) {
			return nil, invalidParam("Invalid qualifier: %q.", *in.Qualifier)
		}
		qualifier = *in.Qualifier
	}
	max, err := pageSize(in.MaxItems)
	if err != nil {
		return nil, err
	}
	for _, st := range in.Statuses {
		switch st {
		case types.ExecutionStatusRunning, types.ExecutionStatusSucceeded, types.ExecutionStatusFailed,
			types.ExecutionStatusTimedOut, types.ExecutionStatusStopped:
		default:
			return nil, invalidParam("Invalid status %q.", string(st))
		}
	}
	oldestFirst := in.ReverseOrder != nil && *in.ReverseOrder
	var marker int64 = -1
	if in.Marker != nil && *in.Marker != "" {
		marker, err = strconv.ParseInt(*in.Marker, 10, 64)
		if err != nil || marker < 0 {
			return nil, invalidParam("Invalid marker.")
		}
	}

	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, serviceError(msgServiceClosed)
	}
	_, known := s.functions[fn]
	var all []*execution
	for _, e := range s.execs {
		if e.Function == fn {
			all = append(all, e)
		}
	}
	s.mu.RUnlock()
	if !known && len(all) == 0 {
		return nil, notFound("Function not found: %s", s.functionARN(fn))
	}
	slices.SortFunc(all, func(a, b *execution) int {
		if oldestFirst {
			return int(a.Seq - b.Seq)
		}
		return int(b.Seq - a.Seq)
	})

	out := &lambda.ListDurableExecutionsByFunctionOutput{DurableExecutions: []types.Execution{}}
	for _, e := range all {
		if marker >= 0 && (oldestFirst && e.Seq < marker || !oldestFirst && e.Seq > marker) {
			continue
		}
		e.mu.Lock()
		match := (qualifier == "" || e.Qualifier == qualifier) &&
			(in.DurableExecutionName == nil || *in.DurableExecutionName == "" || e.Name == *in.DurableExecutionName) &&
			(len(in.Statuses) == 0 || slices.Contains(in.Statuses, e.Status)) &&
			(in.StartedAfter == nil || e.Start.After(*in.StartedAfter)) &&
			(in.StartedBefore == nil || e.Start.Before(*in.StartedBefore))
		var item types.Execution
		if match {
			item = types.Execution{
				DurableExecutionArn:  ptr(e.ARN),
				DurableExecutionName: ptr(e.Name),
				FunctionArn:          ptr(s.functionARN(e.Function) + ":" + e.Qualifier),
				Status:               e.Status,
				StartTimestamp:       ptr(e.Start),
			}
			if !e.End.IsZero() {
				item.EndTimestamp = ptr(e.End)
			}
		}
		e.mu.Unlock()
		if !match {
			continue
		}
		if len(out.DurableExecutions) == max {
			out.NextMarker = ptr(strconv.FormatInt(e.Seq, 10))
			break
		}
		out.DurableExecutions = append(out.DurableExecutions, item)
	}
	return out, nil
}

// stop implements StopDurableExecution.
func (s *Service) stop(_ context.Context, in *lambda.StopDurableExecutionInput) (*lambda.StopDurableExecutionOutput, error) {
	if in == nil || in.DurableExecutionArn == nil || *in.DurableExecutionArn == "" {
		return nil, invalidParam("DurableExecutionArn is required.")
	}
	if n := errorSize(in.Error); n > maxErrorBytes {
		return nil, invalidParam("Error object size %d bytes exceeds the limit of %d bytes.", n, maxErrorBytes)
	}
	t, err := s.stopExecution(*in.DurableExecutionArn, cloneError(in.Error))
	if err != nil {
		return nil, err
	}
	return &lambda.StopDurableExecutionOutput{StopTimestamp: ptr(t)}, nil
}

// stopExecution ends a running execution STOPPED. An execution that already
// ended is left as it is and its end time returned, as the official emulator
// does. A running invocation is not interrupted; its next checkpoint fails.
func (s *Service) stopExecution(arn string, errObj *types.ErrorObject) (time.Time, error) {
	e, err := s.lookup(arn)
	if err != nil {
		return time.Time{}, err
	}
	e.mu.Lock()
	if e.terminal() {
		end := e.End
		e.mu.Unlock()
		return end, nil
	}
	if errObj == nil {
		errObj = &types.ErrorObject{ErrorMessage: ptr("Execution stopped by user request")}
	}
	now := s.now()
	ev := e.executionEvent(types.EventTypeExecutionStopped, now)
	ev.ExecutionStoppedDetails = &types.ExecutionStoppedDetails{Error: eventError(errObj)}
	s.complete(e, now, types.ExecutionStatusStopped, nil, errObj)
	if err := s.unlock(e); err != nil {
		return time.Time{}, err
	}
	return now, nil
}

// callback finds the CALLBACK operation of a callback id and applies f to it
// while it is STARTED.
func (s *Service) callback(id string, f func(e *execution, o *operation, now time.Time)) error {
	execID, opID, ok := parseCallbackID(id)
	if !ok {
		return invalidParam("Invalid callback id.")
	}
	s.mu.RLock()
	e := s.byID[execID]
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return serviceError(msgServiceClosed)
	}
	if e == nil {
		return invalidParam("Invalid callback id: no such callback.")
	}
	e.mu.Lock()
	o := e.byID[opID]
	switch {
	case o == nil || o.Type != types.OperationTypeCallback || o.CallbackID != id:
		e.mu.Unlock()
		return invalidParam("Invalid callback id: no such callback.")
	case o.Status == types.OperationStatusTimedOut:
		e.mu.Unlock()
		return callbackTimedOut("Callback %s timed out.", opID)
	case o.Status != types.OperationStatusStarted:
		e.mu.Unlock()
		return invalidParam("Callback %s is already %s.", opID, o.Status)
	case e.terminal():
		e.mu.Unlock()
		return invalidParam("Execution %s is already %s.", e.ARN, e.Status)
	}
	now := s.now()
	f(e, o, now)
	e.touch(o)
	s.rearm(e, now)
	return s.unlock(e)
}

// callbackSuccess implements SendDurableExecutionCallbackSuccess: the
// callback's Result is the request body as a string (nil if empty).
func (s *Service) callbackSuccess(_ context.Context, in *lambda.SendDurableExecutionCallbackSuccessInput) (*lambda.SendDurableExecutionCallbackSuccessOutput, error) {
	if in == nil || in.CallbackId == nil {
		return nil, invalidParam("CallbackId is required.")
	}
	if len(in.Result) > maxPayload {
		return nil, invalidParam("Result size %d bytes exceeds the limit of %d bytes.", len(in.Result), maxPayload)
	}
	var result *string
	if len(in.Result) > 0 {
		result = ptr(string(in.Result))
	}
	err := s.callback(*in.CallbackId, func(e *execution, o *operation, now time.Time) {
		o.Status, o.End, o.Result = types.OperationStatusSucceeded, now, result
		o.TimeoutAt, o.HeartbeatAt = time.Time{}, time.Time{}
		ev := e.event(o, types.EventTypeCallbackSucceeded, now)
		ev.CallbackSucceededDetails = &types.CallbackSucceededDetails{Result: eventResult(result)}
		s.trigger(e)
	})
	if err != nil {
		return nil, err
	}
	return &lambda.SendDurableExecutionCallbackSuccessOutput{}, nil
}

// callbackFailure implements SendDurableExecutionCallbackFailure.
func (s *Service) callbackFailure(_ context.Context, in *lambda.SendDurableExecutionCallbackFailureInput) (*lambda.SendDurableExecutionCallbackFailureOutput, error) {
	if in == nil || in.CallbackId == nil {
		return nil, invalidParam("CallbackId is required.")
	}
	if n := errorSize(in.Error); n > maxErrorBytes {
		return nil, invalidParam("Error object size %d bytes exceeds the limit of %d bytes.", n, maxErrorBytes)
	}
	errObj := cloneError(in.Error)
	if errObj == nil {
		errObj = &types.ErrorObject{}
	}
	err := s.callback(*in.CallbackId, func(e *execution, o *operation, now time.Time) {
		o.Status, o.End, o.Error = types.OperationStatusFailed, now, errObj
		o.TimeoutAt, o.HeartbeatAt = time.Time{}, time.Time{}
		ev := e.event(o, types.EventTypeCallbackFailed, now)
		ev.CallbackFailedDetails = &types.CallbackFailedDetails{Error: eventError(errObj)}
		s.trigger(e)
	})
	if err != nil {
		return nil, err
	}
	return &lambda.SendDurableExecutionCallbackFailureOutput{}, nil
}

// callbackHeartbeat implements SendDurableExecutionCallbackHeartbeat: it
// restarts the heartbeat timeout.
func (s *Service) callbackHeartbeat(_ context.Context, in *lambda.SendDurableExecutionCallbackHeartbeatInput) (*lambda.SendDurableExecutionCallbackHeartbeatOutput, error) {
	if in == nil || in.CallbackId == nil {
		return nil, invalidParam("CallbackId is required.")
	}
	err := s.callback(*in.CallbackId, func(e *execution, o *operation, now time.Time) {
		if o.HeartbeatSeconds > 0 {
			o.HeartbeatAt = now.Add(time.Duration(o.HeartbeatSeconds) * time.Second)
		}
	})
	if err != nil {
		return nil, err
	}
	return &lambda.SendDurableExecutionCallbackHeartbeatOutput{}, nil
}

// maxSyncWait bounds a synchronous Invoke, like Lambda's 15 minutes.
const maxSyncWait = 15 * time.Minute

// invokeFunction implements Invoke for durable functions: RequestResponse
// starts the execution and waits for its end (at most 15 minutes of wall
// time), Event starts it and returns 202, DryRun only validates.
func (s *Service) invokeFunction(ctx context.Context, in *lambda.InvokeInput) (*lambda.InvokeOutput, error) {
	if in == nil || in.FunctionName == nil {
		return nil, invalidParam("FunctionName is required.")
	}
	sc := startConfig{}
	if in.DurableExecutionName != nil {
		sc.name = *in.DurableExecutionName
		if sc.name == "" {
			return nil, invalidParam("Invalid durable execution name: it must not be empty.")
		}
	}
	if in.Qualifier != nil {
		sc.qualifier = *in.Qualifier
	}
	if in.TenantId != nil {
		sc.tenantID = *in.TenantId
	}
	limit := maxExecutionPayload
	switch in.InvocationType {
	case "", types.InvocationTypeRequestResponse:
	case types.InvocationTypeEvent:
		limit = maxPayload
	case types.InvocationTypeDryRun:
		fn, _, ok := parseFunctionName(*in.FunctionName)
		if !ok {
			return nil, invalidParam("Invalid function name: %q.", *in.FunctionName)
		}
		if s.function(fn) == nil {
			return nil, notFound("Function not found: %s", s.functionARN(fn))
		}
		return &lambda.InvokeOutput{StatusCode: 204}, nil
	default:
		return nil, invalidParam("Invalid InvocationType %q.", string(in.InvocationType))
	}
	e, err := s.start(ctx, *in.FunctionName, sc, in.Payload, limit)
	if err != nil {
		return nil, err
	}
	out := &lambda.InvokeOutput{DurableExecutionArn: ptr(e.ARN), ExecutedVersion: ptr(e.Qualifier)}
	if in.InvocationType == types.InvocationTypeEvent {
		out.StatusCode = 202
		return out, nil
	}
	out.StatusCode = 200
	wait := time.NewTimer(maxSyncWait)
	defer wait.Stop()
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.ctx.Done():
		return nil, serviceError(msgServiceClosed)
	case <-wait.C:
		out.FunctionError = ptr("Unhandled")
		out.Payload = errorDocument("Sandbox.Timedout", "durable: the execution is still running after 15 minutes; poll GetDurableExecution", nil)
		return out, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.Status {
	case types.ExecutionStatusSucceeded:
		if e.Result != nil {
			out.Payload = []byte(*e.Result)
		} else {
			out.Payload = []byte("null")
		}
	default:
		out.FunctionError = ptr("Unhandled")
		errObj := e.Error
		if errObj == nil {
			errObj = &types.ErrorObject{}
		}
		typ := deref(errObj.ErrorType)
		if typ == "" {
			typ = map[types.ExecutionStatus]string{
				types.ExecutionStatusFailed:   "Execution.Failed",
				types.ExecutionStatusTimedOut: "Execution.TimedOut",
				types.ExecutionStatusStopped:  "Execution.Stopped",
			}[e.Status]
		}
		out.Payload = errorDocument(typ, deref(errObj.ErrorMessage), errObj.StackTrace)
	}
	return out, nil
}

// errorDocument is Lambda's function error payload.
func errorDocument(typ, msg string, stack []string) []byte {
	b, _ := json.Marshal(struct {
		Message    string   `json:"errorMessage"`
		Type       string   `json:"errorType"`
		StackTrace []string `json:"stackTrace,omitempty"`
	}{msg, typ, stack})
	return b
}
