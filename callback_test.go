package durable_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
)

func TestCreateCallbackThenAwait(t *testing.T) {
	api := fakeapi.New(`null`)
	var ids []string
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		cb, err := durable.CreateCallback[string](ctx, "approval",
			durable.WithTimeout(4200*time.Millisecond), durable.WithHeartbeatTimeout(10*time.Second))
		if err != nil {
			return "", err
		}
		ids = append(ids, cb.ID())
		return cb.Await(ctx)
	})
	invokeStatus(t, api, h, "PENDING")
	ups := api.Updates()
	if len(ups) != 1 {
		t.Fatalf("updates %v, want one CALLBACK START", typedActions(ups))
	}
	u := ups[0]
	if u.Type != types.OperationTypeCallback || u.Action != types.OperationActionStart || deref(u.SubType) != "Callback" ||
		deref(u.Name) != "approval" || u.ParentId != nil || deref(u.Id) != ctxstate.WireID("1") {
		t.Fatalf("update %s %s %s %q parent %v", u.Type, u.Action, deref(u.SubType), deref(u.Name), u.ParentId)
	}
	if o := u.CallbackOptions; o == nil || o.TimeoutSeconds != 5 || o.HeartbeatTimeoutSeconds != 10 {
		t.Fatalf("CallbackOptions %+v, want 5 s (4.2 s rounded up) and 10 s", o)
	}
	op := api.Operation("approval")
	if len(ids) != 1 || ids[0] != *op.CallbackDetails.CallbackId {
		t.Fatalf("handle id %v, service id %s", ids, *op.CallbackDetails.CallbackId)
	}

	// Still open: suspended again, nothing new recorded, same id.
	invokeStatus(t, api, h, "PENDING")
	if err := api.Complete("approval", `"yes"`, nil); err != nil {
		t.Fatal(err)
	}
	out := invokeStatus(t, api, h, "SUCCEEDED")
	// A string result is the payload as sent, quotes included.
	if *out.Result != `"\"yes\""` {
		t.Fatalf("result %s", *out.Result)
	}
	if len(api.Updates()) != 1 || len(ids) != 3 || ids[1] != ids[0] || ids[2] != ids[0] {
		t.Fatalf("replays: %d updates, ids %v", len(api.Updates()), ids)
	}
}

type approval struct {
	Status string `json:"status"`
	By     string `json:"by"`
}

func TestCallbackDecodesJSONForNonStringTypes(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		cb, err := durable.CreateCallback[approval](ctx, "a")
		if err != nil {
			return "", err
		}
		raw, err := durable.CreateCallback[[]byte](ctx, "b")
		if err != nil {
			return "", err
		}
		num, err := durable.CreateCallback[int](ctx, "c", durable.WithSerdes(durable.JSON))
		if err != nil {
			return "", err
		}
		a, err := cb.Await(ctx)
		if err != nil {
			return "", err
		}
		b, err := raw.Await(ctx)
		if err != nil {
			return "", err
		}
		n, err := num.Await(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s by %s, %s, %d", a.Status, a.By, b, n), nil
	})
	invokeStatus(t, api, h, "PENDING")
	if n := len(api.Updates()); n != 3 {
		t.Fatalf("%d updates: every callback starts before the first await suspends", n)
	}
	if o := api.Updates()[0].CallbackOptions; o == nil || o.TimeoutSeconds != 0 || o.HeartbeatTimeoutSeconds != 0 {
		t.Fatalf("default CallbackOptions %+v", o)
	}
	must(t, api.Complete("a", `{"status": "approved", "by": "ada"}`, nil))
	invokeStatus(t, api, h, "PENDING") // b is still open
	must(t, api.Complete("b", `raw bytes`, nil))
	must(t, api.Complete("c", `42`, nil))
	out := invokeStatus(t, api, h, "SUCCEEDED")
	if *out.Result != `"approved by ada, raw bytes, 42"` {
		t.Fatalf("result %s", *out.Result)
	}
}

func TestCallbackFailureIsTyped(t *testing.T) {
	api := fakeapi.New(`null`)
	var seen []*durable.CallbackError
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		cb, err := durable.CreateCallback[string](ctx, "approval")
		if err != nil {
			return "", err
		}
		_, err = cb.Await(ctx)
		var ce *durable.CallbackError
		if errors.As(err, &ce) {
			seen = append(seen, ce)
		}
		return "", err
	})
	invokeStatus(t, api, h, "PENDING")
	must(t, api.Complete("approval", "", &types.ErrorObject{ErrorType: strp("RejectedError"), ErrorMessage: strp("not approved"), ErrorData: strp(`{"by":"bob"}`)}))
	for range 2 {
		out := invokeStatus(t, api, h, "FAILED")
		// The execution fails with the error the sender sent.
		if deref(out.Error.ErrorType) != "RejectedError" || deref(out.Error.ErrorMessage) != "not approved" {
			t.Fatalf("execution error %s", errMsg(out))
		}
	}
	if len(seen) != 2 || !reflect.DeepEqual(seen[0], seen[1]) {
		t.Fatalf("errors %+v", seen)
	}
	e := seen[0]
	if e.Name != "approval" || e.ErrorType != "RejectedError" || e.ErrorMessage != "not approved" || e.ErrorData != `{"by":"bob"}` ||
		e.CallbackID == "" || e.OperationID != ctxstate.WireID("1") {
		t.Fatalf("error %+v", e)
	}
	if want := `durable: callback "approval" failed: RejectedError: not approved`; e.Error() != want {
		t.Fatalf("message %q", e.Error())
	}
	if n := len(api.Updates()); n != 1 {
		t.Fatalf("%d updates: a callback failure records nothing more", n)
	}
}

func TestCallbackTimeoutsAreTyped(t *testing.T) {
	for _, tc := range []struct {
		errorType string
		heartbeat bool
	}{
		{durable.ErrorTypeCallbackTimeout, false},
		{durable.ErrorTypeCallbackHeartbeat, true},
	} {
		t.Run(tc.errorType, func(t *testing.T) {
			api := fakeapi.New(`null`)
			h := wrap(api, func(ctx context.Context, _ any) (string, error) {
				cb, err := durable.CreateCallback[string](ctx, "cb", durable.WithTimeout(3*time.Second))
				if err != nil {
					return "", err
				}
				_, err = cb.Await(ctx)
				var te *durable.CallbackTimeoutError
				if errors.As(err, &te) {
					return fmt.Sprintf("%s %v %s", te.ErrorType, te.Heartbeat(), te.Name), nil
				}
				return "", err
			})
			invokeStatus(t, api, h, "PENDING")
			must(t, api.Finish("cb", types.OperationStatusTimedOut, nil, &types.ErrorObject{ErrorType: strp(tc.errorType), ErrorMessage: strp("Callback timed out")}))
			out := invokeStatus(t, api, h, "SUCCEEDED")
			if want := fmt.Sprintf(`"%s %v cb"`, tc.errorType, tc.heartbeat); *out.Result != want {
				t.Fatalf("got %s, want %s", *out.Result, want)
			}
		})
	}
}

func TestCallbackTimeoutUncaughtFailsTheExecutionWithItsType(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		cb, err := durable.CreateCallback[string](ctx, "cb", durable.WithTimeout(time.Second))
		if err != nil {
			return "", err
		}
		return cb.Await(ctx)
	})
	invokeStatus(t, api, h, "PENDING")
	must(t, api.Finish("cb", types.OperationStatusTimedOut, nil, nil))
	out := invokeStatus(t, api, h, "FAILED")
	if deref(out.Error.ErrorType) != "Callback.Timeout" {
		t.Fatalf("execution error %s", errMsg(out))
	}
}

func TestCallbackMisuse(t *testing.T) {
	if _, err := durable.CreateCallback[string](context.Background(), "x"); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatalf("without an execution: %v", err)
	}
	api := fakeapi.New(`null`)
	var kept *durable.Callback[string]
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		for _, opt := range []durable.CallbackOption{durable.WithTimeout(-time.Second), durable.WithHeartbeatTimeout(durable.MaxWait + time.Second)} {
			if _, err := durable.CreateCallback[string](ctx, "bad", opt); err == nil || !strings.HasPrefix(err.Error(), "durable: callback \"bad\"") {
				return "", fmt.Errorf("bad option accepted: %v", err)
			}
		}
		cb, err := durable.CreateCallback[string](ctx, "cb")
		if err != nil {
			return "", err
		}
		if kept != nil {
			if _, err := kept.Await(ctx); err == nil || !strings.Contains(err.Error(), "another invocation") {
				return "", fmt.Errorf("a handle from an earlier invocation: %v", err)
			}
			return "checked", nil
		}
		kept = cb
		_, err = durable.Step(ctx, "s", func(sctx context.Context) (int, error) {
			_, err := cb.Await(sctx)
			return 0, err
		}, durable.WithRetry(durable.NoRetry))
		if !errors.Is(err, durable.ErrOperationInStep) {
			return "", fmt.Errorf("await in a step: %v", err)
		}
		return cb.Await(ctx)
	})
	invokeStatus(t, api, h, "PENDING")
	// The refused callbacks claimed no position: the callback is operation 1.
	if id := deref(api.Updates()[0].Id); id != ctxstate.WireID("1") {
		t.Fatalf("callback id %s", id)
	}
	if out := invokeStatus(t, api, h, "SUCCEEDED"); *out.Result != `"checked"` {
		t.Fatal(*out.Result)
	}
}

func TestWaitForCallbackFirstRunReplayAndUpdates(t *testing.T) {
	api := fakeapi.New(`"approval"`)
	var submitted []string
	var submits atomic.Int32
	h := wrap(api, func(ctx context.Context, name string) (string, error) {
		return durable.WaitForCallback[string](ctx, name, func(ctx context.Context, id string) error {
			submits.Add(1)
			submitted = append(submitted, fmt.Sprintf("%s attempt %d", id, durable.StepAttempt(ctx)))
			return nil
		}, durable.WithTimeout(time.Minute), durable.WithHeartbeatTimeout(10*time.Second))
	})
	invokeStatus(t, api, h, "PENDING")
	ups := api.Updates()
	if got := strings.Join(typedActions(ups), " "); got != "CONTEXT/START CALLBACK/START STEP/START STEP/SUCCEED" {
		t.Fatalf("updates %s", got)
	}
	ctxID := ctxstate.WireID("1")
	for i, want := range []struct{ sub, name, parent string }{
		{"WaitForCallback", "approval", ""},
		{"Callback", "approval create callback id", ctxID},
		{"Step", "approval submitter", ctxID},
		{"Step", "approval submitter", ctxID},
	} {
		u := ups[i]
		if deref(u.SubType) != want.sub || deref(u.Name) != want.name || (want.parent == "") != (u.ParentId == nil) || (u.ParentId != nil && *u.ParentId != want.parent) {
			t.Errorf("update %d: %s %q parent %s, want %s %q parent %q", i, deref(u.SubType), deref(u.Name), deref(u.ParentId), want.sub, want.name, want.parent)
		}
	}
	if deref(ups[0].Id) != ctxID || deref(ups[1].Id) != ctxstate.WireID("1-1") || deref(ups[2].Id) != ctxstate.WireID("1-2") {
		t.Errorf("ids %s %s %s", deref(ups[0].Id), deref(ups[1].Id), deref(ups[2].Id))
	}
	if o := ups[1].CallbackOptions; o == nil || o.TimeoutSeconds != 60 || o.HeartbeatTimeoutSeconds != 10 {
		t.Errorf("CallbackOptions %+v", o)
	}
	cbID := *api.Operation("approval create callback id").CallbackDetails.CallbackId
	if len(submitted) != 1 || submitted[0] != cbID+" attempt 1" {
		t.Fatalf("submitted %v, callback id %s", submitted, cbID)
	}

	invokeStatus(t, api, h, "PENDING")
	must(t, api.Complete("approval create callback id", `"ok"`, nil))
	out := invokeStatus(t, api, h, "SUCCEEDED")
	if *out.Result != `"\"ok\""` {
		t.Fatalf("result %s", *out.Result)
	}
	ups = api.Updates()
	if got := strings.Join(typedActions(ups[4:]), " "); got != "CONTEXT/SUCCEED" || deref(ups[4].Payload) != `"ok"` {
		t.Fatalf("completion updates %s, payload %s", got, deref(ups[4].Payload))
	}
	// Replaying the completed context runs nothing and records nothing.
	out = invokeStatus(t, api, h, "SUCCEEDED")
	if *out.Result != `"\"ok\""` || len(api.Updates()) != 5 || submits.Load() != 1 {
		t.Fatalf("replay: %s, %d updates, %d submits", *out.Result, len(api.Updates()), submits.Load())
	}
}

func TestWaitForCallbackDecodesJSON(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		a, err := durable.WaitForCallback[approval](ctx, "review", func(context.Context, string) error { return nil })
		return a.Status, err
	})
	invokeStatus(t, api, h, "PENDING")
	must(t, api.Complete("review create callback id", `{"status": "approved"}`, nil))
	for range 2 {
		if out := invokeStatus(t, api, h, "SUCCEEDED"); *out.Result != `"approved"` {
			t.Fatalf("result %s", *out.Result)
		}
	}
	if p := deref(api.Updates()[4].Payload); p != `{"status":"approved","by":""}` {
		t.Fatalf("context payload %s", p)
	}
}

// wfcOutcome runs a WaitForCallback to the end three times (first run,
// completion, replay of the failed context) and returns the errors seen.
func wfcErrors(t *testing.T, finish func(api *fakeapi.API), submit func(context.Context, string) error, opts ...durable.CallbackOption) ([]error, *fakeapi.API) {
	t.Helper()
	api := fakeapi.New(`null`)
	var errs []error
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		_, err := durable.WaitForCallback[string](ctx, "approval", submit, opts...)
		if err != nil && !errors.Is(err, durable.ErrSuspended) {
			errs = append(errs, err)
		}
		return "", err
	})
	out, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status == "PENDING" {
		finish(api)
		invokeStatus(t, api, h, "FAILED")
	}
	invokeStatus(t, api, h, "FAILED")
	return errs, api
}

func TestWaitForCallbackFailureIsTheSameTypedErrorOnReplay(t *testing.T) {
	errs, api := wfcErrors(t, func(api *fakeapi.API) {
		must(t, api.Complete("approval create callback id", "", &types.ErrorObject{ErrorType: strp("RejectedError"), ErrorMessage: strp("not approved"), ErrorData: strp("d")}))
	}, func(context.Context, string) error { return nil })
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	var live, replayed *durable.CallbackError
	if !errors.As(errs[0], &live) || !errors.As(errs[1], &replayed) {
		t.Fatalf("errors %T %T", errs[0], errs[1])
	}
	if !reflect.DeepEqual(live, replayed) {
		t.Fatalf("live %+v\nreplayed %+v", live, replayed)
	}
	if live.Name != "approval" || live.ErrorType != "RejectedError" || live.ErrorMessage != "not approved" || live.ErrorData != "d" ||
		live.CallbackID == "" || live.OperationID != ctxstate.WireID("1-1") {
		t.Fatalf("error %+v", live)
	}
	ups := api.Updates()
	last := ups[len(ups)-1]
	if last.Type != types.OperationTypeContext || last.Action != types.OperationActionFail || deref(last.Error.ErrorType) != "RejectedError" {
		t.Fatalf("last update %s %s %s", last.Type, last.Action, deref(last.Error.ErrorType))
	}
}

func TestWaitForCallbackTimeoutIsTypedOnReplay(t *testing.T) {
	errs, _ := wfcErrors(t, func(api *fakeapi.API) {
		must(t, api.Finish("approval create callback id", types.OperationStatusTimedOut, nil,
			&types.ErrorObject{ErrorType: strp("Callback.Heartbeat"), ErrorMessage: strp("Callback timed out on heartbeat")}))
	}, func(context.Context, string) error { return nil }, durable.WithHeartbeatTimeout(time.Second))
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	for i, err := range errs {
		var te *durable.CallbackTimeoutError
		if !errors.As(err, &te) || !te.Heartbeat() || te.Name != "approval" || te.ErrorMessage != "Callback timed out on heartbeat" {
			t.Fatalf("error %d: %T %v", i, err, err)
		}
	}
	if !reflect.DeepEqual(errs[0], errs[1]) {
		t.Fatalf("live %+v, replayed %+v", errs[0], errs[1])
	}
}

func TestWaitForCallbackSubmitterFailure(t *testing.T) {
	errs, api := wfcErrors(t, nil, func(context.Context, string) error {
		return &declinedError{Code: "no_queue", Amount: 1}
	}, durable.WithSubmitterRetry(durable.NoRetry))
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	for i, err := range errs {
		var se *durable.StepError
		var de *declinedError
		if !errors.As(err, &se) || !errors.As(err, &de) || se.Name != "approval submitter" || se.Attempt != 1 || de.Code != "no_queue" {
			t.Fatalf("error %d: %T %v", i, err, err)
		}
	}
	if got := strings.Join(typedActions(api.Updates()), " "); got != "CONTEXT/START CALLBACK/START STEP/START STEP/FAIL CONTEXT/FAIL" {
		t.Fatalf("updates %s", got)
	}
}

func TestWaitForCallbackSubmitterRetries(t *testing.T) {
	api := fakeapi.New(`null`)
	var attempts []int
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.WaitForCallback[string](ctx, "job", func(ctx context.Context, id string) error {
			attempts = append(attempts, durable.StepAttempt(ctx))
			if durable.StepAttempt(ctx) == 1 {
				return errors.New("queue busy")
			}
			return nil
		}, durable.WithSubmitterRetry(durable.RetryPolicy{MaxAttempts: 3, InitialDelay: time.Second, Jitter: durable.NoJitter}))
	})
	invokeStatus(t, api, h, "PENDING")
	api.Advance()
	invokeStatus(t, api, h, "PENDING")
	must(t, api.Complete("job create callback id", "done", nil))
	if out := invokeStatus(t, api, h, "SUCCEEDED"); *out.Result != `"done"` {
		t.Fatalf("result %s", *out.Result)
	}
	if fmt.Sprint(attempts) != "[1 2]" {
		t.Fatalf("attempts %v", attempts)
	}
	if got := strings.Join(typedActions(api.Updates()), " "); got != "CONTEXT/START CALLBACK/START STEP/START STEP/RETRY STEP/START STEP/SUCCEED CONTEXT/SUCCEED" {
		t.Fatalf("updates %s", got)
	}
}

func TestWaitForCallbackMisuse(t *testing.T) {
	if _, err := durable.WaitForCallback[string](context.Background(), "x", func(context.Context, string) error { return nil }); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatalf("without an execution: %v", err)
	}
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		if _, err := durable.WaitForCallback[string](ctx, "x", nil); err == nil || !strings.Contains(err.Error(), "no submit function") {
			return "", fmt.Errorf("nil submit: %v", err)
		}
		if _, err := durable.WaitForCallback[string](ctx, strings.Repeat("n", 240), func(context.Context, string) error { return nil }); err == nil || !strings.Contains(err.Error(), "at most 237") {
			return "", fmt.Errorf("long name: %v", err)
		}
		if _, err := durable.WaitForCallback[string](ctx, "x", func(context.Context, string) error { return nil }, durable.WithTimeout(-1)); err == nil {
			return "", errors.New("negative timeout accepted")
		}
		return "ok", nil
	})
	invokeStatus(t, api, h, "SUCCEEDED")
	if n := len(api.Calls()); n != 0 {
		t.Fatalf("%d checkpoint calls for refused operations", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
