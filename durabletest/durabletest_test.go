package durabletest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/durabletest"
	"github.com/durablectx/durable/local"
)

type order struct {
	ID    string   `json:"id"`
	Items []string `json:"items"`
}

type receipt struct {
	Reserved []string `json:"reserved"`
	Approver string   `json:"approver"`
	Tracking string   `json:"tracking"`
}

type approval struct {
	By string `json:"by"`
}

// process uses every kind of operation the package must drive.
func process(ctx context.Context, o order) (receipt, error) {
	res, err := durable.Map(ctx, "reserve", o.Items, func(ctx context.Context, item string, _ int) (string, error) {
		return durable.Step(ctx, "reserve "+item, func(ctx context.Context) (string, error) { return "r-" + item, nil })
	})
	if err != nil {
		return receipt{}, err
	}
	if _, err := durable.Step(ctx, "charge", func(ctx context.Context) (int, error) {
		if durable.StepAttempt(ctx) < 3 {
			return 0, errors.New("declined")
		}
		return 1, nil
	}, durable.WithRetry(durable.FixedRetry(5, time.Hour))); err != nil {
		return receipt{}, err
	}
	a, err := durable.WaitForCallback[approval](ctx, "approval", func(ctx context.Context, id string) error { return nil },
		durable.WithTimeout(48*time.Hour))
	if err != nil {
		return receipt{}, err
	}
	if err := durable.Wait(ctx, "cool-off", 7*24*time.Hour); err != nil {
		return receipt{}, err
	}
	tracking, err := durable.Child(ctx, "ship", func(ctx context.Context) (string, error) {
		return durable.Step(ctx, "label", func(ctx context.Context) (string, error) { return "TRK-" + o.ID, nil })
	})
	if err != nil {
		return receipt{}, err
	}
	return receipt{Reserved: res.Values(), Approver: a.By, Tracking: tracking}, nil
}

func TestRun(t *testing.T) {
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	began := time.Now()
	res := durabletest.Run(t, process, order{ID: "o-1", Items: []string{"a", "b"}},
		durabletest.WithCallbackResult("approval", approval{By: "dana"}),
		durabletest.WithStartTime(start))
	if res.Status != durabletest.Succeeded {
		t.Fatal(res)
	}
	if res.Output.Approver != "dana" || res.Output.Tracking != "TRK-o-1" || strings.Join(res.Output.Reserved, ",") != "r-a,r-b" {
		t.Errorf("output %+v", res.Output)
	}
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("a week of virtual time took %s of real time", took)
	}
	first, last := res.History[0], res.History[len(res.History)-1]
	if !aws.ToTime(first.EventTimestamp).Equal(start) {
		t.Errorf("started at %s, want %s", aws.ToTime(first.EventTimestamp), start)
	}
	if d := aws.ToTime(last.EventTimestamp).Sub(start); d < 7*24*time.Hour+2*time.Hour {
		t.Errorf("ended %s after the start, want a week and two retry hours", d)
	}

	charge := res.Operation("charge")
	if charge == nil || charge.Attempts != 3 || charge.Status != types.OperationStatusSucceeded || charge.Type != types.OperationTypeStep {
		t.Fatalf("charge: %+v", charge)
	}
	var n int
	if err := charge.Decode(&n); err != nil || n != 1 {
		t.Errorf("charge result %q: %d %v", charge.Result, n, err)
	}
	if m := res.Operation("reserve"); m == nil || m.SubType != "Map" || m.Status != types.OperationStatusSucceeded {
		t.Errorf("reserve: %+v", m)
	}
	if w := res.Operation("cool-off"); w == nil || w.Type != types.OperationTypeWait || w.Status != types.OperationStatusSucceeded {
		t.Errorf("cool-off: %+v", w)
	}
	label := res.Operation("label")
	ship := res.Operation("ship")
	if label == nil || ship == nil || label.ParentID != ship.ID || ship.SubType != "RunInChildContext" {
		t.Errorf("label %+v in ship %+v", label, ship)
	}
	if cb := res.Operation("approval create callback id"); cb == nil || cb.Type != types.OperationTypeCallback || cb.Result != `{"by":"dana"}` {
		t.Errorf("callback: %+v", cb)
	}
	if got := len(res.Events(types.EventTypeStepFailed)); got != 2 {
		t.Errorf("%d StepFailed events, want 2", got)
	}
	if res.Invocations() < 5 {
		t.Errorf("%d invocations", res.Invocations())
	}
	if s := res.String(); !strings.Contains(s, "execution SUCCEEDED") || !strings.Contains(s, "StepFailed") {
		t.Errorf("String:\n%s", s)
	}
}

func TestStartAndAnswer(t *testing.T) {
	ex := durabletest.Start(t, process, order{ID: "o-2", Items: []string{"x"}})
	id := ex.WaitForCallback("approval")
	if id == "" || !strings.Contains(ex.ARN(), durabletest.FunctionName) {
		t.Fatalf("callback %q of %s", id, ex.ARN())
	}
	ex.HeartbeatCallback(id)
	ex.FailCallback(id, &durable.CallbackError{RecordedError: durable.RecordedError{ErrorType: "Rejected", ErrorMessage: "not today"}})
	res := ex.Result()
	if res.Status != durabletest.Failed || res.Error == nil || !strings.Contains(aws.ToString(res.Error.ErrorMessage), "not today") {
		t.Fatal(res)
	}
	if cb := res.Operation("approval create callback id"); cb == nil || cb.Status != types.OperationStatusFailed || aws.ToString(cb.Error.ErrorType) != "Rejected" {
		t.Errorf("callback: %+v", cb)
	}
	if ex.Result() != res {
		t.Error("a second Result ran the execution again")
	}
}

func TestCallbackTimesOut(t *testing.T) {
	res := durabletest.Run(t, process, order{ID: "o-3"},
		durabletest.WithCallbackError("nobody", errors.New("unused")))
	if res.Status != durabletest.Failed {
		t.Fatal(res)
	}
	if cb := res.Operation("approval create callback id"); cb == nil || cb.Status != types.OperationStatusTimedOut {
		t.Errorf("callback: %+v", cb)
	}
}

func TestCallbackError(t *testing.T) {
	res := durabletest.Run(t, process, order{ID: "o-4"},
		durabletest.WithCallbackError("approval", errors.New("no budget")))
	if res.Status != durabletest.Failed {
		t.Fatal(res)
	}
	cb := res.Operation("approval create callback id")
	if cb == nil || cb.Error == nil || aws.ToString(cb.Error.ErrorType) != "*errors.errorString" && aws.ToString(cb.Error.ErrorMessage) != "no budget" {
		t.Errorf("callback: %+v", cb)
	}
}

func TestInvokeRegisteredFunction(t *testing.T) {
	double := func(ctx context.Context, n int) (int, error) {
		return durable.Step(ctx, "double", func(ctx context.Context) (int, error) { return 2 * n, nil })
	}
	caller := func(ctx context.Context, n int) (int, error) {
		return durable.Invoke[int](ctx, "call double", "double", n)
	}
	res := durabletest.Run(t, caller, 21, durabletest.WithFunction("double", double))
	if res.Status != durabletest.Succeeded || res.Output != 42 {
		t.Fatal(res)
	}
	if op := res.Operation("call double"); op == nil || op.Type != types.OperationTypeChainedInvoke {
		t.Errorf("invoke: %+v", op)
	}
}

// fatalT records the first Fatalf and ends the goroutine, as testing.T does.
type fatalT struct {
	ctx      context.Context
	mu       sync.Mutex
	msg      string
	cleanups []func()
}

func (f *fatalT) Helper()                  {}
func (f *fatalT) Context() context.Context { return f.ctx }
func (f *fatalT) Cleanup(fn func())        { f.cleanups = append(f.cleanups, fn) }
func (f *fatalT) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func TestUnansweredCallbackFailsTheTest(t *testing.T) {
	waits := func(ctx context.Context, _ struct{}) (string, error) {
		return durable.WaitForCallback[string](ctx, "sign-off", func(ctx context.Context, id string) error { return nil })
	}
	ft := &fatalT{ctx: t.Context()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		durabletest.Run(ft, waits, struct{}{})
	}()
	<-done
	for _, c := range ft.cleanups {
		c()
	}
	if !strings.Contains(ft.msg, `callback "sign-off"`) || !strings.Contains(ft.msg, "WithCallbackResult") {
		t.Errorf("Fatalf message:\n%s", ft.msg)
	}
}

func TestExecutionTimeout(t *testing.T) {
	sleepy := func(ctx context.Context, _ struct{}) (string, error) {
		return "", durable.Wait(ctx, "nap", 2*time.Hour)
	}
	res := durabletest.Run(t, sleepy, struct{}{}, durabletest.WithFunctionOptions(local.WithExecutionTimeout(time.Hour)))
	if res.Status != durabletest.TimedOut {
		t.Fatal(res)
	}
}
