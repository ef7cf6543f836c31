package durable_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
)

func TestInvokeStartsSuspendsAndReplaysTheResult(t *testing.T) {
	api := fakeapi.New(`{"id":"o-1","items":3}`)
	h := wrap(api, func(ctx context.Context, o order) (receipt, error) {
		return durable.Invoke[receipt](ctx, "charge", "payments:live", o, durable.WithTenantID("tenant-7"))
	})
	invokeStatus(t, api, h, "PENDING")
	ups := api.Updates()
	if len(ups) != 1 {
		t.Fatalf("updates %v", typedActions(ups))
	}
	u := ups[0]
	if u.Type != types.OperationTypeChainedInvoke || u.Action != types.OperationActionStart || deref(u.SubType) != "ChainedInvoke" ||
		deref(u.Name) != "charge" || u.ParentId != nil || deref(u.Id) != ctxstate.WireID("1") {
		t.Fatalf("update %s %s %s %q", u.Type, u.Action, deref(u.SubType), deref(u.Name))
	}
	if deref(u.Payload) != `{"id":"o-1","items":3}` {
		t.Fatalf("payload %s", deref(u.Payload))
	}
	if o := u.ChainedInvokeOptions; o == nil || deref(o.FunctionName) != "payments:live" || deref(o.TenantId) != "tenant-7" {
		t.Fatalf("ChainedInvokeOptions %+v", o)
	}
	if op := api.Operation("charge"); op == nil || op.Status != types.OperationStatusStarted {
		t.Fatal("the invoke's START was not durable when the function suspended")
	}
	invokeStatus(t, api, h, "PENDING") // the target is still running
	must(t, api.Complete("charge", `{"orderId":"o-1","total":30}`, nil))
	for range 2 {
		out := invokeStatus(t, api, h, "SUCCEEDED")
		if *out.Result != `{"orderId":"o-1","total":30}` {
			t.Fatalf("result %s", *out.Result)
		}
	}
	if n := len(api.Updates()); n != 1 {
		t.Fatalf("replays sent %d updates", n-1)
	}
}

func TestInvokeWithoutTenantOmitsIt(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Invoke[string](ctx, "", "echo", "hi")
	})
	invokeStatus(t, api, h, "PENDING")
	u := api.Updates()[0]
	if u.Name != nil || u.ChainedInvokeOptions.TenantId != nil || deref(u.Payload) != `"hi"` {
		t.Fatalf("update name %v tenant %v payload %s", u.Name, u.ChainedInvokeOptions.TenantId, deref(u.Payload))
	}
}

type upperSerdes struct{}

func (upperSerdes) Serialize(v any) (string, error) { return strings.ToUpper(fmt.Sprint(v)), nil }
func (upperSerdes) Deserialize(data string, ptr any) error {
	*ptr.(*string) = strings.ToLower(data)
	return nil
}

func TestInvokeSerdes(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Invoke[string](ctx, "shout", "echo", "hello",
			durable.WithPayloadSerdes(upperSerdes{}), durable.WithSerdes(upperSerdes{}))
	})
	invokeStatus(t, api, h, "PENDING")
	if p := deref(api.Updates()[0].Payload); p != "HELLO" {
		t.Fatalf("payload %s", p)
	}
	must(t, api.Complete("shout", "HELLO BACK", nil))
	if out := invokeStatus(t, api, h, "SUCCEEDED"); *out.Result != `"hello back"` {
		t.Fatalf("result %s", *out.Result)
	}
}

func TestInvokeTargetFailures(t *testing.T) {
	targetErr := &types.ErrorObject{ErrorType: strp("OrderError"), ErrorMessage: strp("no stock"), ErrorData: strp("{}"), StackTrace: []string{"at x"}}
	for _, tc := range []struct {
		status types.OperationStatus
		obj    *types.ErrorObject
		msg    string
	}{
		{types.OperationStatusFailed, targetErr, `durable: chained invoke "order" of orders failed: OrderError: no stock`},
		{types.OperationStatusTimedOut, nil, `durable: chained invoke "order" of orders timed out`},
		{types.OperationStatusStopped, &types.ErrorObject{ErrorMessage: strp("Execution stopped by user request")}, `durable: chained invoke "order" of orders was stopped: Execution stopped by user request`},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			api := fakeapi.New(`null`)
			var seen []*durable.InvokeError
			h := wrap(api, func(ctx context.Context, _ any) (string, error) {
				_, err := durable.Invoke[string](ctx, "order", "orders", nil)
				var ie *durable.InvokeError
				if errors.As(err, &ie) {
					seen = append(seen, ie)
				}
				return "", err
			})
			invokeStatus(t, api, h, "PENDING")
			if tc.status == types.OperationStatusFailed {
				must(t, api.Complete("order", "", tc.obj))
			} else {
				must(t, api.Finish("order", tc.status, nil, tc.obj))
			}
			for range 2 {
				out := invokeStatus(t, api, h, "FAILED")
				if tc.obj != nil && deref(out.Error.ErrorMessage) != deref(tc.obj.ErrorMessage) {
					t.Fatalf("execution error %s", errMsg(out))
				}
				if tc.obj == nil && deref(out.Error.ErrorType) != "durable.InvokeError" {
					t.Fatalf("execution error %s", errMsg(out))
				}
			}
			if len(seen) != 2 || !reflect.DeepEqual(seen[0], seen[1]) {
				t.Fatalf("errors %+v", seen)
			}
			e := seen[0]
			if e.Status != tc.status || e.FunctionName != "orders" || e.Name != "order" || e.Error() != tc.msg {
				t.Fatalf("error %+v: %q", e, e.Error())
			}
			if tc.obj == targetErr && (e.ErrorType != "OrderError" || e.ErrorData != "{}" || len(e.StackTrace) != 1) {
				t.Fatalf("target error not kept: %+v", e)
			}
		})
	}
}

func TestInvokeMisuse(t *testing.T) {
	if _, err := durable.Invoke[int](context.Background(), "x", "f", nil); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatalf("without an execution: %v", err)
	}
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		for _, tc := range []struct {
			fn    string
			input any
			opts  []durable.InvokeOption
			want  string
		}{
			{"", nil, nil, "function name"},
			{strings.Repeat("f", 171), nil, nil, "function name"},
			{"f", nil, []durable.InvokeOption{durable.WithTenantID(strings.Repeat("t", 257))}, "tenant id"},
			{"f", make(chan int), nil, "cannot serialize the input"},
			{"f", strings.Repeat("x", durable.MaxPayloadBytes), nil, "limit of one operation"},
		} {
			if _, err := durable.Invoke[int](ctx, "bad", tc.fn, tc.input, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
				return "", fmt.Errorf("Invoke(%.10q, %T): %v, want an error about %s", tc.fn, tc.input, err, tc.want)
			}
		}
		return "ok", nil
	})
	invokeStatus(t, api, h, "SUCCEEDED")
	if n := len(api.Calls()); n != 0 {
		t.Fatalf("%d checkpoint calls for refused invokes", n)
	}
	// Refused invokes claim no position.
	api = fakeapi.New(`null`)
	h = wrap(api, func(ctx context.Context, _ any) (int, error) {
		if _, err := durable.Invoke[int](ctx, "bad", "f", make(chan int)); err == nil {
			return 0, errors.New("accepted")
		}
		return durable.Invoke[int](ctx, "good", "f", 1)
	})
	invokeStatus(t, api, h, "PENDING")
	if id := deref(api.Updates()[0].Id); id != ctxstate.WireID("1") {
		t.Fatalf("the first accepted invoke has id %s", id)
	}
}
