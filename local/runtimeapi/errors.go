package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Lambda error type strings reported by this package.
const (
	// ErrorTypeExit is the type of an [ExitError] for a runtime process that
	// exited during an invocation or before it finished initializing.
	ErrorTypeExit = "Runtime.ExitError"
	// ErrorTypeInvalidEntrypoint is the type of an [ExitError] for a handler
	// binary that could not be started.
	ErrorTypeInvalidEntrypoint = "Runtime.InvalidEntrypoint"
	// ErrorTypeTimeout is the type of a [TimeoutError].
	ErrorTypeTimeout = "Sandbox.Timedout"
	// ErrorTypeResponseTooLarge is the type of the [InvocationError]
	// returned when the handler's response exceeds [MaxResponseSize].
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"
	// ErrorTypeUnknown is used when a runtime reports an error without
	// saying what type it is.
	ErrorTypeUnknown = "Runtime.Unknown"
)

// ErrClosed is returned by operations on a [Function] that has been closed.
var ErrClosed = errors.New("runtimeapi: function closed")

// FunctionError is implemented by every error this package returns for a
// failed invocation that Lambda would report as a function error:
// [*InvocationError], [*ExitError] and [*TimeoutError].
type FunctionError interface {
	error
	// ErrorType returns the Lambda error type, e.g. "Runtime.ExitError".
	ErrorType() string
	// ErrorPayload returns the JSON error document Lambda would return to
	// the caller of Invoke, e.g. {"errorMessage":"...","errorType":"..."}.
	ErrorPayload() []byte
}

var (
	_ FunctionError = (*InvocationError)(nil)
	_ FunctionError = (*ExitError)(nil)
	_ FunctionError = (*TimeoutError)(nil)
)

// StackFrame is one entry of the stackTrace of a runtime error document.
// aws-lambda-go reports {path, line, label} objects; runtimes that report
// plain strings (Node.js, Python) have the string stored in Label.
type StackFrame struct {
	Path  string `json:"path"`
	Line  int    `json:"line"`
	Label string `json:"label"`
}

// UnmarshalJSON accepts both frame objects and plain strings.
func (f *StackFrame) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		*f = StackFrame{}
		return json.Unmarshal(data, &f.Label)
	}
	type plain StackFrame
	return json.Unmarshal(data, (*plain)(f))
}

// InvocationError is an error reported by the runtime: the handler returned
// an error or panicked (POST /runtime/invocation/{id}/error), the runtime
// failed to initialize (POST /runtime/init/error, Init is true), or the
// response was too large ([ErrorTypeResponseTooLarge]).
type InvocationError struct {
	// Type is the Lambda error type: errorType of the error document (for
	// aws-lambda-go the Go type name of the error, e.g. "errorString"),
	// else the Lambda-Runtime-Function-Error-Type header or trailer.
	Type string
	// Message is the errorMessage of the error document.
	Message string
	// StackTrace is the stackTrace of the error document, if any
	// (aws-lambda-go includes one for panics).
	StackTrace []StackFrame
	// RequestID is the id of the failed invocation.
	RequestID string
	// Init reports that the error was posted to /runtime/init/error.
	Init bool
	// Payload is the error document exactly as the runtime posted it (or a
	// synthesized one if the runtime sent none).
	Payload []byte
}

func (e *InvocationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Type)
	if e.Init {
		b.WriteString(" (init)")
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// ErrorType returns e.Type.
func (e *InvocationError) ErrorType() string { return e.Type }

// ErrorPayload returns e.Payload.
func (e *InvocationError) ErrorPayload() []byte { return e.Payload }

// ExitError reports a runtime process that exited while an invocation was
// in flight or before it finished initializing (Type [ErrorTypeExit]), or a
// binary that could not be started (Type [ErrorTypeInvalidEntrypoint]).
type ExitError struct {
	// Type is [ErrorTypeExit] or [ErrorTypeInvalidEntrypoint].
	Type string
	// Message is the Lambda-style message, e.g.
	// "RequestId: 5f1c... Error: Runtime exited with error: exit status 2".
	Message string
	// RequestID is the id of the affected invocation ("" for Start).
	RequestID string
	// Init reports that the process exited before it first asked for an
	// event (GET /runtime/invocation/next).
	Init bool
	// ExitCode is the exit status of the process, or -1 if it was killed by
	// a signal or never started.
	ExitCode int
	// Status describes how the process ended, e.g. "exit status 2" or
	// "signal: segmentation fault".
	Status string
	// Err is the underlying error, if any (e.g. from exec for
	// [ErrorTypeInvalidEntrypoint]).
	Err error
}

func (e *ExitError) Error() string { return e.Type + ": " + e.Message }

// ErrorType returns e.Type.
func (e *ExitError) ErrorType() string { return e.Type }

// ErrorPayload returns {"errorMessage": e.Message, "errorType": e.Type}.
func (e *ExitError) ErrorPayload() []byte { return errorDocument(e.Type, e.Message) }

// Unwrap returns e.Err.
func (e *ExitError) Unwrap() error { return e.Err }

// TimeoutError reports an invocation that did not complete before its
// deadline (the [WithTimeout] duration or the context deadline, whichever
// came first), or a handler process that did not finish initializing in time
// (Init is true). The runtime process has been killed.
type TimeoutError struct {
	// Type is [ErrorTypeTimeout].
	Type string
	// Message is the Lambda-style message, e.g.
	// "RequestId: 5f1c... Error: Task timed out after 3.00 seconds".
	Message string
	// RequestID is the id of the invocation.
	RequestID string
	// Timeout is the time the invocation (or initialization) was allowed.
	Timeout time.Duration
	// Init reports that the process timed out while initializing, before it
	// received the event.
	Init bool
}

func (e *TimeoutError) Error() string { return e.Type + ": " + e.Message }

// ErrorType returns e.Type.
func (e *TimeoutError) ErrorType() string { return e.Type }

// ErrorPayload returns {"errorMessage": e.Message, "errorType": e.Type}.
func (e *TimeoutError) ErrorPayload() []byte { return errorDocument(e.Type, e.Message) }

// Unwrap returns [context.DeadlineExceeded], so that
// errors.Is(err, context.DeadlineExceeded) holds.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

func errorDocument(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	return b
}

// parseErrorDocument builds an InvocationError from a runtime error body.
// typeHint is the Lambda-Runtime-Function-Error-Type header/trailer value.
func parseErrorDocument(body []byte, typeHint string) *InvocationError {
	e := &InvocationError{}
	var doc struct {
		Message    *string      `json:"errorMessage"`
		Type       string       `json:"errorType"`
		StackTrace []StackFrame `json:"stackTrace"`
	}
	if len(bytes.TrimSpace(body)) > 0 && json.Unmarshal(body, &doc) == nil {
		e.Type = doc.Type
		if doc.Message != nil {
			e.Message = *doc.Message
		}
		e.StackTrace = doc.StackTrace
	} else {
		e.Message = strings.TrimSpace(string(body))
	}
	if e.Type == "" {
		e.Type = typeHint
	}
	if e.Type == "" {
		e.Type = ErrorTypeUnknown
	}
	if len(bytes.TrimSpace(body)) > 0 && json.Valid(body) {
		e.Payload = bytes.Clone(body)
	} else {
		e.Payload = errorDocument(e.Type, e.Message)
	}
	return e
}

func newExitError(requestID string, init bool, status string, code int) *ExitError {
	return &ExitError{
		Type:      ErrorTypeExit,
		Message:   requestPrefix(requestID) + "Error: Runtime exited with error: " + status,
		RequestID: requestID,
		Init:      init,
		ExitCode:  code,
		Status:    status,
	}
}

func newTimeoutError(requestID string, timeout time.Duration, init bool) *TimeoutError {
	what := "Task"
	if init {
		what = "Runtime initialization"
	}
	return &TimeoutError{
		Type:      ErrorTypeTimeout,
		Message:   requestPrefix(requestID) + fmt.Sprintf("Error: %s timed out after %.2f seconds", what, timeout.Seconds()),
		RequestID: requestID,
		Timeout:   timeout,
		Init:      init,
	}
}

func requestPrefix(requestID string) string {
	if requestID == "" {
		return ""
	}
	return "RequestId: " + requestID + " "
}
