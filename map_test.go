package durable_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

// describe renders updates as "TYPE/SubType ACTION", followed by "^k" when
// the update's ParentId is the Id of update k, so that tests can assert the
// order and nesting of a history without spelling out hashed ids.
func describe(ups []types.OperationUpdate) []string {
	first := map[string]int{}
	out := make([]string, len(ups))
	for i, u := range ups {
		id := deref(u.Id)
		if _, ok := first[id]; !ok {
			first[id] = i
		}
		s := fmt.Sprintf("%s/%s %s", u.Type, deref(u.SubType), u.Action)
		if u.ParentId != nil {
			k, ok := first[*u.ParentId]
			if !ok {
				s += " ^?"
			} else {
				s += fmt.Sprintf(" ^%d", k)
			}
		}
		out[i] = s
	}
	return out
}

func assertHistory(t *testing.T, api *fakeapi.API, want ...string) {
	t.Helper()
	got := describe(api.Updates())
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("updates:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func invokeOK(t *testing.T, api *fakeapi.API, h interface {
	Invoke(context.Context, []byte) ([]byte, error)
}) string {
	t.Helper()
	out, err := api.Invoke(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != "SUCCEEDED" {
		t.Fatalf("got %s %s", out.Status, errMsg(out))
	}
	return deref(out.Result)
}

// projection is what the conformance handlers return from a batch result.
type projection struct {
	CompletionReason durable.CompletionReason `json:"completionReason"`
	Status           durable.BatchStatus      `json:"status"`
	SuccessCount     int                      `json:"successCount"`
	FailureCount     int                      `json:"failureCount"`
	TotalCount       int                      `json:"totalCount"`
}

func project[T any](r *durable.BatchResult[T]) projection {
	return projection{r.CompletionReason, r.Status(), r.SuccessCount(), r.FailureCount(), r.TotalCount()}
}

func TestMapRunsItemsInOrderAsConformance9_1(t *testing.T) {
	api := fakeapi.New(`["World","Kiro"]`)
	var calls atomic.Int32
	h := wrap(api, func(ctx context.Context, names []string) ([]string, error) {
		r, err := durable.Map(ctx, "map", names, func(ctx context.Context, name string, _ int) (string, error) {
			return durable.Step(ctx, "greet", func(context.Context) (string, error) {
				calls.Add(1)
				return "Hello, " + name + "!", nil
			})
		}, durable.WithMaxConcurrency(1))
		if err != nil {
			return nil, err
		}
		return r.Values(), r.Err()
	})
	if got := invokeOK(t, api, h); got != `["Hello, World!","Hello, Kiro!"]` {
		t.Fatalf("result %s", got)
	}
	assertHistory(t, api,
		"CONTEXT/Map START",
		"CONTEXT/MapIteration START ^0",
		"STEP/Step START ^1",
		"STEP/Step SUCCEED ^1",
		"CONTEXT/MapIteration SUCCEED ^0",
		"CONTEXT/MapIteration START ^0",
		"STEP/Step START ^5",
		"STEP/Step SUCCEED ^5",
		"CONTEXT/MapIteration SUCCEED ^0",
		"CONTEXT/Map SUCCEED",
	)
	ups := api.Updates()
	if p := deref(ups[4].Payload); p != `"Hello, World!"` {
		t.Errorf("iteration payload %s", p)
	}
	if deref(ups[0].Name) != "map" || ups[1].Name != nil {
		t.Errorf("names: map %q, iteration %v", deref(ups[0].Name), ups[1].Name)
	}
	var summary map[string]any
	if err := json.Unmarshal([]byte(deref(ups[9].Payload)), &summary); err != nil || summary["type"] != "MapResult" ||
		summary["completionReason"] != "ALL_COMPLETED" || summary["successCount"] != 2.0 {
		t.Errorf("map payload %s (%v)", deref(ups[9].Payload), err)
	}

	// Replay: the recorded result, no function runs, no new update.
	if got := invokeOK(t, api, h); got != `["Hello, World!","Hello, Kiro!"]` {
		t.Fatalf("replayed result %s", got)
	}
	if calls.Load() != 2 || len(api.Updates()) != 10 {
		t.Fatalf("replay ran %d step functions and sent %d updates", calls.Load(), len(api.Updates()))
	}
}

func TestMapItemsWithoutOperationsAsConformance9_2(t *testing.T) {
	api := fakeapi.New(`[1,2]`)
	h := wrap(api, func(ctx context.Context, in []int) ([]int, error) {
		r, err := durable.Map(ctx, "", in, func(_ context.Context, v, _ int) (int, error) { return 2 * v, nil }, durable.WithMaxConcurrency(1))
		if err != nil {
			return nil, err
		}
		return r.Values(), nil
	})
	if got := invokeOK(t, api, h); got != `[2,4]` {
		t.Fatalf("result %s", got)
	}
	assertHistory(t, api,
		"CONTEXT/Map START",
		"CONTEXT/MapIteration START ^0",
		"CONTEXT/MapIteration SUCCEED ^0",
		"CONTEXT/MapIteration START ^0",
		"CONTEXT/MapIteration SUCCEED ^0",
		"CONTEXT/Map SUCCEED",
	)
	if ups := api.Updates(); ups[0].Name != nil || deref(ups[2].Payload) != "2" || deref(ups[4].Payload) != "4" {
		t.Fatalf("name %v, payloads %s %s", ups[0].Name, deref(ups[2].Payload), deref(ups[4].Payload))
	}
}

func TestMapEmptyItemsStillRecordTheMap(t *testing.T) {
	api := fakeapi.New(`[]`)
	h := wrap(api, func(ctx context.Context, in []string) ([]string, error) {
		r, err := durable.Map(ctx, "empty", in, func(_ context.Context, s string, _ int) (string, error) { return s, nil })
		if err != nil {
			return nil, err
		}
		if r.CompletionReason != durable.AllCompleted || r.TotalCount() != 0 {
			return nil, fmt.Errorf("got %+v", r)
		}
		return r.Values(), nil
	})
	if got := invokeOK(t, api, h); got != `[]` {
		t.Fatalf("result %s", got)
	}
	assertHistory(t, api, "CONTEXT/Map START", "CONTEXT/Map SUCCEED")
}

// The completion rules of conformance 9-5, 9-7, 9-8, 9-9, 8-13, 8-16 and
// 8-17, with max concurrency 1: which items run, how each ends, and what
// the result says.
func TestMapCompletionRules(t *testing.T) {
	tests := []struct {
		name  string
		items string // per item: s succeeds, f fails
		opts  []durable.MapOption
		runs  string // the iterations' ends, in order: S succeeded, F failed
		want  projection
	}{
		{"9-5 fail fast", "sfs", []durable.MapOption{durable.WithToleratedFailures(0)}, "SF",
			projection{durable.FailureToleranceExceeded, durable.BatchFailed, 1, 1, 2}},
		{"9-7 min successful", "ssss", []durable.MapOption{durable.WithMinSuccessful(2)}, "SS",
			projection{durable.MinSuccessfulReached, durable.BatchSucceeded, 2, 0, 2}},
		{"9-8 within tolerance", "sfs", []durable.MapOption{durable.WithToleratedFailures(1)}, "SFS",
			projection{durable.AllCompleted, durable.BatchFailed, 2, 1, 3}},
		{"9-9 tolerance exceeded", "fff", []durable.MapOption{durable.WithToleratedFailures(1)}, "FF",
			projection{durable.FailureToleranceExceeded, durable.BatchFailed, 0, 2, 2}},
		{"8-13 percentage exceeded", "ffff", []durable.MapOption{durable.WithToleratedFailurePercentage(25)}, "FF",
			projection{durable.FailureToleranceExceeded, durable.BatchFailed, 0, 2, 2}},
		{"8-16 all fail within tolerance", "fff", []durable.MapOption{durable.WithToleratedFailures(3)}, "FFF",
			projection{durable.AllCompleted, durable.BatchFailed, 0, 3, 3}},
		{"8-17 min successful not reached", "sfs", []durable.MapOption{durable.WithMinSuccessful(3)}, "SFS",
			projection{durable.AllCompleted, durable.BatchFailed, 2, 1, 3}},
		{"no config tolerates failures", "fsf", nil, "FSF",
			projection{durable.AllCompleted, durable.BatchFailed, 1, 2, 3}},
		{"min successful on the last item", "ss", []durable.MapOption{durable.WithMinSuccessful(2)}, "SS",
			projection{durable.AllCompleted, durable.BatchSucceeded, 2, 0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := fakeapi.New(`null`)
			var ran atomic.Int32
			h := wrap(api, func(ctx context.Context, _ any) (projection, error) {
				items := strings.Split(tt.items, "")
				r, err := durable.Map(ctx, "m", items, func(_ context.Context, it string, i int) (string, error) {
					ran.Add(1)
					if it == "f" {
						return "", fmt.Errorf("item %d failed", i)
					}
					return "ok", nil
				}, append([]durable.MapOption{durable.WithMaxConcurrency(1)}, tt.opts...)...)
				if err != nil {
					return projection{}, err
				}
				return project(r), nil
			})
			got := invokeOK(t, api, h)
			want, _ := json.Marshal(tt.want)
			if got != string(want) {
				t.Fatalf("result %s, want %s", got, want)
			}
			wantUps := []string{"CONTEXT/Map START"}
			for _, end := range tt.runs {
				wantUps = append(wantUps, "CONTEXT/MapIteration START ^0")
				if end == 'S' {
					wantUps = append(wantUps, "CONTEXT/MapIteration SUCCEED ^0")
				} else {
					wantUps = append(wantUps, "CONTEXT/MapIteration FAIL ^0")
				}
			}
			wantUps = append(wantUps, "CONTEXT/Map SUCCEED")
			assertHistory(t, api, wantUps...)
			if int(ran.Load()) != len(tt.runs) {
				t.Fatalf("%d item functions ran, want %d", ran.Load(), len(tt.runs))
			}
			// Replay returns the same projection without running items.
			if again := invokeOK(t, api, h); again != got || int(ran.Load()) != len(tt.runs) {
				t.Fatalf("replay: %s, %d runs", again, ran.Load())
			}
		})
	}
}

func TestMapFlatItemsRecordStepsUnderTheMap(t *testing.T) {
	api := fakeapi.New(`null`)
	var calls atomic.Int32
	h := wrap(api, func(ctx context.Context, _ any) ([]string, error) {
		r, err := durable.Map(ctx, "flat", []string{"fa", "fb"}, func(ctx context.Context, s string, _ int) (string, error) {
			return durable.Step(ctx, "", func(context.Context) (string, error) {
				calls.Add(1)
				return s, nil
			})
		}, durable.WithMaxConcurrency(1), durable.WithNesting(durable.Flat))
		if err != nil {
			return nil, err
		}
		return r.Values(), nil
	})
	if got := invokeOK(t, api, h); got != `["fa","fb"]` {
		t.Fatalf("result %s", got)
	}
	assertHistory(t, api,
		"CONTEXT/Map START",
		"STEP/Step START ^0",
		"STEP/Step SUCCEED ^0",
		"STEP/Step START ^0",
		"STEP/Step SUCCEED ^0",
		"CONTEXT/Map SUCCEED",
	)
	ups := api.Updates()
	if deref(ups[1].Id) == deref(ups[3].Id) {
		t.Fatal("the steps of two flat items share an id")
	}
	if got := invokeOK(t, api, h); got != `["fa","fb"]` || calls.Load() != 2 {
		t.Fatalf("replay %s after %d calls", got, calls.Load())
	}
}

func TestMapConcurrentItemsKeepIndexOrder(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) ([]string, error) {
		r, err := durable.Map(ctx, "concurrent", []string{"r0", "r1", "r2", "r3", "r4"}, func(ctx context.Context, s string, _ int) (string, error) {
			time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
			return durable.Step(ctx, "s", func(context.Context) (string, error) { return s, nil })
		}, durable.WithMaxConcurrency(2))
		if err != nil {
			return nil, err
		}
		return r.Values(), nil
	})
	if got := invokeOK(t, api, h); got != `["r0","r1","r2","r3","r4"]` {
		t.Fatalf("result %s", got)
	}
	ups := api.Updates()
	if d := describe(ups[:1]); d[0] != "CONTEXT/Map START" {
		t.Fatalf("first update %s", d[0])
	}
	// Iterations are claimed in index order, whatever order they run in:
	// item i is the operation at position 1-(i+1).
	for i := range 5 {
		id := ctxstate.WireID(fmt.Sprintf("1-%d", i+1))
		var found bool
		for _, op := range api.Operations() {
			if deref(op.Id) == id {
				found = true
				if deref(op.SubType) != "MapIteration" || deref(op.ParentId) != deref(ups[0].Id) || deref(op.ContextDetails.Result) != fmt.Sprintf(`"r%d"`, i) {
					t.Fatalf("item %d: %+v", i, op)
				}
			}
		}
		if !found {
			t.Fatalf("no iteration at position 1-%d", i+1)
		}
	}
}

func TestMapSerdes(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) ([]string, error) {
		r, err := durable.Map(ctx, "op-serde", []string{"x", "y"}, func(_ context.Context, s string, _ int) (string, error) {
			return strings.ToUpper(s), nil
		}, durable.WithMaxConcurrency(1), durable.WithSerdes(opSerdes{}), durable.WithItemSerdes(wrapSerdes{}))
		if err != nil {
			return nil, err
		}
		return r.Values(), nil
	})
	if got := invokeOK(t, api, h); got != `["X","Y"]` {
		t.Fatalf("result %s", got)
	}
	ups := api.Updates()
	if p := deref(ups[len(ups)-1].Payload); p != "OPSERDE:X,Y" {
		t.Fatalf("map payload %q", p)
	}
	if p := deref(ups[2].Payload); p != `{"wrapped":"X"}` {
		t.Fatalf("item payload %q", p)
	}
	if got := invokeOK(t, api, h); got != `["X","Y"]` {
		t.Fatalf("replayed result %s", got)
	}
}

// opSerdes records a whole batch of strings as "OPSERDE:a,b", as conformance 9-19 does.
type opSerdes struct{}

func (opSerdes) Serialize(v any) (string, error) {
	r := v.(durable.BatchResult[string])
	return "OPSERDE:" + strings.Join(r.Values(), ","), nil
}

func (opSerdes) Deserialize(data string, ptr any) error {
	r := ptr.(*durable.BatchResult[string])
	r.CompletionReason = durable.AllCompleted
	for i, v := range strings.Split(strings.TrimPrefix(data, "OPSERDE:"), ",") {
		r.Items = append(r.Items, durable.BatchItem[string]{Index: i, Status: durable.ItemSucceeded, Value: v})
	}
	return nil
}

// wrapSerdes records v as {"wrapped": v}, as conformance 8-15 does.
type wrapSerdes struct{}

func (wrapSerdes) Serialize(v any) (string, error) {
	b, err := json.Marshal(map[string]any{"wrapped": v})
	return string(b), err
}

func (wrapSerdes) Deserialize(data string, ptr any) error {
	var w struct{ Wrapped json.RawMessage }
	if err := json.Unmarshal([]byte(data), &w); err != nil {
		return err
	}
	return json.Unmarshal(w.Wrapped, ptr)
}

func TestMapLargeResultReplaysChildren(t *testing.T) {
	api := fakeapi.New(`null`)
	var calls atomic.Int32
	big := strings.Repeat("x", 70*1024)
	h := wrap(api, func(ctx context.Context, _ any) (projection, error) {
		r, err := durable.Map(ctx, "large", []int{0, 1, 2, 3}, func(ctx context.Context, i, _ int) (string, error) {
			return durable.Step(ctx, "big", func(context.Context) (string, error) {
				calls.Add(1)
				return fmt.Sprint(i, big), nil
			})
		}, durable.WithMaxConcurrency(1))
		if err != nil {
			return projection{}, err
		}
		for i, v := range r.Values() {
			if v != fmt.Sprint(i, big) {
				return projection{}, fmt.Errorf("item %d: %d bytes", i, len(v))
			}
		}
		return project(r), nil
	})
	first := invokeOK(t, api, h)
	if first != `{"completionReason":"ALL_COMPLETED","status":"SUCCEEDED","successCount":4,"failureCount":0,"totalCount":4}` {
		t.Fatalf("result %s", first)
	}
	ups := api.Updates()
	last := ups[len(ups)-1]
	if deref(last.SubType) != "Map" || last.ContextOptions == nil || !*last.ContextOptions.ReplayChildren {
		t.Fatalf("map SUCCEED %s without ReplayChildren", describe([]types.OperationUpdate{last}))
	}
	var summary map[string]any
	if err := json.Unmarshal([]byte(deref(last.Payload)), &summary); err != nil || summary["type"] != "MapResult" ||
		summary["totalCount"] != 4.0 || summary["items"] != nil {
		t.Fatalf("summary %s (%v)", deref(last.Payload), err)
	}
	// Replay rebuilds the result from the recorded items.
	if again := invokeOK(t, api, h); again != first || calls.Load() != 4 {
		t.Fatalf("replay %s after %d step runs", again, calls.Load())
	}
	if len(api.Updates()) != len(ups) {
		t.Fatalf("replay sent %d updates", len(api.Updates())-len(ups))
	}
}

func TestMapItemErrorsAreChildErrorsOnEveryInvocation(t *testing.T) {
	api := fakeapi.New(`null`)
	var seen []string
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		r, err := durable.Map(ctx, "charge", []int{10, 42}, func(_ context.Context, amount, _ int) (int, error) {
			if amount == 42 {
				return 0, &declinedError{Code: "stolen", Amount: amount}
			}
			return amount, nil
		})
		if err != nil {
			return "", err
		}
		var ce *durable.ChildError
		var de *declinedError
		items := r.Failed()
		if len(items) != 1 || !errors.As(items[0].Err, &ce) || !errors.As(r.Err(), &de) {
			return "", fmt.Errorf("failed items %+v, Err %v", items, r.Err())
		}
		var be *durable.BatchError
		if !errors.As(r.Err(), &be) || be.Total != 2 || !strings.Contains(be.Error(), `map "charge": 1 of 2 failed`) {
			return "", fmt.Errorf("batch error %v", r.Err())
		}
		seen = append(seen, fmt.Sprintf("%d|%s|%s|%s", items[0].Index, ce.ErrorType, de.Code, ce.OperationID))
		return "handled", nil
	})
	invokeOK(t, api, h)
	invokeOK(t, api, h)
	if len(seen) != 2 || seen[0] != seen[1] || !strings.HasPrefix(seen[0], "1|durable_test.declinedError|stolen|") {
		t.Fatalf("live and replayed item errors: %q", seen)
	}
}

func TestMapSuspendsAsConformance9_15(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) ([]string, error) {
		r, err := durable.Map(ctx, "suspend", []string{"r0", "r1"}, func(ctx context.Context, s string, i int) (string, error) {
			if i == 1 {
				if err := durable.Wait(ctx, "", time.Second); err != nil {
					return "", err
				}
			}
			return durable.Step(ctx, "", func(context.Context) (string, error) { return s, nil })
		}, durable.WithMaxConcurrency(1))
		if err != nil {
			return nil, err
		}
		return r.Values(), nil
	})
	outs, err := api.Run(context.Background(), h, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Status != "PENDING" || deref(outs[1].Result) != `["r0","r1"]` {
		t.Fatalf("answers %+v", outs)
	}
	assertHistory(t, api,
		"CONTEXT/Map START",
		"CONTEXT/MapIteration START ^0",
		"STEP/Step START ^1",
		"STEP/Step SUCCEED ^1",
		"CONTEXT/MapIteration SUCCEED ^0",
		"CONTEXT/MapIteration START ^0",
		"WAIT/Wait START ^5",
		// second invocation
		"STEP/Step START ^5",
		"STEP/Step SUCCEED ^5",
		"CONTEXT/MapIteration SUCCEED ^0",
		"CONTEXT/Map SUCCEED",
	)
}

func TestMapSuspensionSettlesRunningItemsWithoutLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	api := fakeapi.New(`null`)
	var slowDone atomic.Int32
	retry := durable.WithRetry(durable.RetryPolicy{MaxAttempts: 2, InitialDelay: time.Second, Jitter: durable.NoJitter})
	h := wrap(api, func(ctx context.Context, _ any) ([]int, error) {
		r, err := durable.Map(ctx, "m", []int{0, 1, 2, 3, 4, 5}, func(ctx context.Context, v, i int) (int, error) {
			return durable.Step(ctx, "work", func(ctx context.Context) (int, error) {
				switch {
				case i == 1 && durable.StepAttempt(ctx) == 1:
					return 0, errors.New("transient")
				case i == 0:
					time.Sleep(30 * time.Millisecond) // still running when item 1 suspends
					slowDone.Add(1)
				}
				return v * 10, nil
			}, retry)
		}, durable.WithMaxConcurrency(3))
		if err != nil {
			return nil, err
		}
		return r.Values(), nil
	})
	out, err := api.Invoke(context.Background(), h)
	if err != nil || out.Status != "PENDING" {
		t.Fatalf("first invocation: %+v %v", out, err)
	}
	if slowDone.Load() != 1 {
		t.Fatal("PENDING was answered before the running item settled")
	}
	if op := api.Operation("m"); op == nil || op.Status != types.OperationStatusStarted {
		t.Fatalf("map is %v after suspending", op)
	}
	waitGoroutines(t, before)
	api.Advance()
	if got := invokeOK(t, api, h); got != `[0,10,20,30,40,50]` {
		t.Fatalf("second invocation: %s", got)
	}
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestMapMisuse(t *testing.T) {
	t.Run("max concurrency 0 fails before any checkpoint", func(t *testing.T) {
		for _, n := range []int{0, -1} {
			api := fakeapi.New(`null`)
			h := wrap(api, func(ctx context.Context, _ any) (string, error) {
				_, err := durable.Map(ctx, "m", []int{1}, func(context.Context, int, int) (int, error) { return 0, nil }, durable.WithMaxConcurrency(n))
				if err == nil || !strings.Contains(err.Error(), "max concurrency") {
					return "", fmt.Errorf("got %v", err)
				}
				return "ok", nil
			})
			invokeOK(t, api, h)
			if len(api.Calls()) != 0 {
				t.Fatalf("max concurrency %d made %d checkpoint calls", n, len(api.Calls()))
			}
		}
	})
	t.Run("invalid options", func(t *testing.T) {
		api := fakeapi.New(`null`)
		h := wrap(api, func(ctx context.Context, _ any) (string, error) {
			fn := func(context.Context, int, int) (int, error) { return 0, nil }
			for _, o := range []durable.MapOption{
				durable.WithMinSuccessful(0), durable.WithToleratedFailures(-1), durable.WithToleratedFailurePercentage(101),
				durable.WithItemName(func(s string, _ int) string { return s }),
			} {
				if _, err := durable.Map(ctx, "m", []int{1}, fn, o); err == nil {
					return "", errors.New("an invalid option was accepted")
				}
			}
			return "ok", nil
		})
		invokeOK(t, api, h)
		if len(api.Calls()) != 0 {
			t.Fatalf("invalid options made %d checkpoint calls", len(api.Calls()))
		}
	})
	t.Run("the parent context inside an item", func(t *testing.T) {
		api := fakeapi.New(`null`)
		h := wrap(api, func(ctx context.Context, _ any) (string, error) {
			r, err := durable.Map(ctx, "m", []int{1, 2}, func(ictx context.Context, v, _ int) (int, error) {
				return durable.Step(ctx, "wrong ctx", func(context.Context) (int, error) { return v, nil })
			})
			if err != nil {
				return "", err
			}
			for _, e := range r.Errors() {
				if !errors.Is(e, durable.ErrConcurrentOperation) || !strings.Contains(e.Error(), "durable.Map") {
					return "", fmt.Errorf("item error %v", e)
				}
			}
			if r.FailureCount() != 2 {
				return "", fmt.Errorf("%d failures", r.FailureCount())
			}
			return "ok", nil
		})
		invokeOK(t, api, h)
	})
	t.Run("no execution", func(t *testing.T) {
		_, err := durable.Map(context.Background(), "m", []int{1}, func(context.Context, int, int) (int, error) { return 0, nil })
		if !errors.Is(err, durable.ErrNoExecution) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestMapItemNames(t *testing.T) {
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (int, error) {
		r, err := durable.Map(ctx, "m", []string{"a", "b"}, func(_ context.Context, s string, i int) (int, error) { return i, nil },
			durable.WithItemName(func(s string, i int) string { return fmt.Sprintf("item-%s-%d", s, i) }))
		if err != nil {
			return 0, err
		}
		return r.SuccessCount(), nil
	})
	invokeOK(t, api, h)
	for _, name := range []string{"item-a-0", "item-b-1"} {
		if op := api.Operation(name); op == nil || deref(op.SubType) != "MapIteration" {
			t.Fatalf("no iteration named %s", name)
		}
	}
}

func TestMapEarlyCompletionLeavesRunningItemsStarted(t *testing.T) {
	api := fakeapi.New(`null`)
	release := make(chan struct{})
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		r, err := durable.Map(ctx, "m", []int{0, 1, 2}, func(ctx context.Context, v, i int) (int, error) {
			if i == 1 {
				<-release // slow: still running when two others have succeeded
			}
			return v, nil
		}, durable.WithMinSuccessful(2), durable.WithMaxConcurrency(3))
		close(release)
		if err != nil {
			return "", err
		}
		var st []string
		for _, it := range r.Items {
			st = append(st, string(it.Status))
		}
		return fmt.Sprintf("%s %v", r.CompletionReason, st), nil
	})
	if got := invokeOK(t, api, h); got != `"MIN_SUCCESSFUL_REACHED [SUCCEEDED STARTED SUCCEEDED]"` {
		t.Fatalf("result %s", got)
	}
	// The straggler finished before the invocation answered.
	var ends int
	for _, u := range api.Updates() {
		if deref(u.SubType) == "MapIteration" && u.Action == types.OperationActionSucceed {
			ends++
		}
	}
	if ends != 3 {
		t.Fatalf("%d iterations recorded their end, want 3", ends)
	}
}

// The target: a map of 100 quick items with max concurrency 10
// costs at most 11 checkpoint calls in Sync mode, where every step awaits
// its SUCCEED.
func TestMapOfQuickStepsSharesCheckpointCalls(t *testing.T) {
	// The linger bounds how long a branch waits for the others, and how long
	// a queued update waits for company: a round of items slower than that
	// (on a loaded machine) costs an extra call. The default is 5 ms.
	for _, linger := range []time.Duration{0, 250 * time.Millisecond} {
		t.Run(fmt.Sprint("linger ", linger), func(t *testing.T) {
			api := fakeapi.New(`null`)
			items := make([]int, 100)
			for i := range items {
				items[i] = i
			}
			var opts []middleware.Option
			if linger > 0 {
				opts = append(opts, middleware.WithLinger(linger))
			}
			h := wrap(api, func(ctx context.Context, _ any) (int, error) {
				r, err := durable.Map(ctx, "m", items, func(ctx context.Context, v, _ int) (int, error) {
					return durable.Step(ctx, "double", func(context.Context) (int, error) { return 2 * v, nil })
				}, durable.WithMaxConcurrency(10))
				if err != nil {
					return 0, err
				}
				sum := 0
				for _, v := range r.Values() {
					sum += v
				}
				return sum, r.Err()
			}, opts...)
			if got := invokeOK(t, api, h); got != "9900" {
				t.Fatalf("result %s", got)
			}
			calls := api.Calls()
			if len(api.Updates()) != 2+4*100 {
				t.Fatalf("%d updates", len(api.Updates()))
			}
			t.Logf("%d checkpoint calls", len(calls))
			max := 11
			if linger == 0 {
				max = 25 // a loaded test machine can stretch a round past 5 ms
			}
			if len(calls) > max {
				var sizes []int
				for _, c := range calls {
					sizes = append(sizes, len(c.Updates))
				}
				t.Fatalf("%d checkpoint calls, want at most %d; updates per call %v", len(calls), max, sizes)
			}
		})
	}
}
