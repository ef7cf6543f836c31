package local

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// FuzzHTTP sends arbitrary requests to the HTTP API: none may fail with a
// 500 or without an AWS error type.
func FuzzHTTP(f *testing.F) {
	s, _ := newTestService(f)
	s.Register("fn", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		return []byte(`{"Status":"SUCCEEDED"}`), nil
	}))
	arn, err := s.Start(context.Background(), "fn", nil)
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	esc := url.PathEscape(arn)
	routes := []string{
		"POST /2025-12-01/durable-executions/" + esc + "/checkpoint",
		"GET /2025-12-01/durable-executions/" + esc + "/state",
		"GET /2025-12-01/durable-executions/" + esc,
		"GET /2025-12-01/durable-executions/" + esc + "/history",
		"POST /2025-12-01/durable-executions/" + esc + "/stop",
		"GET /2025-12-01/functions/fn/durable-executions",
		"POST /2025-12-01/durable-execution-callbacks/Y2IxOng6eTp6/succeed",
		"POST /2025-12-01/durable-execution-callbacks/Y2IxOng6eTp6/fail",
		"POST /2025-12-01/durable-execution-callbacks/Y2IxOng6eTp6/heartbeat",
		"POST /2015-03-31/functions/fn/invocations",
	}
	f.Add(uint8(0), "", []byte(`{"CheckpointToken":"x","Updates":[{"Id":"a","Type":"STEP","Action":"START"}]}`))
	f.Add(uint8(3), "MaxItems=2&Marker=1&ReverseOrder=true", []byte(nil))
	f.Add(uint8(5), "Statuses=RUNNING&StartedAfter=2026-01-01T00:00:00Z", []byte(nil))
	f.Add(uint8(7), "", []byte(`{"ErrorType":"x"}`))
	f.Add(uint8(9), "Qualifier=$LATEST", []byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte) {
		method, path, _ := strings.Cut(routes[int(route)%len(routes)], " ")
		if route >= uint8(len(routes)) {
			path += "/" + url.PathEscape(query)
		}
		req := httptest.NewRequest(method, "http://local"+path, bytes.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("X-Amz-Invocation-Type", "Event")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, query, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var msg struct{ Message string }
			if w.Header().Get("X-Amzn-ErrorType") == "" || json.Unmarshal(w.Body.Bytes(), &msg) != nil || msg.Message == "" {
				t.Fatalf("%s %s: %d without an AWS error: %v %s", method, path, w.Code, w.Header(), w.Body)
			}
		}
	})
}

// FuzzCheckpoint sends arbitrary update batches (as JSON, decoded the way
// the HTTP API decodes them) with a valid token: the service accepts or
// refuses them with InvalidParameterValueException, and never panics.
func FuzzCheckpoint(f *testing.F) {
	s, _ := newTestService(f)
	release := make(chan struct{})
	f.Cleanup(func() { close(release) })
	s.Register("fn", handlerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return []byte(`{"Status":"PENDING"}`), nil
	}))
	var e *execution
	start := func() {
		arn, err := s.Start(context.Background(), "fn", nil)
		if err != nil {
			f.Fatal(err)
		}
		e, _ = s.lookup(arn)
		for {
			e.mu.Lock()
			ok := e.inv != nil
			e.mu.Unlock()
			if ok {
				return
			}
		}
	}
	start()
	f.Add([]byte(`[{"Id":"a","Type":"STEP","Action":"START","SubType":"Step"},{"Id":"a","Type":"STEP","Action":"SUCCEED","Payload":"1"}]`))
	f.Add([]byte(`[{"Id":"c","Type":"CONTEXT","Action":"START"},{"Id":"s","ParentId":"c","Type":"STEP","Action":"RETRY","StepOptions":{"NextAttemptDelaySeconds":2},"Error":{"ErrorType":"E"}}]`))
	f.Add([]byte(`[{"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":5}},{"Id":"cb","Type":"CALLBACK","Action":"START","CallbackOptions":{"TimeoutSeconds":3}}]`))
	f.Add([]byte(`[{"Id":"i","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"fn"},"Payload":"{}"}]`))
	f.Add([]byte(`[{"Id":"x","Type":"EXECUTION","Action":"FAIL","Error":{}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var updates []types.OperationUpdate
		if json.Unmarshal(body, &updates) != nil {
			return
		}
		e.mu.Lock()
		tok, done := e.token, e.terminal()
		e.mu.Unlock()
		if done {
			start()
			e.mu.Lock()
			tok = e.token
			e.mu.Unlock()
		}
		_, err := s.checkpoint(context.Background(), &lambda.CheckpointDurableExecutionInput{
			DurableExecutionArn: aws.String(e.ARN), CheckpointToken: aws.String(tok), Updates: updates})
		if err != nil && asAPIError(err).status != http.StatusBadRequest {
			t.Fatalf("%s: %v", body, err)
		}
	})
}

// FuzzOutput feeds arbitrary handler answers to the output checks.
func FuzzOutput(f *testing.F) {
	f.Add([]byte(`{"Status":"SUCCEEDED","Result":"1"}`))
	f.Add([]byte(`{"Status":"FAILED","Error":{"ErrorType":"E","StackTrace":["a"]}}`))
	f.Add([]byte(`{"Status":"PENDING"}`))
	f.Add([]byte(`null`))
	e := &execution{byID: map[string]*operation{}}
	e.ops = []*operation{{Type: types.OperationTypeExecution}}
	f.Fuzz(func(t *testing.T, b []byte) {
		var out output
		if parseOutput(b, &out) == nil {
			e.checkOutput(&out)
		}
	})
}
