package local

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/durablectx/durable/checkpointer"
)

var (
	_ checkpointer.API = (*Client)(nil)
	_ checkpointer.API = (*lambda.Client)(nil)
)

// sdkClient returns the real Lambda client pointed at url.
func sdkClient(url string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func newHTTPService(t *testing.T, opts ...Option) (*Service, *lambda.Client, *httptest.Server) {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		s.Close()
	})
	return s, sdkClient(srv.URL), srv
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestHTTPWithSDK drives every route of the HTTP API with the real
// aws-sdk-go-v2 Lambda client; the handler itself checkpoints over HTTP.
func TestHTTPWithSDK(t *testing.T) {
	// A virtual clock nobody moves: the callbacks never time out.
	s, c, _ := newHTTPService(t, WithClock(NewVirtualClock(time.Now())))
	ctx := testContext(t)
	callbackIDs := make(chan string, 4)
	var staleToken string

	s.Register("approval", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		env := decodeEnvelope(t, payload)
		arn, tok := env.DurableExecutionArn, env.CheckpointToken
		if env.op("cb") == nil {
			out, err := c.CheckpointDurableExecution(ctx, &lambda.CheckpointDurableExecutionInput{
				DurableExecutionArn: aws.String(arn),
				CheckpointToken:     aws.String(tok),
				Updates: []types.OperationUpdate{
					stepStart("s1", "prepare"), stepSucceed("s1", `"ready"`),
					{Id: aws.String("cb"), Type: types.OperationTypeCallback, Action: types.OperationActionStart,
						SubType: aws.String("Callback"), Name: aws.String("approve"),
						CallbackOptions: &types.CallbackOptions{TimeoutSeconds: 3600, HeartbeatTimeoutSeconds: 600}},
				},
			})
			if err != nil {
				t.Errorf("checkpoint: %v", err)
				return nil, err
			}
			ops := out.NewExecutionState.Operations
			if len(ops) != 2 || ops[1].CallbackDetails == nil || ops[1].CallbackDetails.CallbackId == nil {
				t.Errorf("delta = %+v", ops)
				return json.Marshal(pending())
			}
			if ops[0].StartTimestamp == nil || ops[0].StartTimestamp.IsZero() {
				t.Errorf("StartTimestamp not decoded: %+v", ops[0])
			}
			staleToken = tok
			callbackIDs <- *ops[1].CallbackDetails.CallbackId
			return json.Marshal(pending())
		}
		// Second invocation: page through the state over HTTP, one op a time.
		var ids []string
		var marker *string
		for {
			st, err := c.GetDurableExecutionState(ctx, &lambda.GetDurableExecutionStateInput{
				DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(tok), Marker: marker, MaxItems: 1,
			})
			if err != nil {
				t.Errorf("state: %v", err)
				return nil, err
			}
			for _, o := range st.Operations {
				ids = append(ids, *o.Id)
			}
			if st.NextMarker == nil {
				break
			}
			marker = st.NextMarker
		}
		if len(ids) != 3 || ids[1] != "s1" || ids[2] != "cb" {
			t.Errorf("state ids = %v", ids)
		}
		cb := env.op("cb")["CallbackDetails"].(map[string]any)
		if r, ok := cb["Result"].(string); ok {
			return json.Marshal(succeeded(r))
		}
		return json.Marshal(output{Status: "FAILED", Error: &types.ErrorObject{ErrorType: aws.String("CallbackError")}})
	}))

	// Event invoke: 202 and the ARN header.
	inv, err := c.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:         aws.String("approval"),
		InvocationType:       types.InvocationTypeEvent,
		DurableExecutionName: aws.String("order-42"),
		Payload:              []byte(`{"id":42}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if inv.StatusCode != 202 || inv.DurableExecutionArn == nil {
		t.Fatalf("invoke = %d %v", inv.StatusCode, inv.DurableExecutionArn)
	}
	arn := *inv.DurableExecutionArn
	if !strings.HasPrefix(arn, "arn:aws:lambda:us-east-1:123456789012:function:approval:$LATEST/durable-execution/order-42/") {
		t.Errorf("ARN = %s", arn)
	}

	// Same name, same input: the same execution. Other input: 409.
	again, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("approval"), InvocationType: types.InvocationTypeEvent,
		DurableExecutionName: aws.String("order-42"), Payload: []byte(`{"id":42}`)})
	if err != nil || *again.DurableExecutionArn != arn {
		t.Fatalf("idempotent invoke = %v, %v", again, err)
	}
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("approval"), InvocationType: types.InvocationTypeEvent,
		DurableExecutionName: aws.String("order-42"), Payload: []byte(`{"id":43}`)})
	var started *types.DurableExecutionAlreadyStartedException
	if !errors.As(err, &started) {
		t.Fatalf("conflicting name: %v", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 409 {
		t.Errorf("conflict status: %v", err)
	}

	cbID := <-callbackIDs
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}

	// The first invocation's token is stale now.
	_, err = c.CheckpointDurableExecution(ctx, &lambda.CheckpointDurableExecutionInput{
		DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(staleToken)})
	var ipv *types.InvalidParameterValueException
	if !errors.As(err, &ipv) || !strings.HasPrefix(aws.ToString(ipv.Message), "Invalid Checkpoint Token") {
		t.Fatalf("stale token: %v", err)
	}

	// Heartbeat, then success with a raw body.
	if _, err := c.SendDurableExecutionCallbackHeartbeat(ctx, &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: aws.String(cbID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{
		CallbackId: aws.String(cbID), Result: []byte(`{"status": "approved"}`)}); err != nil {
		t.Fatal(err)
	}
	// A second completion is refused.
	_, err = c.SendDurableExecutionCallbackFailure(ctx, &lambda.SendDurableExecutionCallbackFailureInput{
		CallbackId: aws.String(cbID), Error: &types.ErrorObject{ErrorType: aws.String("X")}})
	if apiCode(err) != codeInvalidParameter {
		t.Errorf("second completion: %v", err)
	}
	// An unknown callback id.
	_, err = c.SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{CallbackId: aws.String("bm9wZQ==")})
	if apiCode(err) != codeInvalidParameter {
		t.Errorf("unknown callback: %v", err)
	}

	if _, err := s.Wait(ctx, arn); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != types.ExecutionStatusSucceeded || aws.ToString(got.Result) != `{"status": "approved"}` ||
		aws.ToString(got.InputPayload) != `{"id":42}` || got.StartTimestamp == nil || got.EndTimestamp == nil ||
		aws.ToString(got.DurableExecutionName) != "order-42" || got.DurableConfig == nil || aws.ToInt32(got.DurableConfig.RetentionPeriodInDays) != 14 {
		t.Errorf("GetDurableExecution = %+v", got)
	}
	noData, err := c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(false)})
	if err != nil || noData.Result != nil || noData.InputPayload != nil || aws.ToBool(noData.ExecutionDataIncluded) {
		t.Errorf("GetDurableExecution without data = %+v, %v", noData, err)
	}

	// History, paged in both directions.
	var forward []types.Event
	var marker *string
	for {
		h, err := c.GetDurableExecutionHistory(ctx, &lambda.GetDurableExecutionHistoryInput{
			DurableExecutionArn: aws.String(arn), MaxItems: 3, Marker: marker, IncludeExecutionData: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		forward = append(forward, h.Events...)
		if h.NextMarker == nil {
			break
		}
		marker = h.NextMarker
	}
	var names []string
	for i, ev := range forward {
		names = append(names, string(ev.EventType))
		if aws.ToInt32(ev.EventId) != int32(i+1) || ev.EventTimestamp == nil {
			t.Errorf("event %d: id %v ts %v", i, ev.EventId, ev.EventTimestamp)
		}
	}
	want := "ExecutionStarted StepStarted StepSucceeded CallbackStarted InvocationCompleted CallbackSucceeded InvocationCompleted ExecutionSucceeded"
	if strings.Join(names, " ") != want {
		t.Fatalf("history = %v", names)
	}
	cbStarted := forward[3].CallbackStartedDetails
	if aws.ToString(cbStarted.CallbackId) != cbID || aws.ToInt32(cbStarted.Timeout) != 3600 || aws.ToInt32(cbStarted.HeartbeatTimeout) != 600 {
		t.Errorf("CallbackStarted = %+v", cbStarted)
	}
	if p := forward[5].CallbackSucceededDetails.Result; aws.ToString(p.Payload) != `{"status": "approved"}` || aws.ToBool(p.Truncated) {
		t.Errorf("CallbackSucceeded = %+v", p)
	}
	rev, err := c.GetDurableExecutionHistory(ctx, &lambda.GetDurableExecutionHistoryInput{
		DurableExecutionArn: aws.String(arn), ReverseOrder: aws.Bool(true), MaxItems: 2, IncludeExecutionData: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Events) != 2 || aws.ToInt32(rev.Events[0].EventId) != 8 || rev.NextMarker == nil ||
		rev.Events[0].ExecutionSucceededDetails.Result.Payload != nil {
		t.Errorf("reverse history = %+v", rev)
	}

	// List: a running and a stopped execution besides the succeeded one.
	second, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("approval"), InvocationType: types.InvocationTypeEvent})
	if err != nil {
		t.Fatal(err)
	}
	<-callbackIDs
	third, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("approval"), InvocationType: types.InvocationTypeEvent})
	if err != nil {
		t.Fatal(err)
	}
	<-callbackIDs
	stop, err := c.StopDurableExecution(ctx, &lambda.StopDurableExecutionInput{
		DurableExecutionArn: third.DurableExecutionArn, Error: &types.ErrorObject{ErrorMessage: aws.String("no longer needed")}})
	if err != nil || stop.StopTimestamp == nil {
		t.Fatalf("stop = %v, %v", stop, err)
	}
	list, err := c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("approval")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.DurableExecutions) != 3 || *list.DurableExecutions[0].DurableExecutionArn != *third.DurableExecutionArn ||
		list.DurableExecutions[0].Status != types.ExecutionStatusStopped {
		t.Errorf("list = %+v", list.DurableExecutions)
	}
	running, err := c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{
		FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:approval"),
		Statuses:     []types.ExecutionStatus{types.ExecutionStatusRunning, types.ExecutionStatusFailed},
		StartedAfter: aws.Time(time.Now().Add(-time.Hour)), ReverseOrder: aws.Bool(true), Qualifier: aws.String("$LATEST"),
	})
	if err != nil || len(running.DurableExecutions) != 1 || *running.DurableExecutions[0].DurableExecutionArn != *second.DurableExecutionArn {
		t.Errorf("list running = %+v, %v", running, err)
	}
	var page []string
	marker = nil
	for {
		l, err := c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{
			FunctionName: aws.String("approval"), MaxItems: 2, Marker: marker, ReverseOrder: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range l.DurableExecutions {
			page = append(page, *e.DurableExecutionArn)
		}
		if l.NextMarker == nil {
			break
		}
		marker = l.NextMarker
	}
	if len(page) != 3 || page[0] != arn || page[2] != *third.DurableExecutionArn {
		t.Errorf("paged list = %v", page)
	}
	_, err = c.ListDurableExecutionsByFunction(ctx, &lambda.ListDurableExecutionsByFunctionInput{FunctionName: aws.String("nope")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("unknown function: %v", err)
	}

	// Failure of the second execution's callback through HTTP.
	h2, err := c.GetDurableExecutionHistory(ctx, &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: second.DurableExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	cb2 := h2.Events[3].CallbackStartedDetails.CallbackId
	if _, err := c.SendDurableExecutionCallbackFailure(ctx, &lambda.SendDurableExecutionCallbackFailureInput{
		CallbackId: cb2, Error: &types.ErrorObject{ErrorType: aws.String("RejectedError"), ErrorMessage: aws.String("not approved")}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Wait(ctx, *second.DurableExecutionArn); err != nil || got.Status != types.ExecutionStatusFailed {
		t.Fatalf("second execution = %+v, %v", got, err)
	}
	h2, err = c.GetDurableExecutionHistory(ctx, &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: second.DurableExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	if ev := h2.Events[5]; ev.EventType != types.EventTypeCallbackFailed ||
		aws.ToString(ev.CallbackFailedDetails.Error.Payload.ErrorMessage) != "not approved" {
		t.Errorf("CallbackFailed = %+v", ev)
	}

	// Unknown execution.
	_, err = c.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn + "x")})
	if !errors.As(err, &rnf) {
		t.Errorf("unknown execution: %v", err)
	}
}

// TestHTTPSyncInvoke: a RequestResponse invoke returns the execution's
// result once it ends, here after an hour-long wait on the virtual clock.
func TestHTTPSyncInvoke(t *testing.T) {
	s, c, _ := newHTTPService(t, WithAutoAdvance())
	ctx := testContext(t)
	s.Register("slow", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		if env.op("w") == nil {
			cp.must(ctx, waitStart("w", 3600))
			return pending()
		}
		return succeeded(`{"ok":true}`)
	}))
	s.Register("broken", durable(t, s, func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output {
		return output{Status: "FAILED", Error: &types.ErrorObject{ErrorType: aws.String("BadThing"), ErrorMessage: aws.String("it broke")}}
	}))
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("slow"), Payload: []byte(`"x"`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 200 || string(out.Payload) != `{"ok":true}` || out.FunctionError != nil ||
		out.DurableExecutionArn == nil || aws.ToString(out.ExecutedVersion) != "$LATEST" {
		t.Errorf("sync invoke = %d %s %v %v", out.StatusCode, out.Payload, out.FunctionError, out.DurableExecutionArn)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("broken")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType":"BadThing"`) {
		t.Errorf("failed sync invoke = %v %s", out.FunctionError, out.Payload)
	}
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("missing")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("missing function: %v", err)
	}
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("slow"), Payload: []byte(`{not json`)})
	if apiCode(err) != codeInvalidContent {
		t.Errorf("bad payload: %v", err)
	}
	dry, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("slow"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || dry.StatusCode != 204 {
		t.Errorf("dry run = %v, %v", dry, err)
	}
}

// TestHTTPMalformed sends requests no SDK would send: every one gets an AWS
// error type in X-Amzn-ErrorType and a JSON message, never a bare 500.
func TestHTTPMalformed(t *testing.T) {
	s, _, srv := newHTTPService(t, WithAutoAdvance())
	s.Register("fn", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		return []byte(`{"Status":"SUCCEEDED"}`), nil
	}))
	arn, err := s.Start(context.Background(), "fn", nil)
	if err != nil {
		t.Fatal(err)
	}
	esc := url.PathEscape(arn)
	big := strings.Repeat("x", maxCheckpointBody+1)
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/2025-12-01/durable-executions/" + esc + "/checkpoint", `{"CheckpointToken":`, 400, codeInvalidContent},
		{"POST", "/2025-12-01/durable-executions/" + esc + "/checkpoint", `{"CheckpointToken":5}`, 400, codeInvalidContent},
		{"POST", "/2025-12-01/durable-executions/" + esc + "/checkpoint", `{}`, 400, codeInvalidParameter},
		{"POST", "/2025-12-01/durable-executions/" + esc + "/checkpoint", `{"CheckpointToken":"dG9r"}`, 400, codeInvalidParameter},
		{"POST", "/2025-12-01/durable-executions/" + esc + "/checkpoint", big, 413, codeRequestTooLarge},
		{"POST", "/2025-12-01/durable-executions/arn%3Anope/checkpoint", `{"CheckpointToken":"dG9r"}`, 400, codeInvalidParameter},
		{"POST", "/2025-12-01/durable-executions/" + url.PathEscape(arn+"x") + "/checkpoint", `{"CheckpointToken":"dG9r"}`, 404, codeNotFound},
		{"GET", "/2025-12-01/durable-executions/" + esc + "/state", "", 400, codeInvalidParameter},
		{"GET", "/2025-12-01/durable-executions/" + esc + "/history?MaxItems=abc", "", 400, codeInvalidParameter},
		{"GET", "/2025-12-01/durable-executions/" + esc + "/history?MaxItems=5000", "", 400, codeInvalidParameter},
		{"GET", "/2025-12-01/durable-executions/" + esc + "/history?Marker=99", "", 400, codeInvalidParameter},
		{"GET", "/2025-12-01/durable-executions/" + esc + "?IncludeExecutionData=maybe", "", 400, codeInvalidParameter},
		{"GET", "/2025-12-01/functions/fn/durable-executions?StartedAfter=yesterday", "", 400, codeInvalidParameter},
		{"GET", "/2025-12-01/functions/fn/durable-executions?Statuses=DONE", "", 400, codeInvalidParameter},
		{"GET", "/2025-12-01/functions/fn%3Ax%3Ay%3Az/durable-executions", "", 400, codeInvalidParameter},
		{"POST", "/2025-12-01/durable-executions/" + esc + "/stop", `[1]`, 400, codeInvalidContent},
		{"POST", "/2025-12-01/durable-execution-callbacks/%21%21/succeed", "x", 400, codeInvalidParameter},
		{"POST", "/2025-12-01/durable-execution-callbacks/Y2Ix/fail", `{"ErrorType":1}`, 400, codeInvalidContent},
		{"POST", "/2025-12-01/durable-execution-callbacks/Y2Ix/heartbeat", "", 400, codeInvalidParameter},
		{"POST", "/2015-03-31/functions/fn/invocations", `{`, 400, codeInvalidContent},
		{"POST", "/2015-03-31/functions/bad%20name/invocations", `{}`, 400, codeInvalidParameter},
		{"GET", "/2015-03-31/functions/fn/invocations", "", 404, codeUnknownOperation},
		{"GET", "/nothing/here", "", 404, codeUnknownOperation},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var msg struct{ Message, Type string }
		if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.code ||
			json.Unmarshal(body, &msg) != nil || msg.Message == "" || msg.Type == "" {
			t.Errorf("%s %s: %d %s %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	}
	// Unescaped ARNs in paths (curl) work too.
	for _, tc := range []struct{ method, suffix, body string }{
		{"GET", "", ""}, {"GET", "/history", ""}, {"POST", "/stop", "{}"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+"/2025-12-01/durable-executions/"+arn+tc.suffix, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("unescaped %s %s: %d %s", tc.method, tc.suffix, resp.StatusCode, body)
		}
	}
	// Invoke with a bad name header.
	req, _ := http.NewRequest("POST", srv.URL+"/2015-03-31/functions/fn/invocations", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Durable-Execution-Name", "bad name!")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != codeInvalidParameter {
		t.Errorf("bad execution name: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

// TestServe: an address without a host binds loopback only; Close stops the
// server.
func TestServe(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Listen(":0")
	if err != nil {
		t.Fatal(err)
	}
	if host := l.Addr().String(); !strings.HasPrefix(host, "127.0.0.1:") {
		t.Errorf("listening on %s", host)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	for s.URL() == "" {
		time.Sleep(time.Millisecond)
	}
	c := sdkClient(s.URL())
	_, err = c.GetDurableExecution(context.Background(), &lambda.GetDurableExecutionInput{
		DurableExecutionArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/n/i")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("GetDurableExecution: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
}
