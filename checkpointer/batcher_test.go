package checkpointer_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
)

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:fn:1/durable-execution/ex/1"

// long is a Linger no test outlives, so that only Wait and Flush move updates.
const long = time.Hour

func newBatcher(t testing.TB, f *fakeAPI, cfg checkpointer.Config) *checkpointer.Batcher {
	t.Helper()
	cfg.API = f
	cfg.ExecutionARN = testARN
	cfg.Token = "tok0"
	b := checkpointer.New(context.Background(), cfg)
	t.Cleanup(b.Close)
	return b
}

// testCtx bounds every wait of a test so that a bug fails it instead of hanging it.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sizes(calls []call) []int {
	var n []int
	for _, c := range calls {
		n = append(n, len(c.Updates))
	}
	return n
}

func TestOrderAndTokenChaining(t *testing.T) {
	f := &fakeAPI{latency: time.Millisecond}
	b := newBatcher(t, f, checkpointer.Config{Linger: time.Millisecond})
	ctx := testCtx(t)

	// Four goroutines enqueue under one lock, so that the enqueue order is known.
	var mu sync.Mutex
	var want []string
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				u := step(fmt.Sprintf("g%d-%d", g, i), types.OperationActionStart)
				mu.Lock()
				tk := b.Enqueue(u)
				want = append(want, fmt.Sprintf("g%d-%d:START", g, i))
				mu.Unlock()
				if i%7 == 0 {
					if err := tk.Wait(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	attempts, calls, applied := f.snapshot()
	if !slices.Equal(applied, want) {
		t.Errorf("applied order differs from enqueue order:\n got %v\nwant %v", applied, want)
	}
	if len(attempts) != len(calls) {
		t.Errorf("%d requests for %d accepted calls", len(attempts), len(calls))
	}
	seen := map[string]bool{}
	for i, c := range calls {
		if wantTok := fmt.Sprintf("tok%d", i); c.Token != wantTok {
			t.Errorf("call %d used token %q, want %q", i, c.Token, wantTok)
		}
		if c.ClientToken == "" || seen[c.ClientToken] {
			t.Errorf("call %d: ClientToken %q is empty or reused", i, c.ClientToken)
		}
		seen[c.ClientToken] = true
	}
	if s := b.Stats(); s.Calls != len(calls) || s.Updates != 400 {
		t.Errorf("Stats = %+v, want %d calls and 400 updates", s, len(calls))
	}
}

func TestQuickStepLeavesInOneCall(t *testing.T) {
	f := &fakeAPI{}
	b := newBatcher(t, f, checkpointer.Config{Linger: long})
	b.Enqueue(step("s1", types.OperationActionStart))
	if err := b.Enqueue(step("s1", types.OperationActionSucceed)).Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	_, calls, _ := f.snapshot()
	if len(calls) != 1 || !slices.Equal(calls[0].Updates, []string{"s1:START", "s1:SUCCEED"}) {
		t.Fatalf("calls = %+v, want one call with START and SUCCEED", calls)
	}
}

func TestStartAloneLeavesAfterLinger(t *testing.T) {
	const linger = 50 * time.Millisecond
	f := &fakeAPI{}
	b := newBatcher(t, f, checkpointer.Config{Linger: linger})
	start := time.Now()
	tk := b.Enqueue(step("s1", types.OperationActionStart))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, calls, _ := f.snapshot(); len(calls) == 1 {
			if waited := calls[0].At.Sub(start); waited < linger {
				t.Errorf("START left after %v, before the %v linger", waited, linger)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("START did not leave on its own")
		}
		time.Sleep(time.Millisecond)
	}
	if err := tk.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestUpdatesQueuedDuringACallShareTheNext(t *testing.T) {
	f := &fakeAPI{latency: 2 * time.Millisecond, gate: make(chan struct{}), entered: make(chan struct{}, 1000)}
	b := newBatcher(t, f, checkpointer.Config{})
	ctx := testCtx(t)

	first := b.Enqueue(step("first", types.OperationActionStart))
	errs := make(chan error, 101)
	go func() { errs <- first.Wait(ctx) }()
	<-f.entered // the first call is in flight and held at the gate

	var wg sync.WaitGroup
	for i := range 100 {
		tk := b.Enqueue(step(fmt.Sprint("s", i), types.OperationActionSucceed))
		wg.Go(func() { errs <- tk.Wait(ctx) })
	}
	close(f.gate)
	wg.Wait()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	_, calls, applied := f.snapshot()
	if len(calls) > 10 || len(applied) != 101 {
		t.Fatalf("%d updates in %d calls %v, want all 101 in at most 10", len(applied), len(calls), sizes(calls))
	}
}

func TestConcurrentQuickStepsShareCalls(t *testing.T) {
	f := &fakeAPI{latency: 2 * time.Millisecond}
	b := newBatcher(t, f, checkpointer.Config{Linger: long})
	ctx := testCtx(t)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			<-ready
			id := fmt.Sprint("s", i)
			b.Enqueue(step(id, types.OperationActionStart))
			if err := b.Enqueue(step(id, types.OperationActionSucceed)).Wait(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	close(ready)
	wg.Wait()
	_, calls, applied := f.snapshot()
	if len(calls) > 10 || len(applied) != 200 {
		t.Fatalf("%d updates in %d calls %v, want 200 in at most 10", len(applied), len(calls), sizes(calls))
	}
}

func TestBatchSplits(t *testing.T) {
	payload := func(id string, n int) types.OperationUpdate {
		u := step(id, types.OperationActionSucceed)
		u.Payload = ptr(strings.Repeat("x", n))
		return u
	}
	typed := func(id string, typ types.OperationType, a types.OperationAction) types.OperationUpdate {
		return types.OperationUpdate{Id: ptr(id), Type: typ, Action: a}
	}
	var ten []types.OperationUpdate
	for i := range 10 {
		ten = append(ten, step(fmt.Sprint("s", i), types.OperationActionStart))
	}
	tests := []struct {
		name    string
		cfg     checkpointer.Config
		updates []types.OperationUpdate
		want    []int
	}{
		{"count cap", checkpointer.Config{MaxUpdates: 3}, ten, []int{3, 3, 3, 1}},
		{"byte cap", checkpointer.Config{MaxBytes: 2600},
			[]types.OperationUpdate{payload("a", 1000), payload("b", 1000), payload("c", 1000), payload("d", 1000), payload("e", 1000)},
			[]int{2, 2, 1}},
		{"oversized update alone", checkpointer.Config{MaxBytes: 1000},
			[]types.OperationUpdate{payload("a", 10), payload("b", 5000), payload("c", 10)},
			[]int{1, 1, 1}},
		{"escaping counts", checkpointer.Config{MaxBytes: 2600},
			[]types.OperationUpdate{payload("a", 10), func() types.OperationUpdate {
				u := payload("b", 0)
				u.Payload = ptr(strings.Repeat("\x01", 400)) // 2400 bytes once escaped
				return u
			}()},
			[]int{1, 1}},
		{"START and SUCCEED of a step together", checkpointer.Config{},
			[]types.OperationUpdate{step("a", types.OperationActionStart), step("a", types.OperationActionSucceed), step("b", types.OperationActionStart)},
			[]int{3}},
		{"third update of an Id waits", checkpointer.Config{},
			[]types.OperationUpdate{step("a", types.OperationActionStart), step("a", types.OperationActionRetry), step("a", types.OperationActionStart)},
			[]int{2, 1}},
		{"RETRY then START waits", checkpointer.Config{},
			[]types.OperationUpdate{step("a", types.OperationActionRetry), step("a", types.OperationActionStart)},
			[]int{1, 1}},
		{"WAIT START and CANCEL apart", checkpointer.Config{},
			[]types.OperationUpdate{typed("w", types.OperationTypeWait, types.OperationActionStart), typed("w", types.OperationTypeWait, types.OperationActionCancel)},
			[]int{1, 1}},
		{"context with children", checkpointer.Config{},
			[]types.OperationUpdate{
				typed("c", types.OperationTypeContext, types.OperationActionStart),
				step("x", types.OperationActionStart), step("x", types.OperationActionSucceed),
				typed("c", types.OperationTypeContext, types.OperationActionSucceed)},
			[]int{4}},
		{"EXECUTION update last", checkpointer.Config{},
			[]types.OperationUpdate{step("a", types.OperationActionSucceed), typed("r", types.OperationTypeExecution, types.OperationActionSucceed), step("b", types.OperationActionStart)},
			[]int{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAPI{}
			tt.cfg.Linger = long
			b := newBatcher(t, f, tt.cfg)
			var want []string
			for _, u := range tt.updates {
				b.Enqueue(u)
				want = append(want, key(u))
			}
			if err := b.Flush(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			_, calls, applied := f.snapshot()
			if got := sizes(calls); !slices.Equal(got, tt.want) {
				t.Errorf("call sizes = %v, want %v", got, tt.want)
			}
			if !slices.Equal(applied, want) {
				t.Errorf("applied %v, want %v", applied, want)
			}
		})
	}
}

func TestOnStateBeforeTicketsAreReleased(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	var (
		mu      sync.Mutex
		tickets []*checkpointer.Ticket
		got     [][]string
	)
	f := &fakeAPI{}
	b := newBatcher(t, f, checkpointer.Config{Linger: long, OnState: func(ops []types.Operation) {
		mu.Lock()
		defer mu.Unlock()
		var ids []string
		for _, o := range ops {
			ids = append(ids, deref(o.Id))
		}
		got = append(got, ids)
		for i, tk := range tickets {
			if err := tk.Wait(cancelled); !errors.Is(err, context.Canceled) {
				t.Errorf("ticket %d resolved (%v) before OnState returned", i, err)
			}
		}
	}})
	mu.Lock()
	tickets = append(tickets, b.Enqueue(step("a", types.OperationActionStart)), b.Enqueue(step("a", types.OperationActionSucceed)))
	mu.Unlock()
	if err := tickets[1].Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := tickets[0].Wait(cancelled); err != nil {
		t.Errorf("first ticket: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := [][]string{{"a", "a"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("OnState got %v, want %v", got, want)
	}
}

func TestNextMarkerIsPagedWithTheNewToken(t *testing.T) {
	var got []string
	f := &fakeAPI{marker: "m1", pages: map[string]page{
		"m1": {ops: []types.Operation{op("p1")}, next: "m2"},
		"m2": {ops: []types.Operation{op("p2")}},
	}}
	b := newBatcher(t, f, checkpointer.Config{Linger: long, OnState: func(ops []types.Operation) {
		for _, o := range ops {
			got = append(got, deref(o.Id))
		}
		got = append(got, "|")
	}})
	if err := b.Enqueue(step("a", types.OperationActionSucceed)).Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "p1", "p2", "|"}; !slices.Equal(got, want) {
		t.Errorf("OnState got %v, want %v", got, want)
	}
	want := []read{{Token: "tok1", Marker: "m1", MaxItems: 1000}, {Token: "tok1", Marker: "m2", MaxItems: 1000}}
	if reads := f.stateReads(); !slices.Equal(reads, want) {
		t.Errorf("state reads = %+v, want %+v", reads, want)
	}
}

func TestPagingFailureFailsTheTickets(t *testing.T) {
	f := &fakeAPI{marker: "m1", pages: map[string]page{}}
	b := newBatcher(t, f, checkpointer.Config{Linger: long})
	err := b.Enqueue(step("a", types.OperationActionSucceed)).Wait(testCtx(t))
	var cerr *checkpointer.Error
	if !errors.As(err, &cerr) || cerr.Op != "GetDurableExecutionState" || cerr.Retryable {
		t.Fatalf("Wait = %v, want a non-retryable GetDurableExecutionState *Error", err)
	}
}

func TestTerminalResponse(t *testing.T) {
	f := &fakeAPI{noToken: true}
	b := newBatcher(t, f, checkpointer.Config{Linger: long})
	ctx := testCtx(t)
	exec := types.OperationUpdate{Id: ptr("execution-result-1"), Type: types.OperationTypeExecution, Action: types.OperationActionSucceed}
	if err := b.Enqueue(exec).Wait(ctx); err != nil {
		t.Fatalf("the call that ended the execution: %v", err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush with nothing new: %v", err)
	}
	if err := b.Err(); err != nil {
		t.Fatalf("Err after a terminal answer = %v, want nil", err)
	}
	if err := b.Enqueue(step("late", types.OperationActionStart)).Wait(ctx); !errors.Is(err, checkpointer.ErrTerminal) {
		t.Fatalf("update after the end = %v, want ErrTerminal", err)
	}
	if err := b.Err(); !errors.Is(err, checkpointer.ErrTerminal) {
		t.Fatalf("Err = %v, want ErrTerminal", err)
	}
	if attempts, _, _ := f.snapshot(); len(attempts) != 1 {
		t.Fatalf("%d requests, want 1", len(attempts))
	}
}

func TestCloseFailsPendingTickets(t *testing.T) {
	f := &fakeAPI{gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	b := newBatcher(t, f, checkpointer.Config{Linger: long})
	inFlight := b.Enqueue(step("a", types.OperationActionStart))
	errs := make(chan error, 1)
	go func() { errs <- inFlight.Wait(context.Background()) }()
	<-f.entered
	queued := b.Enqueue(step("b", types.OperationActionStart))

	b.Close()
	b.Close()
	if err := <-errs; !errors.Is(err, checkpointer.ErrClosed) {
		t.Errorf("in-flight ticket: %v, want ErrClosed", err)
	}
	if err := queued.Wait(context.Background()); !errors.Is(err, checkpointer.ErrClosed) {
		t.Errorf("queued ticket: %v, want ErrClosed", err)
	}
	if err := b.Enqueue(step("c", types.OperationActionStart)).Wait(context.Background()); !errors.Is(err, checkpointer.ErrClosed) {
		t.Errorf("ticket after Close: %v, want ErrClosed", err)
	}
	if err := b.Flush(context.Background()); !errors.Is(err, checkpointer.ErrClosed) {
		t.Errorf("Flush after Close: %v, want ErrClosed", err)
	}
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx := testCtx(t)
	for i := range 20 {
		f := &fakeAPI{latency: time.Millisecond}
		b := checkpointer.New(ctx, checkpointer.Config{API: f, ExecutionARN: testARN, Token: "tok0", Linger: 20 * time.Millisecond})
		b.Enqueue(step("a", types.OperationActionStart))
		switch i % 3 {
		case 0: // idle with the linger timer armed
		case 1: // flushed
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		case 2: // a call in flight
			go b.Flush(ctx)
		}
		b.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestContextCancellationFailsPendingTickets(t *testing.T) {
	f := &fakeAPI{gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	b := checkpointer.New(ctx, checkpointer.Config{API: f, ExecutionARN: testARN, Token: "tok0", Linger: long})
	defer b.Close()
	inFlight := b.Enqueue(step("a", types.OperationActionStart))
	errs := make(chan error, 1)
	go func() { errs <- inFlight.Wait(context.Background()) }()
	<-f.entered
	queued := b.Enqueue(step("b", types.OperationActionStart))
	cancel()
	for _, err := range []error{<-errs, queued.Wait(context.Background()), b.Enqueue(step("c", types.OperationActionStart)).Wait(context.Background())} {
		var cerr *checkpointer.Error
		if !errors.Is(err, context.Canceled) || !errors.As(err, &cerr) || !cerr.Retryable {
			t.Errorf("ticket: %v, want a retryable *Error wrapping context.Canceled", err)
		}
	}
}

func TestWaitContext(t *testing.T) {
	f := &fakeAPI{gate: make(chan struct{})}
	b := newBatcher(t, f, checkpointer.Config{Linger: long})
	tk := b.Enqueue(step("a", types.OperationActionStart))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := tk.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want DeadlineExceeded", err)
	}
	close(f.gate)
	if err := tk.Wait(testCtx(t)); err != nil {
		t.Fatalf("the update still leaves: %v", err)
	}
}

func TestNegativeLingerSendsAtOnce(t *testing.T) {
	f := &fakeAPI{}
	b := newBatcher(t, f, checkpointer.Config{Linger: -1})
	b.Enqueue(step("a", types.OperationActionStart))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, calls, _ := f.snapshot(); len(calls) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("update did not leave")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[checkpointer.Mode]string{checkpointer.Sync: "Sync", checkpointer.Pipelined: "Pipelined", 7: "Mode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}

// BenchmarkEnqueueWait is a quick sequential step in Sync mode: START
// enqueued, SUCCEED awaited, one call.
func BenchmarkEnqueueWait(b *testing.B) {
	api := &instantAPI{}
	bt := checkpointer.New(context.Background(), checkpointer.Config{API: api, ExecutionARN: testARN, Token: "t", Linger: long})
	defer bt.Close()
	ctx := context.Background()
	start, succeed := step("s", types.OperationActionStart), step("s", types.OperationActionSucceed)
	b.ReportAllocs()
	for b.Loop() {
		bt.Enqueue(start)
		if err := bt.Enqueue(succeed).Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(bt.Stats().Calls)/float64(b.N), "calls/op")
}

// BenchmarkEnqueuePipelined is a stream of quick steps in Pipelined mode:
// nothing is awaited but a Flush every 100 steps.
func BenchmarkEnqueuePipelined(b *testing.B) {
	api := &instantAPI{}
	bt := checkpointer.New(context.Background(), checkpointer.Config{API: api, ExecutionARN: testARN, Token: "t"})
	defer bt.Close()
	// Distinct Ids, so that only the caps and the linger cut calls.
	var starts, succeeds [1024]types.OperationUpdate
	for i := range starts {
		id := fmt.Sprint("s", i)
		starts[i], succeeds[i] = step(id, types.OperationActionStart), step(id, types.OperationActionSucceed)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bt.Enqueue(starts[i%len(starts)])
		bt.Enqueue(succeeds[i%len(starts)])
		if i++; i%100 == 0 {
			if err := bt.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := bt.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(bt.Stats().Calls)/float64(b.N), "calls/op")
}

// instantAPI answers at once and allocates nothing, so that benchmarks
// measure the batcher.
type instantAPI struct{}

var instantOut = &lambda.CheckpointDurableExecutionOutput{CheckpointToken: ptr("t"), NewExecutionState: &types.CheckpointUpdatedExecutionState{}}

func (instantAPI) CheckpointDurableExecution(context.Context, *lambda.CheckpointDurableExecutionInput, ...func(*lambda.Options)) (*lambda.CheckpointDurableExecutionOutput, error) {
	return instantOut, nil
}

func (instantAPI) GetDurableExecutionState(context.Context, *lambda.GetDurableExecutionStateInput, ...func(*lambda.Options)) (*lambda.GetDurableExecutionStateOutput, error) {
	return &lambda.GetDurableExecutionStateOutput{}, nil
}
