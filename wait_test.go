package durable_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

func TestWaitSuspendsThenContinuesAfterItElapses(t *testing.T) {
	api := fakeapi.New(`null`)
	var reached int
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		if _, err := durable.Step(ctx, "before", func(context.Context) (int, error) { return 1, nil }); err != nil {
			return "", err
		}
		if err := durable.Wait(ctx, "cool-off", 1500*time.Millisecond); err != nil {
			return "", err
		}
		reached++
		return "done", nil
	})

	out := invokeStatus(t, api, h, "PENDING")
	ups := api.Updates()
	if got := len(ups); got != 3 {
		t.Fatalf("first invocation sent %d updates (%v), want step START, SUCCEED and WAIT START", got, actions(ups))
	}
	u := ups[2]
	if u.Type != types.OperationTypeWait || u.Action != types.OperationActionStart || deref(u.SubType) != "Wait" ||
		deref(u.Name) != "cool-off" || u.ParentId != nil || deref(u.Id) != ctxstate.WireID("2") {
		t.Fatalf("wait update: %s %s %s %q id %s parent %v", u.Type, u.Action, deref(u.SubType), deref(u.Name), deref(u.Id), u.ParentId)
	}
	if u.WaitOptions == nil || *u.WaitOptions.WaitSeconds != 2 {
		t.Fatalf("WaitOptions %+v, want 2 s (1.5 s rounded up)", u.WaitOptions)
	}
	if op := api.Operation("cool-off"); op == nil || op.Status != types.OperationStatusStarted {
		t.Fatalf("the wait's START was not durable when the invocation answered %s", out.Status)
	}

	// Invoked again before the wait elapsed: still suspended, nothing new recorded.
	invokeStatus(t, api, h, "PENDING")
	if got := len(api.Updates()); got != 3 {
		t.Fatalf("replay of a running wait sent %d new updates", got-3)
	}

	api.Advance()
	out = invokeStatus(t, api, h, "SUCCEEDED")
	if *out.Result != `"done"` || reached != 1 {
		t.Fatalf("result %s, code after the wait ran %d times", *out.Result, reached)
	}
	if got := len(api.Updates()); got != 3 {
		t.Fatalf("replay of an elapsed wait sent %d updates", got-3)
	}
}

func TestWaitDurationRange(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		secs int32  // 0: an error
		want string // in the error
	}{
		{time.Nanosecond, 1, ""},
		{time.Second, 1, ""},
		{90*time.Second + time.Millisecond, 91, ""},
		{durable.MaxWait, 31622400, ""},
		{0, 0, "not positive"},
		{-time.Second, 0, "not positive"},
		{durable.MaxWait + time.Nanosecond, 0, "366 days"},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			api := fakeapi.New(`null`)
			var werr error
			h := wrap(api, func(ctx context.Context, _ any) (string, error) {
				werr = durable.Wait(ctx, "w", tc.d)
				if tc.secs == 0 {
					// A refused wait claims no position: the next operation is the first.
					return durable.Step(ctx, "after", func(context.Context) (string, error) { return "ok", nil })
				}
				return "", werr
			})
			out, err := api.Invoke(context.Background(), h)
			if err != nil {
				t.Fatal(err)
			}
			if tc.secs == 0 {
				if werr == nil || !strings.Contains(werr.Error(), tc.want) || !strings.HasPrefix(werr.Error(), "durable: ") {
					t.Fatalf("Wait(%s) = %v, want an error about %q", tc.d, werr, tc.want)
				}
				ups := api.Updates()
				if out.Status != "SUCCEEDED" || len(ups) != 2 || deref(ups[0].Id) != ctxstate.WireID("1") || ups[0].Type != types.OperationTypeStep {
					t.Fatalf("after a refused wait: %s, updates %v", out.Status, actions(ups))
				}
				return
			}
			if out.Status != "PENDING" || !errors.Is(werr, durable.ErrSuspended) {
				t.Fatalf("Wait(%s): %s, %v", tc.d, out.Status, werr)
			}
			if got := *api.Updates()[0].WaitOptions.WaitSeconds; got != tc.secs {
				t.Fatalf("Wait(%s) recorded %d s, want %d", tc.d, got, tc.secs)
			}
		})
	}
}

func TestWaitInChildContextCarriesParentAndSuspends(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return durable.Child(ctx, "group", func(ctx context.Context) (string, error) {
			if err := durable.Wait(ctx, "inner", time.Minute); err != nil {
				return "", err
			}
			return "after", nil
		})
	})
	outs, err := api.Run(context.Background(), h, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || *outs[1].Result != `"after"` {
		t.Fatalf("answers %+v", outs)
	}
	ups := api.Updates()
	if got := strings.Join(typedActions(ups), " "); got != "CONTEXT/START WAIT/START CONTEXT/SUCCEED" {
		t.Fatalf("updates %s: suspension must not fail the child context", got)
	}
	if deref(ups[1].ParentId) != deref(ups[0].Id) || *ups[1].WaitOptions.WaitSeconds != 60 {
		t.Fatalf("wait parent %s, context %s, %d s", deref(ups[1].ParentId), deref(ups[0].Id), *ups[1].WaitOptions.WaitSeconds)
	}
}

func TestWaitCancelledByTheService(t *testing.T) {
	api := fakeapi.New(`null`)
	var werr error
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		werr = durable.Wait(ctx, "w", time.Hour)
		var ce *durable.CancelledError
		if errors.As(werr, &ce) {
			return ce.Kind + " " + ce.Name, nil
		}
		return "", werr
	})
	invokeStatus(t, api, h, "PENDING")
	if err := api.Finish("w", types.OperationStatusCancelled, nil, nil); err != nil {
		t.Fatal(err)
	}
	out := invokeStatus(t, api, h, "SUCCEEDED")
	if *out.Result != `"wait w"` {
		t.Fatalf("got %s (%v)", *out.Result, werr)
	}
}

func TestWaitUntil(t *testing.T) {
	api := fakeapi.New(`null`)
	target := time.Now().Add(time.Hour)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		if err := durable.WaitUntil(ctx, "deadline", target); err != nil {
			return "", err
		}
		return "reached", nil
	})
	invokeStatus(t, api, h, "PENDING")
	if got := *api.Updates()[0].WaitOptions.WaitSeconds; got != 3600 {
		t.Fatalf("WaitUntil an hour ahead recorded %d s", got)
	}
	// Replay decides from the record, whatever the clock says now.
	target = time.Now().Add(-time.Hour)
	invokeStatus(t, api, h, "PENDING")
	target = time.Now().Add(100 * 24 * time.Hour)
	invokeStatus(t, api, h, "PENDING")
	if n := len(api.Updates()); n != 1 {
		t.Fatalf("replays sent %d updates", n-1)
	}
	api.Advance()
	if out := invokeStatus(t, api, h, "SUCCEEDED"); *out.Result != `"reached"` {
		t.Fatalf("got %s", *out.Result)
	}
}

func TestWaitUntilRange(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    func() time.Time
		secs int32
	}{
		{"past", func() time.Time { return time.Now().Add(-time.Hour) }, 1},
		{"imminent", func() time.Time { return time.Now().Add(200 * time.Millisecond) }, 1},
		{"far", func() time.Time { return time.Now().Add(durable.MaxWait + time.Hour) }, 0},
		{"zero", func() time.Time { return time.Time{} }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := fakeapi.New(`null`)
			var werr error
			h := wrap(api, func(ctx context.Context, _ any) (string, error) {
				werr = durable.WaitUntil(ctx, "w", tc.t())
				return "", werr
			})
			out, err := api.Invoke(context.Background(), h)
			if err != nil {
				t.Fatal(err)
			}
			if tc.secs == 0 {
				if out.Status != "FAILED" || !strings.Contains(errMsg(out), "durable: wait \"w\"") || len(api.Calls()) != 0 {
					t.Fatalf("got %s %s with %d checkpoint calls, want an error before any checkpoint", out.Status, errMsg(out), len(api.Calls()))
				}
				return
			}
			if out.Status != "PENDING" || *api.Updates()[0].WaitOptions.WaitSeconds != tc.secs {
				t.Fatalf("got %s, %v", out.Status, werr)
			}
		})
	}
}

func TestWaitMisuse(t *testing.T) {
	if err := durable.Wait(context.Background(), "w", time.Second); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatalf("without an execution: %v", err)
	}
	if err := durable.WaitUntil(context.Background(), "w", time.Now()); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatalf("WaitUntil without an execution: %v", err)
	}
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		_, err := durable.Step(ctx, "s", func(sctx context.Context) (int, error) {
			return 0, durable.Wait(sctx, "inside", time.Second)
		}, durable.WithRetry(durable.NoRetry))
		if !errors.Is(err, durable.ErrOperationInStep) {
			return "", err
		}
		if err := durable.Wait(ctx, "bad\nname", time.Second); err == nil || !strings.Contains(err.Error(), "printable ASCII") {
			return "", errors.New("a bad name was accepted")
		}
		return "ok", nil
	})
	out := invokeStatus(t, api, h, "SUCCEEDED")
	if *out.Result != `"ok"` {
		t.Fatal(*out.Result)
	}
}

func TestWaitReplayedWhereAStepWasRecordedIsNonDeterministic(t *testing.T) {
	api := fakeapi.New(`null`)
	api.Record(types.OperationUpdate{Id: strp(ctxstate.WireID("1")), Type: types.OperationTypeStep, SubType: strp("Step"), Name: strp("w"), Action: types.OperationActionStart})
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return "", durable.Wait(ctx, "w", time.Second)
	})
	out := invokeStatus(t, api, h, "FAILED")
	if deref(out.Error.ErrorType) != "ctxstate.NonDeterminismError" || !strings.Contains(errMsg(out), "WAIT/Wait") {
		t.Fatalf("got %s", errMsg(out))
	}
}

func TestWaitHooks(t *testing.T) {
	api := fakeapi.New(`null`)
	var events []string
	hooks := &ctxstate.Hooks{
		OperationStart: func(i ctxstate.OperationInfo) {
			events = append(events, "start "+i.Name+" "+boolWord(i.Replaying, "replay", "live"))
		},
		OperationEnd: func(i ctxstate.OperationInfo) {
			events = append(events, "end "+i.Name+" "+string(i.Status))
		},
	}
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		return "", durable.Wait(ctx, "w", time.Second)
	}, middleware.WithHooks(hooks))
	invokeStatus(t, api, h, "PENDING")
	api.Advance()
	invokeStatus(t, api, h, "SUCCEEDED")
	want := "start w live|end w STARTED|start w replay|end w SUCCEEDED"
	if got := strings.Join(events, "|"); got != want {
		t.Fatalf("hooks %s, want %s", got, want)
	}
}

// invokeStatus runs one invocation and fails the test unless it answers want.
func invokeStatus(t *testing.T, api *fakeapi.API, h interface {
	Invoke(context.Context, []byte) ([]byte, error)
}, want string) fakeapi.Output {
	t.Helper()
	out, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != want {
		t.Fatalf("invocation answered %s (%s), want %s", out.Status, errMsg(out), want)
	}
	return out
}

// typedActions renders updates as TYPE/ACTION.
func typedActions(us []types.OperationUpdate) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = string(u.Type) + "/" + string(u.Action)
	}
	return out
}

func boolWord(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
