package durable

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
)

// ErrSuspended is what every durable operation returns when the execution
// must wait for the service: a wait that has not elapsed, a retry that is not
// due, an open callback, a running chained invoke. Return it from the handler
// like any other error; the middleware answers PENDING and Lambda invokes the
// function again when there is progress to make. Test for it with errors.Is.
var ErrSuspended = ctxstate.ErrSuspended

// ErrNoExecution is returned by durable operations called with a context that
// carries no durable execution. Wrap the handler with middleware.Durable and
// pass the handler's ctx, or a context derived from it.
var ErrNoExecution = ctxstate.ErrNoExecution

// ErrOperationInStep is returned when a durable operation is started with the
// context of a step function. Use [Child] to group durable operations.
var ErrOperationInStep = ctxstate.ErrOperationInStep

// ErrConcurrentOperation is returned when two operations run at once on one
// durable context. Use [Go], [Map] or [Parallel] for concurrent work.
var ErrConcurrentOperation = ctxstate.ErrConcurrentOperation

// NonDeterminismError reports that the code asked for a different operation
// than the one recorded at the same position. It fails the execution.
type NonDeterminismError = ctxstate.NonDeterminismError

// RecordedError is an error as the history records it: the service's
// ErrorObject. The errors of the operations ([*StepError], [*ChildError],
// [*CallbackError], [*InvokeError]) embed it, so they read the same on the
// invocation that saw the failure and on every replay.
type RecordedError struct {
	ErrorType    string
	ErrorMessage string
	ErrorData    string
	StackTrace   []string
}

// ErrorObject returns the error in the form the service records; an
// execution that fails with the error records this.
func (r RecordedError) ErrorObject() types.ErrorObject {
	return errorObjectOf(r.ErrorType, r.ErrorMessage, r.ErrorData, r.StackTrace)
}

func recordedFrom(obj *types.ErrorObject) RecordedError {
	if obj == nil {
		return RecordedError{}
	}
	return RecordedError{ErrorType: deref(obj.ErrorType), ErrorMessage: deref(obj.ErrorMessage), ErrorData: deref(obj.ErrorData), StackTrace: obj.StackTrace}
}

// StepError is the error of a step that failed for good: its attempts ran out
// or its retry policy declined to retry. It carries what was recorded, so it
// is the same on the invocation that ran the step and on every replay.
// Unwrap returns the step function's error: the original on the invocation
// that ran it, and on replay an error rebuilt from the record when its type
// was registered with [RegisterError].
type StepError struct {
	// Name and OperationID identify the step.
	Name        string
	OperationID string
	// RecordedError is the step function's error as recorded: ErrorType
	// is its Go type name, such as "main.TransientError", ErrorData its
	// JSON encoding for registered types.
	RecordedError
	// Attempt is the attempt that failed last (1-based).
	Attempt int
	cause   error
}

func (e *StepError) Error() string {
	name := e.Name
	if name == "" {
		name = e.OperationID
	}
	return fmt.Sprintf("durable: step %q failed on attempt %d: %s", name, e.Attempt, e.ErrorMessage)
}

// Unwrap returns the step function's error, when it is known.
func (e *StepError) Unwrap() error { return e.cause }

// PanicError is the error of a step function that panicked. The panic is
// recovered: it is a failed attempt like any other, fed to the retry policy.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("durable: step function panicked: %v", e.Value)
}

// StepInterruptedError is the error of an at-most-once step found started
// but not finished: the invocation that ran it ended mid-step, so whether its
// effect happened is unknown. It is fed to the retry policy.
type StepInterruptedError struct {
	Name        string
	OperationID string
}

func (e *StepInterruptedError) Error() string {
	return fmt.Sprintf("durable: at-most-once step %q was interrupted: the invocation running it ended before it finished", e.Name)
}

// errorRegistry maps recorded ErrorType names to constructors of registered types.
var errorRegistry sync.Map // string -> func(data string) error

// RegisterError registers the error type E so that a step error of that type
// recorded in one invocation is rebuilt on replay: errors.As finds an E in the
// [*StepError] of every invocation. E is recorded as its JSON encoding, so
// its exported fields survive; E's Error method should depend only on them.
// Call it at init time, once per type.
func RegisterError[E error]() {
	t := reflect.TypeFor[E]()
	errorRegistry.Store(typeName(t), func(data string) error {
		var v reflect.Value
		if t.Kind() == reflect.Pointer {
			v = reflect.New(t.Elem())
		} else {
			v = reflect.New(t)
		}
		if data != "" {
			if err := json.Unmarshal([]byte(data), v.Interface()); err != nil {
				return nil
			}
		}
		if t.Kind() != reflect.Pointer {
			v = v.Elem()
		}
		e, _ := v.Interface().(error)
		return e
	})
}

func rebuildError(errorType, data string) error {
	if f, ok := errorRegistry.Load(errorType); ok {
		return f.(func(string) error)(data)
	}
	return nil
}

// ErrorTypeName returns the name recorded as ErrorType for err: its Go type,
// package-qualified, without the pointer star ("main.TransientError").
func ErrorTypeName(err error) string {
	if err == nil {
		return ""
	}
	return typeName(reflect.TypeOf(err))
}

func typeName(t reflect.Type) string {
	return strings.TrimLeft(t.String(), "*")
}

// errorObjectFor builds the recorded form of a step function's error.
func errorObjectFor(err error) types.ErrorObject {
	var rec interface{ ErrorObject() types.ErrorObject }
	if errors.As(err, &rec) {
		return rec.ErrorObject()
	}
	var data string
	var stack []string
	var pe *PanicError
	if errors.As(err, &pe) {
		stack = strings.Split(strings.TrimSpace(pe.Stack), "\n")
	}
	name := ErrorTypeName(err)
	if _, ok := errorRegistry.Load(name); ok {
		if b, jerr := json.Marshal(err); jerr == nil {
			data = string(b)
		}
	}
	return errorObjectOf(name, err.Error(), data, stack)
}

func errorObjectOf(errorType, message, data string, stack []string) types.ErrorObject {
	obj := types.ErrorObject{ErrorType: &errorType, ErrorMessage: &message, StackTrace: stack}
	if data != "" {
		obj.ErrorData = &data
	}
	return obj
}

func stepErrorFrom(obj *types.ErrorObject, name, id string, attempt int, cause error) *StepError {
	e := &StepError{Name: name, OperationID: id, RecordedError: recordedFrom(obj), Attempt: attempt, cause: cause}
	if e.cause == nil {
		e.cause = rebuildError(e.ErrorType, e.ErrorData)
	}
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
