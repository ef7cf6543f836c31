package checkpointer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/smithy-go"
)

// ErrClosed is the error of a ticket whose update was still pending when the
// [Batcher] was closed, or that was enqueued after Close.
var ErrClosed = errors.New("durable: checkpointer closed; flush before closing so queued updates are sent")

// ErrInvalidCheckpointToken means the service rejected the checkpoint token
// (400 InvalidParameterValueException whose message starts with
// "Invalid Checkpoint Token"). The invocation must end with an error so that
// Lambda re-drives it with a fresh token. It is found in the chain of a
// retryable [*Error].
var ErrInvalidCheckpointToken = errors.New("durable: invalid checkpoint token; end the invocation with an error so Lambda re-drives it")

// ErrTerminal means a checkpoint response came back without a checkpoint
// token: the execution has reached a terminal state and accepts no further
// updates. Updates enqueued after that fail with it.
var ErrTerminal = errors.New("durable: the execution has reached a terminal state; it accepts no further checkpoints")

// Error is a failed call to the durable API.
//
// Retryable reports whether the invocation should end with an error so that
// Lambda re-drives it: an invalid checkpoint token, throttling or a server
// error that outlived the invocation's deadline, a network error, or a
// cancelled invocation context. A non-retryable Error is a 4xx answer the
// service will give again; the execution must fail.
type Error struct {
	// Op is the API operation: "CheckpointDurableExecution" or "GetDurableExecutionState".
	Op string
	// Retryable reports whether Lambda should re-drive the invocation.
	Retryable bool
	// Updates is the number of updates the failed call carried.
	Updates int
	// Err is the cause.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("durable: ")
	b.WriteString(e.Op)
	if e.Updates > 0 {
		b.WriteString(" with ")
		b.WriteString(strconv.Itoa(e.Updates))
		b.WriteString(" updates")
	}
	if e.Retryable {
		b.WriteString(" failed; end the invocation with an error so Lambda retries it")
	} else {
		b.WriteString(" was rejected; the execution must fail")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

const (
	opCheckpoint = "CheckpointDurableExecution"
	opGetState   = "GetDurableExecutionState"
)

// class is what to do about a failed call.
type class int

const (
	transient    class = iota // retry with backoff while the deadline allows
	invalidToken              // stop: retryable by re-driving the invocation
	rejected                  // stop: the execution must fail
)

// classify sorts a call error by the rules both AWS SDKs apply
// (protocol.md §3.1): the stale-token message is retryable by re-drive,
// 429 and 5xx are transient, KMS errors and any other 4xx fail the execution,
// and errors that never reached the service (network) are transient.
func classify(err error) class {
	status := 0
	var se interface{ HTTPStatusCode() int }
	if errors.As(err, &se) {
		status = se.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		switch {
		case code == "InvalidParameterValueException" && strings.HasPrefix(ae.ErrorMessage(), "Invalid Checkpoint Token"):
			return invalidToken
		case strings.HasPrefix(code, "KMS"):
			return rejected
		case status == 429 || status >= 500:
			return transient
		case status >= 400:
			return rejected
		case code == "TooManyRequestsException" || code == "ServiceException" ||
			strings.Contains(code, "Throttl") || ae.ErrorFault() == smithy.FaultServer:
			return transient
		}
		return rejected
	}
	switch {
	case status == 429 || status >= 500:
		return transient
	case status >= 400:
		return rejected
	}
	// The SDK refused the input before sending it: sending it again changes nothing.
	var ipe smithy.InvalidParamsError
	var pre *smithy.ParamRequiredError
	var ser *smithy.SerializationError
	if errors.As(err, &ipe) || errors.As(err, &pre) || errors.As(err, &ser) {
		return rejected
	}
	return transient
}

// tokenError puts ErrInvalidCheckpointToken in the chain of the service's error.
type tokenError struct{ cause error }

func (e *tokenError) Error() string   { return e.cause.Error() }
func (e *tokenError) Unwrap() []error { return []error{ErrInvalidCheckpointToken, e.cause} }

// failure builds the error of a call that will not be retried. ctx is the
// context the call ran under; when it is done its error joins the chain so
// that errors.Is(err, context.Canceled) and DeadlineExceeded work.
func failure(ctx context.Context, op string, updates int, err error, c class) *Error {
	switch c {
	case invalidToken:
		return &Error{Op: op, Retryable: true, Updates: updates, Err: &tokenError{cause: err}}
	case rejected:
		return &Error{Op: op, Retryable: false, Updates: updates, Err: err}
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return &Error{Op: op, Retryable: true, Updates: updates, Err: err}
}
