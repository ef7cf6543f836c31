package checkpointer_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/durablectx/durable/checkpointer"
)

var fastBackoff = checkpointer.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond}

// httpError is err as the SDK returns it for an HTTP answer with status.
func httpError(status int, err error) error {
	return &smithy.OperationError{ServiceID: "Lambda", OperationName: "CheckpointDurableExecution", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		RequestID:     "req-1",
	}}
}

func apiError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

func TestTransientErrorsAreRetried(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"throttling", apiError("TooManyRequestsException", "Rate exceeded")},
		{"throttling over HTTP", httpError(429, &types.TooManyRequestsException{Message: ptr("Rate exceeded")})},
		{"ServiceException", apiError("ServiceException", "internal")},
		{"HTTP 503 without a code", httpError(503, errors.New("service unavailable"))},
		{"HTTP 500 with an unknown code", httpError(500, apiError("InternalFailure", "oops"))},
		{"server fault", &smithy.GenericAPIError{Code: "Whatever", Fault: smithy.FaultServer}},
		{"network", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAPI{fail: func(n int) error {
				if n < 2 {
					return tt.err
				}
				return nil
			}}
			b := newBatcher(t, f, checkpointer.Config{Linger: long, Backoff: fastBackoff})
			if err := b.Enqueue(step("a", types.OperationActionStart)).Wait(testCtx(t)); err != nil {
				t.Fatalf("Wait = %v, want success after retries", err)
			}
			attempts, calls, _ := f.snapshot()
			if len(attempts) != 3 || len(calls) != 1 {
				t.Fatalf("%d requests, %d accepted; want 3 and 1", len(attempts), len(calls))
			}
			for _, a := range attempts {
				if a.ClientToken != attempts[0].ClientToken || a.Token != "tok0" {
					t.Errorf("retry sent (%s, %s), want the first request's (%s, tok0)", a.ClientToken, a.Token, attempts[0].ClientToken)
				}
			}
			if s := b.Stats(); s.Calls != 3 || s.Updates != 1 {
				t.Errorf("Stats = %+v, want 3 calls and 1 update", s)
			}
			if err := b.Err(); err != nil {
				t.Errorf("Err = %v", err)
			}
		})
	}
}

func TestLostAnswerIsRepliedFromTheIdempotencyCache(t *testing.T) {
	f := &fakeAPI{lose: func(n int) bool { return n == 0 }}
	b := newBatcher(t, f, checkpointer.Config{Linger: long, Backoff: fastBackoff})
	ctx := testCtx(t)
	if err := b.Enqueue(step("a", types.OperationActionStart)).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Enqueue(step("a", types.OperationActionSucceed)).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	attempts, calls, applied := f.snapshot()
	if len(attempts) != 3 || len(calls) != 2 || len(applied) != 2 {
		t.Fatalf("%d requests, %d accepted, applied %v; want 3, 2 and each update once", len(attempts), len(calls), applied)
	}
	if calls[1].Token != "tok1" {
		t.Fatalf("second call used %q, want tok1", calls[1].Token)
	}
}

func TestFailuresAreSticky(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		retryable  bool
		staleToken bool
	}{
		{"invalid checkpoint token", apiError("InvalidParameterValueException", "Invalid Checkpoint Token: expired"), true, true},
		{"invalid token over HTTP", httpError(400, &types.InvalidParameterValueException{Message: ptr("Invalid Checkpoint Token")}), true, true},
		{"lower-case token message is another 4xx", apiError("InvalidParameterValueException", "Invalid checkpoint token"), false, false},
		{"invalid parameter", apiError("InvalidParameterValueException", "Cannot checkpoint multiple operations with the same ID."), false, false},
		{"not found", httpError(404, &types.ResourceNotFoundException{Message: ptr("no execution")}), false, false},
		{"KMS", httpError(502, apiError("KMSAccessDeniedException", "denied")), false, false},
		{"HTTP 403 without a code", httpError(403, errors.New("forbidden")), false, false},
		{"input refused by the SDK", &smithy.OperationError{Err: smithy.NewErrParamRequired("Id")}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAPI{fail: func(int) error { return tt.err }}
			b := newBatcher(t, f, checkpointer.Config{Linger: long, Backoff: fastBackoff})
			ctx := testCtx(t)
			queued := b.Enqueue(step("a", types.OperationActionStart))
			err := b.Enqueue(step("a", types.OperationActionSucceed)).Wait(ctx)
			var cerr *checkpointer.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Wait = %v, want *Error", err)
			}
			if cerr.Retryable != tt.retryable || cerr.Op != "CheckpointDurableExecution" || cerr.Updates != 2 {
				t.Errorf("got %+v, want Retryable=%v for a call of 2 updates", cerr, tt.retryable)
			}
			if errors.Is(err, checkpointer.ErrInvalidCheckpointToken) != tt.staleToken {
				t.Errorf("errors.Is(err, ErrInvalidCheckpointToken) = %v, want %v", !tt.staleToken, tt.staleToken)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("cause lost: %v", err)
			}
			for name, got := range map[string]error{
				"Err":          b.Err(),
				"queued":       queued.Wait(ctx),
				"later ticket": b.Enqueue(step("b", types.OperationActionStart)).Wait(ctx),
				"Flush":        b.Flush(ctx),
			} {
				if got != err {
					t.Errorf("%s = %v, want the sticky error", name, got)
				}
			}
			if attempts, _, _ := f.snapshot(); len(attempts) != 1 {
				t.Errorf("%d requests, want 1 (no retry)", len(attempts))
			}
		})
	}
}

func TestDeadlineStopsRetries(t *testing.T) {
	throttled := apiError("TooManyRequestsException", "Rate exceeded")
	f := &fakeAPI{fail: func(int) error { return throttled }}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	b := checkpointer.New(ctx, checkpointer.Config{API: f, ExecutionARN: testARN, Token: "tok0", Linger: long,
		Backoff: checkpointer.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	defer b.Close()
	start := time.Now()
	err := b.Enqueue(step("a", types.OperationActionStart)).Wait(testCtx(t))
	var cerr *checkpointer.Error
	if !errors.As(err, &cerr) || !cerr.Retryable || !errors.Is(err, throttled) {
		t.Fatalf("Wait = %v, want a retryable *Error wrapping the throttling error", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("gave up after %v", took)
	}
	if attempts, _, _ := f.snapshot(); len(attempts) < 2 {
		t.Errorf("%d requests, want retries", len(attempts))
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		err  *checkpointer.Error
		want string
	}{
		{&checkpointer.Error{Op: "CheckpointDurableExecution", Retryable: true, Updates: 3, Err: errors.New("boom")},
			"durable: CheckpointDurableExecution with 3 updates failed; end the invocation with an error so Lambda retries it: boom"},
		{&checkpointer.Error{Op: "GetDurableExecutionState", Err: errors.New("no")},
			"durable: GetDurableExecutionState was rejected; the execution must fail: no"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
