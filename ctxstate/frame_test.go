package ctxstate_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
)

func TestWireIDMatchesTheTypeScriptSDK(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	for path, want := range map[string]string{"1": "c4ca4238a0b92382", "2": "c81e728d9d4c2f63", "1-1": "ea66c06c1e1c05fa"} {
		got := ctxstate.WireID(path)
		if got != want || !valid.MatchString(got) {
			t.Errorf("WireID(%q) = %q, want %q", path, got, want)
		}
	}
}

func newExec(t *testing.T, ops ...types.Operation) *ctxstate.Execution {
	t.Helper()
	api := fakeapi.New("null")
	e := ctxstate.New(context.Background(), ctxstate.Config{API: api, ARN: api.ARN(), Token: api.Token(), Operations: ops})
	t.Cleanup(e.Close)
	return e
}

func str(s string) *string { return &s }

func TestFramesNumberOperationsByPosition(t *testing.T) {
	e := newExec(t)
	root := e.Root()
	a, err := root.Begin(types.OperationTypeContext, "RunInChildContext", "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Begin(types.OperationTypeStep, "Step", "b"); !errors.Is(err, ctxstate.ErrConcurrentOperation) {
		t.Fatalf("second operation on a busy frame: %v", err)
	}
	child := root.Child(a)
	c1, _ := child.Claim(types.OperationTypeStep, "Step", "c1")
	c2, _ := child.Claim(types.OperationTypeStep, "Step", "c2")
	a.End()
	b, err := root.Begin(types.OperationTypeStep, "Step", "b")
	if err != nil {
		t.Fatal(err)
	}
	b.End()
	for _, c := range []struct {
		op           *ctxstate.Op
		path, parent string
	}{
		{a, "1", ""}, {c1, "1-1", a.ID}, {c2, "1-2", a.ID}, {b, "2", ""},
	} {
		if c.op.Path != c.path || c.op.ID != ctxstate.WireID(c.path) || c.op.ParentID != c.parent {
			t.Errorf("%s: path %s id %s parent %s", c.op.Name, c.op.Path, c.op.ID, c.op.ParentID)
		}
	}
	sf := root.StepFrame(ctxstate.StepInfo{ID: b.ID, Name: "b", Attempt: 1})
	if _, err := sf.Begin(types.OperationTypeWait, "Wait", ""); !errors.Is(err, ctxstate.ErrOperationInStep) {
		t.Fatalf("operation in a step frame: %v", err)
	}
}

func TestReplayCheckAndReplayMode(t *testing.T) {
	e := newExec(t, types.Operation{Id: str(ctxstate.WireID("1")), Type: types.OperationTypeStep, SubType: str("Step"), Name: str("charge"), Status: types.OperationStatusSucceeded})
	root := e.Root()
	if !root.Replaying() {
		t.Fatal("a frame whose next operation is recorded must be replaying")
	}
	op, err := root.Begin(types.OperationTypeStep, "Step", "charge")
	if err != nil || op.Recorded == nil {
		t.Fatalf("recorded op not found: %v", err)
	}
	op.End()
	if root.Replaying() {
		t.Fatal("the frame stays replaying past the last recorded operation")
	}

	e2 := newExec(t, types.Operation{Id: str(ctxstate.WireID("1")), Type: types.OperationTypeStep, SubType: str("Step"), Name: str("charge"), Status: types.OperationStatusSucceeded})
	_, err = e2.Root().Begin(types.OperationTypeWait, "Wait", "charge")
	var nd *ctxstate.NonDeterminismError
	if !errors.As(err, &nd) || nd.Position != "1" || nd.Recorded.Type != "STEP" || nd.Requested.Type != "WAIT" {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(e2.Fatal(), err) && e2.Fatal() != err {
		t.Fatalf("the execution did not record the fatal error: %v", e2.Fatal())
	}
}

func TestSuspendCancelsTheExecutionContext(t *testing.T) {
	e := newExec(t)
	ctx := e.Context()
	err := e.Suspend("waiting for a callback")
	if !errors.Is(err, ctxstate.ErrSuspended) || !e.Suspended() {
		t.Fatalf("got %v", err)
	}
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), ctxstate.ErrSuspended) {
		t.Fatalf("cause %v", context.Cause(ctx))
	}
	if f, ok := ctxstate.FromContext(ctx); !ok || f != e.Root() {
		t.Fatal("the execution context does not carry the root frame")
	}
}
