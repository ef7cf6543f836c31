package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// maxResponse is Lambda's limit on a synchronous response.
const maxResponse = 6 << 20

// invoke runs invocations of e until none is due. It owns one unit of
// s.busy and of s.wg.
func (s *Service) invoke(e *execution) {
	defer s.wg.Done()
	defer s.busyDone()
	for {
		e.mu.Lock()
		if e.terminal() || s.ctx.Err() != nil {
			if !e.terminal() {
				e.NeedsReinvoke = true // the next service on this store invokes it
			}
			e.Invoking = false
			e.chg.exec = true
			_ = s.unlock(e)
			return
		}
		fn := s.function(e.Function)
		if fn == nil {
			// Wait for the function to be registered (e.g. after a restart).
			e.Invoking, e.parked, e.NeedsReinvoke = false, true, true
			e.chg.exec = true
			s.park(e)
			_ = s.unlock(e)
			return
		}
		inv, payload := s.beginInvocation(e, fn)
		_ = s.unlock(e)

		res := s.call(fn, inv, payload)

		e.mu.Lock()
		again := s.finishInvocation(e, inv, res)
		_ = s.unlock(e)
		inv.cancel()
		if !again {
			return
		}
	}
}

// beginInvocation issues a new invocation id and token and builds the
// invocation input. e.mu must be held.
func (s *Service) beginInvocation(e *execution, fn *function) (*invocation, []byte) {
	now := s.now()
	inv := &invocation{id: newRequestID(), start: now, timeout: fn.cfg.timeout, crash: make(chan struct{})}
	ctx := lambdacontext.NewContext(s.ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       inv.id,
		InvokedFunctionArn: s.functionARN(e.Function) + ":" + e.Qualifier,
		TenantID:           e.TenantID,
	})
	ctx = context.WithValue(ctx, invocationKey{}, inv)
	inv.ctx, inv.cancel = context.WithTimeout(ctx, fn.cfg.timeout)
	e.inv = inv
	e.InvocationID, e.InvocationStart = inv.id, now
	e.NeedsReinvoke = false // the input below shows everything done so far
	e.chg.exec = true
	e.nextToken()
	return inv, s.envelope(e, e.token)
}

// callResult is how a handler call ended.
type callResult struct {
	out      []byte
	err      error
	panicked bool
	panicVal any
	stack    []byte
	crashed  bool // Crash, or the handler goroutine exited
	timedOut bool
	closed   bool // the service is closing
}

// call runs the handler in its own goroutine, so that a crash or a timeout
// can abandon it the way Lambda abandons a sandbox.
func (s *Service) call(fn *function, inv *invocation, payload []byte) callResult {
	done := make(chan callResult, 1)
	go func() {
		returned := false
		defer func() {
			if returned {
				return
			}
			if r := recover(); r != nil {
				done <- callResult{panicked: true, panicVal: r, stack: debug.Stack()}
				return
			}
			done <- callResult{crashed: true} // runtime.Goexit
		}()
		out, err := fn.handler.Invoke(inv.ctx, payload)
		returned = true
		done <- callResult{out: out, err: err}
	}()
	select {
	case r := <-done:
		if s.ctx.Err() != nil {
			// Answers that arrive while the service shuts down are lost,
			// as if the service had crashed first.
			return callResult{closed: true}
		}
		if r.err != nil && errors.Is(inv.ctx.Err(), context.DeadlineExceeded) {
			return callResult{timedOut: true} // the handler gave up at its deadline
		}
		return r
	case <-inv.crash:
		return callResult{crashed: true}
	case <-inv.ctx.Done():
		if s.ctx.Err() != nil {
			return callResult{closed: true}
		}
		select {
		case r := <-done:
			if r.err == nil && !r.panicked && !r.crashed {
				return r // answered right at the deadline
			}
		case <-inv.crash:
			return callResult{crashed: true}
		default:
		}
		return callResult{timedOut: true}
	}
}

// output is the handler's answer (protocol.md §1.2).
type output struct {
	Status string             `json:"Status"`
	Result *string            `json:"Result"`
	Error  *types.ErrorObject `json:"Error"`
}

// finishInvocation records the end of inv and acts on the handler's answer.
// It reports whether e must be invoked again at once. e.mu must be held.
func (s *Service) finishInvocation(e *execution, inv *invocation, res callResult) bool {
	if e.inv != inv {
		return false
	}
	if res.closed {
		// The service is shutting down: the invocation is lost, as if the
		// service had crashed. The next service on this store records it.
		return false
	}
	now := s.now()
	s.releaseChildren(e)
	e.inv = nil
	e.Invoking = false
	e.InvocationID, e.InvocationStart = "", time.Time{}
	e.chg.exec = true

	var out output
	failure := invocationFailure(inv, res)
	if failure == nil {
		failure = parseOutput(res.out, &out)
	}
	if failure == nil && !e.terminal() {
		failure = e.checkOutput(&out)
	}

	ev := e.executionEvent(types.EventTypeInvocationCompleted, now)
	ev.Id, ev.Name = nil, nil
	d := &types.InvocationCompletedDetails{StartTimestamp: ptr(inv.start), EndTimestamp: ptr(now), RequestId: ptr(inv.id)}
	if failure != nil {
		d.Error = eventError(failure)
	}
	ev.InvocationCompletedDetails = d

	again := false
	switch {
	case e.terminal():
		// Ended during the invocation (EXECUTION checkpoint, stop, timeout).
	case failure != nil:
		e.FailedInvocations++
		s.log.Warn("durable: invocation failed", "arn", e.ARN, "requestId", inv.id,
			"errorType", deref(failure.ErrorType), "errorMessage", deref(failure.ErrorMessage), "consecutive", e.FailedInvocations)
		switch {
		case e.FailedInvocations >= s.cfg.maxFailures:
			s.complete(e, now, types.ExecutionStatusFailed, nil, failure)
		case e.NeedsReinvoke || s.cfg.failureBackoff <= 0:
			again = true
		default:
			e.RetryAt = now.Add(s.cfg.failureBackoff)
		}
	case out.Status == string(types.ExecutionStatusSucceeded):
		e.FailedInvocations = 0
		var result *string
		if out.Result != nil && *out.Result != "" {
			result = out.Result
		}
		s.complete(e, now, types.ExecutionStatusSucceeded, result, nil)
	case out.Status == string(types.ExecutionStatusFailed):
		e.FailedInvocations = 0
		errObj := out.Error
		if errObj == nil {
			errObj = &types.ErrorObject{}
		}
		s.complete(e, now, types.ExecutionStatusFailed, nil, errObj)
	default: // PENDING
		e.FailedInvocations = 0
		again = e.NeedsReinvoke
	}
	if again {
		e.Invoking = true
		e.NeedsReinvoke = false
	}
	s.process(e, now)
	s.rearm(e, now)
	return again && !e.terminal()
}

// checkOutput validates a well-formed answer against the execution state.
func (e *execution) checkOutput(out *output) *types.ErrorObject {
	switch out.Status {
	case string(types.ExecutionStatusSucceeded):
		if out.Error != nil {
			return invalidResponse("Cannot provide an Error for SUCCEEDED status.")
		}
	case string(types.ExecutionStatusFailed):
		if out.Result != nil && *out.Result != "" {
			return invalidResponse("Cannot provide a Result for FAILED status.")
		}
	case "PENDING":
		if e.NeedsReinvoke {
			return nil
		}
		for _, o := range e.ops {
			if o.pending() {
				return nil
			}
		}
		return invalidResponse("Cannot return PENDING status with no pending operations.")
	default:
		return invalidResponse(fmt.Sprintf("Invalid Status %q: must be SUCCEEDED, FAILED or PENDING.", out.Status))
	}
	return nil
}

func parseOutput(b []byte, out *output) *types.ErrorObject {
	if len(b) > maxResponse {
		return &types.ErrorObject{
			ErrorType:    ptr("Function.ResponseSizeTooLarge"),
			ErrorMessage: ptr(fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", len(b), maxResponse)),
		}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return invalidResponse("The handler's response is not a durable execution output: " + err.Error())
	}
	return nil
}

func invalidResponse(msg string) *types.ErrorObject {
	return &types.ErrorObject{ErrorType: ptr("Runtime.InvalidResponse"), ErrorMessage: ptr(msg)}
}

// invocationFailure describes a call that did not return an answer.
func invocationFailure(inv *invocation, r callResult) *types.ErrorObject {
	switch {
	case r.crashed:
		return &types.ErrorObject{
			ErrorType:    ptr("Runtime.ExitError"),
			ErrorMessage: ptr("RequestId: " + inv.id + " Error: Runtime exited without providing a reason"),
		}
	case r.panicked:
		return &types.ErrorObject{
			ErrorType:    ptr("Runtime.ExitError"),
			ErrorMessage: ptr(fmt.Sprintf("RequestId: %s Error: Runtime exited with error: exit status 2 (panic: %v)", inv.id, r.panicVal)),
			StackTrace:   stackLines(r.stack),
		}
	case r.timedOut:
		return &types.ErrorObject{
			ErrorType:    ptr("Sandbox.Timedout"),
			ErrorMessage: ptr(fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, inv.timeout.Seconds())),
		}
	case r.err != nil:
		return handlerError(r.err)
	}
	return nil
}

// handlerError turns an error returned by a handler into the error object
// Lambda reports: the error document of a runtime (runtimeapi errors carry
// one), aws-lambda-go's InvokeResponse_Error, or the Go type name and message
// as aws-lambda-go reports them.
func handlerError(err error) *types.ErrorObject {
	var fe interface {
		ErrorType() string
		ErrorPayload() []byte
	}
	if errors.As(err, &fe) {
		var doc struct {
			Message    *string           `json:"errorMessage"`
			Type       string            `json:"errorType"`
			StackTrace []json.RawMessage `json:"stackTrace"`
		}
		e := &types.ErrorObject{ErrorType: ptr(fe.ErrorType()), ErrorMessage: ptr(err.Error())}
		if json.Unmarshal(fe.ErrorPayload(), &doc) == nil {
			if doc.Message != nil {
				e.ErrorMessage = doc.Message
			}
			e.StackTrace = frames(doc.StackTrace)
		}
		return e
	}
	var ire messages.InvokeResponse_Error
	if errors.As(err, &ire) {
		e := &types.ErrorObject{ErrorType: ptr(ire.Type), ErrorMessage: ptr(ire.Message)}
		for _, f := range ire.StackTrace {
			e.StackTrace = append(e.StackTrace, fmt.Sprintf("%s:%d %s", f.Path, f.Line, f.Label))
		}
		return e
	}
	var pire *messages.InvokeResponse_Error
	if errors.As(err, &pire) && pire != nil {
		return &types.ErrorObject{ErrorType: ptr(pire.Type), ErrorMessage: ptr(pire.Message)}
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return &types.ErrorObject{ErrorType: ptr(t.Name()), ErrorMessage: ptr(err.Error())}
}

// frames renders a runtime's stackTrace entries (strings or {path,line,label}
// objects) as strings.
func frames(raw []json.RawMessage) []string {
	var out []string
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			out = append(out, s)
			continue
		}
		var f struct {
			Path  string `json:"path"`
			Line  int    `json:"line"`
			Label string `json:"label"`
		}
		if json.Unmarshal(r, &f) == nil {
			out = append(out, fmt.Sprintf("%s:%d %s", f.Path, f.Line, f.Label))
		}
	}
	return out
}

func stackLines(stack []byte) []string {
	lines := strings.Split(strings.TrimSpace(string(stack)), "\n")
	if len(lines) > 64 {
		lines = lines[:64]
	}
	return lines
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

type invocationKey struct{}

// Crash ends the current invocation the way a crashing Lambda runtime does,
// for tests of crash recovery: the service records the invocation as failed
// with ErrorType "Runtime.ExitError", refuses its checkpoint token from then
// on (checkpoints not yet flushed are lost) and invokes the execution again.
// ctx must descend from the context the service passed to an in-process
// handler. Crash does not return: it ends the calling goroutine with
// [runtime.Goexit]. Outside an invocation it does nothing.
func Crash(ctx context.Context) {
	inv, ok := ctx.Value(invocationKey{}).(*invocation)
	if !ok {
		return
	}
	inv.once.Do(func() { close(inv.crash) })
	runtime.Goexit()
}
