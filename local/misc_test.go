package local

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestAutoAdvance: with WithAutoAdvance a day of waits takes no wall time.
func TestAutoAdvance(t *testing.T) {
	var idle atomic.Int32
	s, err := New(WithAutoAdvance(), WithIdleFunc(func() { idle.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Register("days", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		for i, id := range []string{"a", "b", "c"} {
			if env.op(id) == nil {
				cp.must(ctx, waitStart(id, 8*3600))
				return pending()
			}
			_ = i
		}
		return succeeded("3")
	}))
	ctx := testContext(t)
	start := time.Now()
	begin := s.Clock().Now()
	arn, err := s.Start(ctx, "days", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Wait(ctx, arn)
	if err != nil || out.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("%+v %v", out, err)
	}
	if d := out.EndTimestamp.Sub(begin); d < 24*time.Hour || d > 24*time.Hour+time.Second {
		t.Errorf("virtual duration %v", d)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v of wall time", time.Since(start))
	}
	if idle.Load() < 3 { // the last one may come after Wait returns
		t.Errorf("idle hook called %d times", idle.Load())
	}
	if _, err := s.AdvanceToNextTimer(ctx); err != nil && !errors.Is(err, ErrNoTimer) {
		t.Errorf("AdvanceToNextTimer: %v", err)
	}
}

// TestRealClock: a short wait on the wall clock.
func TestRealClock(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Register("fn", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		if env.op("w") == nil {
			cp.must(ctx, waitStart("w", 1))
			return pending()
		}
		return succeeded("1")
	}))
	ctx := testContext(t)
	arn, err := s.Start(ctx, "fn", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.RunUntilTerminal(ctx, arn)
	if err != nil || out.Status != types.ExecutionStatusSucceeded || out.EndTimestamp.Sub(*out.StartTimestamp) < time.Second {
		t.Fatalf("%+v %v", out, err)
	}
	if _, err := s.AdvanceToNextTimer(ctx); !errors.Is(err, ErrRealClock) {
		t.Errorf("AdvanceToNextTimer on a real clock: %v", err)
	}
}

// TestFunctionTimeout: an invocation that outlives the function timeout is
// abandoned as Sandbox.Timedout and retried.
func TestFunctionTimeout(t *testing.T) {
	s, _ := newTestService(t, WithFailedInvocationPolicy(2, 0))
	var n atomic.Int32
	s.Register("stuck", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		n.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	}), WithFunctionTimeout(50*time.Millisecond))
	out, h := runToEnd(t, s, "stuck", "{}")
	if out.Status != types.ExecutionStatusFailed || aws.ToString(out.Error.ErrorType) != "Sandbox.Timedout" || n.Load() != 2 {
		t.Fatalf("%s %s %s after %d invocations", out.Status, aws.ToString(out.Error.ErrorType), aws.ToString(out.Error.ErrorMessage), n.Load())
	}
	wantEvents(t, h, "ExecutionStarted", "InvocationCompleted", "InvocationCompleted", "ExecutionFailed")
	matchHistory(t, h, []map[string]any{{"EventId": 2, "InvocationCompletedDetails": M{"Error": M{"Payload": M{
		"ErrorType": "Sandbox.Timedout", "ErrorMessage": "${/Task timed out after 0.05 seconds/}"}}}}})
}

// TestStartErrors: names, payloads and functions are checked.
func TestStartErrors(t *testing.T) {
	s, _ := newTestService(t)
	ctx := testContext(t)
	s.Register("fn", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		return succeeded("1")
	}))
	for _, tc := range []struct {
		fn, payload string
		opts        []StartOption
		code        string
	}{
		{"nope", "{}", nil, codeNotFound},
		{"bad name!", "{}", nil, codeInvalidParameter},
		{"fn", "{", nil, codeInvalidContent},
		{"fn", "{}", []StartOption{WithExecutionName("has space")}, codeInvalidParameter},
		{"fn", strings.Repeat(" ", maxPayload+1), nil, codeRequestTooLarge},
	} {
		_, err := s.Start(ctx, tc.fn, []byte(tc.payload), tc.opts...)
		if ae := asAPIError(err); err == nil || ae.code != tc.code {
			t.Errorf("Start(%q, %.10q): %v, want %s", tc.fn, tc.payload, err, tc.code)
		}
	}
	a, err := s.Start(ctx, "fn", []byte(`{"a":1}`), WithExecutionName("n1"), WithTenantID("t1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Start(ctx, "arn:aws:lambda:us-east-1:123456789012:function:fn", []byte(`{"a":1}`), WithExecutionName("n1"))
	if err != nil || a != b {
		t.Errorf("same name and input: %v %v %v", a, b, err)
	}
	if _, err := s.Start(ctx, "fn", []byte(`{"a":2}`), WithExecutionName("n1")); asAPIError(err).code != codeAlreadyStarted {
		t.Errorf("same name, other input: %v", err)
	}
}

// TestUnregisteredFunction: executions of a function that is not
// registered (yet) wait for it.
func TestParkedUntilRegistered(t *testing.T) {
	store := NewMemoryStore()
	vc := NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s1, err := New(WithClock(vc), WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	s1.Register("fn", durable(t, s1, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		cp.must(ctx, waitStart("w", 10))
		return pending()
	}))
	ctx := testContext(t)
	arn, err := s1.Start(ctx, "fn", nil)
	if err != nil {
		t.Fatal(err)
	}
	s1.WaitIdle(ctx)
	s1.Close()

	s2, err := New(WithClock(vc), WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.AdvanceToNextTimer(ctx); err != nil { // the wait completes; the invocation waits for "fn"
		t.Fatal(err)
	}
	if err := s2.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	s2.Register("fn", durable(t, s2, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		n.Add(1)
		return succeeded("1")
	}))
	out, err := s2.RunUntilTerminal(ctx, arn)
	if err != nil || out.Status != types.ExecutionStatusSucceeded || n.Load() != 1 {
		t.Fatalf("%+v %v after %d invocations", out, err, n.Load())
	}
}

// TestConcurrentExecutions runs many executions at once on one service.
func TestConcurrentExecutions(t *testing.T) {
	s, err := New(WithAutoAdvance())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Register("fn", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		switch {
		case env.op("s") == nil:
			cp.must(ctx, stepStart("s", ""), stepSucceed("s", "1"), waitStart("w", 60))
			return pending()
		}
		return succeeded("2")
	}))
	ctx := testContext(t)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.API().Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fn")})
			if err != nil || string(out.Payload) != "2" {
				t.Errorf("invoke: %v %v", out, err)
			}
		}()
	}
	wg.Wait()
}

func TestVirtualClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	vc := NewVirtualClock(t0)
	var order []string
	vc.AfterFunc(2*time.Second, func() { order = append(order, "b") })
	vc.AfterFunc(time.Second, func() {
		order = append(order, "a")
		if !vc.Now().Equal(t0.Add(time.Second)) {
			t.Errorf("now in timer = %v", vc.Now())
		}
		vc.AfterFunc(0, func() { order = append(order, "a0") })
	})
	stopped := vc.AfterFunc(time.Second, func() { order = append(order, "stopped") })
	vc.AfterFunc(2*time.Second, func() { order = append(order, "b2") })
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop")
	}
	if next, ok := vc.Next(); !ok || !next.Equal(t0.Add(time.Second)) {
		t.Errorf("Next = %v %v", next, ok)
	}
	if n := vc.Advance(1500 * time.Millisecond); n != 2 {
		t.Errorf("fired %d", n)
	}
	if at, ok := vc.AdvanceToNext(); !ok || !at.Equal(t0.Add(2*time.Second)) {
		t.Errorf("AdvanceToNext = %v %v", at, ok)
	}
	if got := strings.Join(order, " "); got != "a a0 b b2" {
		t.Errorf("order = %q", got)
	}
	if _, ok := vc.AdvanceToNext(); ok || vc.Pending() != 0 {
		t.Error("timers left")
	}
	vc.AdvanceTo(t0) // never backwards
	if !vc.Now().Equal(t0.Add(2 * time.Second)) {
		t.Errorf("now = %v", vc.Now())
	}
}

// TestWireJSON pins the restJson1 encoding: epoch seconds (or millis in the
// invocation input), omitted absent members, escaping.
func TestWireJSON(t *testing.T) {
	ts := time.Date(2026, 1, 1, 0, 0, 0, 123e6, time.UTC)
	op := types.Operation{
		Id: aws.String("a\"b\n\x01é\xff"), Type: types.OperationTypeStep, Status: types.OperationStatusPending,
		StartTimestamp: &ts,
		StepDetails:    &types.StepDetails{Attempt: 1, NextAttemptTimestamp: aws.Time(ts.Add(877 * time.Millisecond))},
	}
	got := string(appendJSON(nil, &op, epochSeconds))
	want := `{"Id":"a\"b\n\u0001é\ufffd","StartTimestamp":1767225600.123,"Status":"PENDING","Type":"STEP","StepDetails":{"Attempt":1,"NextAttemptTimestamp":1767225601}}`
	if got != want {
		t.Errorf("seconds:\n got %s\nwant %s", got, want)
	}
	got = string(appendJSON(nil, &op, epochMillis))
	if !strings.Contains(got, `"StartTimestamp":1767225600123`) || !strings.Contains(got, `"NextAttemptTimestamp":1767225601000`) {
		t.Errorf("millis: %s", got)
	}
	var v any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Error(err)
	}
	out := lambda.CheckpointDurableExecutionOutput{NewExecutionState: &types.CheckpointUpdatedExecutionState{Operations: []types.Operation{}}}
	if got := string(appendJSON(nil, &out, epochSeconds)); got != `{"NewExecutionState":{"Operations":[]}}` {
		t.Errorf("output: %s", got)
	}
}

func TestNames(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST/durable-execution/order-1/abc-123"
	fn, q, name, id, ok := parseExecutionARN(arn)
	if !ok || fn != "my-fn" || q != "$LATEST" || name != "order-1" || id != "abc-123" {
		t.Errorf("parseExecutionARN = %q %q %q %q %v", fn, q, name, id, ok)
	}
	for _, bad := range []string{"", "arn:aws:lambda:us-east-1:1:function:f/durable-execution/n/i", "x/durable-execution/n/i", arn + "/x"} {
		if _, _, _, _, ok := parseExecutionARN(bad); ok {
			t.Errorf("parseExecutionARN(%q) ok", bad)
		}
	}
	for in, want := range map[string][2]string{
		"fn": {"fn", ""}, "fn:3": {"fn", "3"}, "123456789012:function:fn": {"fn", ""},
		"123456789012:function:fn:$LATEST":                       {"fn", "$LATEST"},
		"arn:aws:lambda:us-east-1:123456789012:function:fn":      {"fn", ""},
		"arn:aws:lambda:us-east-1:123456789012:function:fn:prod": {"fn", "prod"},
	} {
		n, q, ok := parseFunctionName(in)
		if !ok || n != want[0] || q != want[1] {
			t.Errorf("parseFunctionName(%q) = %q %q %v", in, n, q, ok)
		}
	}
	for _, bad := range []string{"", "a b", "fn:", "a:b:c", "arn:aws:s3:::bucket", strings.Repeat("f", 65)} {
		if _, _, ok := parseFunctionName(bad); ok {
			t.Errorf("parseFunctionName(%q) ok", bad)
		}
	}
	tok := checkpointToken("inv-1", 7)
	if inv, seq, ok := parseCheckpointToken(tok); !ok || inv != "inv-1" || seq != 7 {
		t.Errorf("token round trip: %q %d %v", inv, seq, ok)
	}
	cb := newCallbackID("exec", "op-1")
	if e, o, ok := parseCallbackID(cb); !ok || e != "exec" || o != "op-1" {
		t.Errorf("callback id round trip: %q %q %v", e, o, ok)
	}
	if cb == newCallbackID("exec", "op-1") {
		t.Error("callback ids are not random")
	}
}

func FuzzCheckpointToken(f *testing.F) {
	f.Add(checkpointToken("inv", 1))
	f.Add("dG9r")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		if inv, seq, ok := parseCheckpointToken(s); ok && checkpointToken(inv, seq) != s {
			// Non-canonical encodings may parse; they must never match a
			// token the service issued for another invocation.
			if _, _, ok2 := parseCheckpointToken(checkpointToken(inv, seq)); !ok2 {
				t.Errorf("re-encoded token does not parse")
			}
		}
		parseCallbackID(s)
		parseExecutionARN(s)
		parseFunctionName(s)
	})
}

// TestAutoAdvanceCallbacks: auto-advance does not push an execution waiting
// for a callback into its timeouts; a timeout due before a wait ends fires on
// the way.
func TestAutoAdvanceCallbacks(t *testing.T) {
	s, err := New(WithAutoAdvance())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := testContext(t)
	ids := make(chan string, 2)
	s.Register("cb", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		input := env.InitialExecutionState.Operations[0]["ExecutionDetails"].(map[string]any)["InputPayload"]
		cb := env.op("cb")
		if cb == nil {
			u := update("cb", types.OperationTypeCallback, types.OperationActionStart)
			u.CallbackOptions = &types.CallbackOptions{TimeoutSeconds: 60}
			ups := []types.OperationUpdate{u}
			if input == `"with-wait"` {
				ups = append(ups, waitStart("w", 3600))
			}
			out := cp.must(ctx, ups...)
			ids <- *out.NewExecutionState.Operations[0].CallbackDetails.CallbackId
			return pending()
		}
		if cb["Status"] == "STARTED" || (input == `"with-wait"` && env.op("w")["Status"] != "SUCCEEDED") {
			return pending()
		}
		return succeeded(`"` + cb["Status"].(string) + `"`)
	}))
	arn, err := s.Start(ctx, "cb", []byte(`"plain"`))
	if err != nil {
		t.Fatal(err)
	}
	id := <-ids
	s.WaitIdle(ctx)
	time.Sleep(20 * time.Millisecond) // give the auto-advance loop a chance to misbehave
	if _, err := s.API().SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: &id}); err != nil {
		t.Fatalf("the callback timed out: %v", err)
	}
	out, err := s.Wait(ctx, arn)
	if err != nil || aws.ToString(out.Result) != `"SUCCEEDED"` || out.EndTimestamp.Sub(*out.StartTimestamp) != 0 {
		t.Fatalf("%+v %v", out, err)
	}

	arn, err = s.Start(ctx, "cb", []byte(`"with-wait"`))
	if err != nil {
		t.Fatal(err)
	}
	<-ids
	out, err = s.Wait(ctx, arn)
	if err != nil || aws.ToString(out.Result) != `"TIMED_OUT"` || out.EndTimestamp.Sub(*out.StartTimestamp) != time.Hour {
		t.Fatalf("%+v %v", out, err)
	}
}
