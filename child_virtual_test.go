package durable_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
)

func TestVirtualChildRecordsNoContext(t *testing.T) {
	api := fakeapi.New(`null`)
	runs := 0
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Child(ctx, "group", func(ctx context.Context) (string, error) {
			runs++
			return durable.Step(ctx, "inner", func(context.Context) (string, error) { return "v", nil })
		}, durable.Virtual())
	})
	for range 2 {
		if out, err := api.Invoke(context.Background(), h); err != nil || out.Status != "SUCCEEDED" || *out.Result != `"v"` {
			t.Fatalf("%+v %v", out, err)
		}
	}
	ups := api.Updates()
	if len(ups) != 2 {
		t.Fatalf("updates %v, want only the inner step's START and SUCCEED", actions(ups))
	}
	for _, u := range ups {
		if u.Type != types.OperationTypeStep || u.ParentId != nil || *u.Id != ctxstate.WireID("1-1") {
			t.Fatalf("inner step recorded as %s id %s parent %v", u.Type, *u.Id, u.ParentId)
		}
	}
	if runs != 2 {
		t.Fatalf("the virtual context ran %d times, want once per invocation", runs)
	}
	if api.Operation("inner").Status != types.OperationStatusSucceeded {
		t.Fatal("inner step not recorded")
	}
}
