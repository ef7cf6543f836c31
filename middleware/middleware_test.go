package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/checkpointer"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

func TestNotADurableEnvelope(t *testing.T) {
	h := middleware.Wrap(adapters.Handler(func(ctx context.Context, in map[string]any) (string, error) { return "x", nil }),
		middleware.WithAPI(fakeapi.New("null")))
	for _, payload := range []string{`{"orderId":"42"}`, `"hello"`, `[1,2]`, ``} {
		_, err := h.Invoke(context.Background(), []byte(payload))
		if !errors.Is(err, middleware.ErrNotDurable) || !strings.Contains(err.Error(), "not configured as durable") {
			t.Errorf("payload %q: got %v", payload, err)
		}
	}
}

func TestEnvelopeTimestampsAreMilliseconds(t *testing.T) {
	env, err := middleware.DecodeEnvelope([]byte(`{"DurableExecutionArn":"arn:x","CheckpointToken":"t",
		"InitialExecutionState":{"Operations":[{"Id":"e","Type":"EXECUTION","Status":"STARTED","StartTimestamp":1767225600123,
		"ExecutionDetails":{"InputPayload":"{}"}},{"Id":"w","Type":"WAIT","Status":"STARTED","StartTimestamp":"2026-01-01T00:00:00Z",
		"WaitDetails":{"ScheduledEndTimestamp":1767229200400}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	op := env.InitialExecutionState.Operations[0]
	if got := op.StartTimestamp.UnixMilli(); got != 1767225600123 {
		t.Fatalf("start %d", got)
	}
	w := env.InitialExecutionState.Operations[1]
	if got := w.WaitDetails.ScheduledEndTimestamp.UnixMilli(); got != 1767229200400 {
		t.Fatalf("scheduled end %d", got)
	}
	if _, err := middleware.DecodeEnvelope([]byte(`{"DurableExecutionArn":"arn:x","CheckpointToken":"t","InitialExecutionState":{"Operations":[{"StartTimestamp":true}]}}`)); err == nil {
		t.Fatal("a malformed timestamp was accepted")
	}
}

func TestLargeResultIsCheckpointedOnTheExecution(t *testing.T) {
	api := fakeapi.New("null")
	big := strings.Repeat("x", middleware.LambdaResponseLimit)
	h := middleware.Wrap(adapters.Handler(func(ctx context.Context, _ any) (string, error) { return big, nil }), middleware.WithAPI(api))
	out, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "SUCCEEDED" || out.Result == nil || *out.Result != "" {
		t.Fatalf("got status %s result len %d", out.Status, len(deref(out.Result)))
	}
	ups := api.Updates()
	if len(ups) != 1 || ups[0].Type != types.OperationTypeExecution || ups[0].Action != types.OperationActionSucceed ||
		!strings.HasPrefix(*ups[0].Id, "execution-result-") || len(*ups[0].Payload) != len(big)+2 {
		t.Fatalf("updates %+v", ups)
	}
}

func TestHandlerErrorFailsTheExecution(t *testing.T) {
	api := fakeapi.New("null")
	h := middleware.Wrap(adapters.Handler(func(ctx context.Context, _ any) (string, error) {
		return "", &json.UnsupportedValueError{Str: "NaN"}
	}), middleware.WithAPI(api))
	out, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "FAILED" || *out.Error.ErrorType != "json.UnsupportedValueError" || !strings.Contains(*out.Error.ErrorMessage, "NaN") {
		t.Fatalf("got %+v", out)
	}
}

func TestReturnedSuspensionAnswersPending(t *testing.T) {
	api := fakeapi.New("null")
	h := middleware.Wrap(adapters.Handler(func(ctx context.Context, _ any) (string, error) {
		return "", durable.ErrSuspended
	}), middleware.WithAPI(api))
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "PENDING" {
		t.Fatalf("got %+v %v", out, err)
	}
}

// rejecting fails every checkpoint call with the given error.
type rejecting struct {
	*fakeapi.API
	err error
}

func (r rejecting) CheckpointDurableExecution(ctx context.Context, in *lambdaapi.CheckpointDurableExecutionInput, o ...func(*lambdaapi.Options)) (*lambdaapi.CheckpointDurableExecutionOutput, error) {
	return nil, r.err
}

func TestCheckpointFailures(t *testing.T) {
	step := adapters.Handler(func(ctx context.Context, _ any) (int, error) {
		return durable.Step(ctx, "s", func(context.Context) (int, error) { return 1, nil })
	})
	t.Run("invalid token ends the invocation with an error", func(t *testing.T) {
		api := fakeapi.New("null")
		h := middleware.Wrap(step, middleware.WithAPI(rejecting{api, &smithy.GenericAPIError{Code: "InvalidParameterValueException", Message: "Invalid Checkpoint Token: stale"}}))
		_, err := h.Invoke(context.Background(), api.Envelope())
		if !errors.Is(err, checkpointer.ErrInvalidCheckpointToken) {
			t.Fatalf("got %v, want an invocation error wrapping ErrInvalidCheckpointToken", err)
		}
	})
	t.Run("other client errors fail the execution", func(t *testing.T) {
		api := fakeapi.New("null")
		h := middleware.Wrap(step, middleware.WithAPI(rejecting{api, &smithy.GenericAPIError{Code: "InvalidParameterValueException", Message: "Invalid parent operation id."}}))
		b, err := h.Invoke(context.Background(), api.Envelope())
		if err != nil {
			t.Fatal(err)
		}
		var out middleware.Output
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if out.Status != "FAILED" || !strings.Contains(string(b), "Invalid parent operation id.") {
			t.Fatalf("got %s", b)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
