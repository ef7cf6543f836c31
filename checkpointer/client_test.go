package checkpointer_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
)

// wireAnswer is one scripted HTTP answer of the wire service.
type wireAnswer struct {
	status    int
	errorType string // X-Amzn-ErrorType
	body      string
}

// wireService serves the checkpoint and state routes over HTTP with scripted
// answers, so that the real *lambda.Client serializes the requests and
// deserializes the answers and errors.
type wireService struct {
	mu          sync.Mutex
	checkpoints []wireAnswer
	states      []wireAnswer
	bodies      []map[string]any // checkpoint request bodies
	queries     []string         // state request queries
}

func (w *wireService) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var a wireAnswer
	switch {
	case r.Method == http.MethodPost && r.Pattern == "POST /2025-12-01/durable-executions/{arn}/checkpoint":
		var body map[string]any
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &body)
		w.bodies = append(w.bodies, body)
		a, w.checkpoints = w.checkpoints[0], w.checkpoints[1:]
	default:
		w.queries = append(w.queries, r.URL.RawQuery)
		a, w.states = w.states[0], w.states[1:]
	}
	rw.Header().Set("Content-Type", "application/json")
	if a.errorType != "" {
		rw.Header().Set("X-Amzn-ErrorType", a.errorType)
	}
	rw.WriteHeader(a.status)
	_, _ = io.WriteString(rw, a.body)
}

func TestWithTheRealClient(t *testing.T) {
	w := &wireService{
		checkpoints: []wireAnswer{
			{429, "TooManyRequestsException", `{"Type":"User","message":"Rate exceeded"}`},
			{503, "", `oops`},
			{200, "", `{"CheckpointToken":"dG9rMQ==","NewExecutionState":{"Operations":[
				{"Id":"a","Type":"STEP","Status":"SUCCEEDED","StartTimestamp":1767225600.123,"StepDetails":{"Attempt":1,"Result":"\"x\""}}],
				"NextMarker":"1:5"}}`},
			{400, "InvalidParameterValueException", `{"Type":"User","message":"Invalid Checkpoint Token: stale"}`},
		},
		states: []wireAnswer{
			{200, "", `{"Operations":[{"Id":"b","Type":"WAIT","Status":"STARTED","StartTimestamp":1767225601}]}`},
		},
	}
	mux := http.NewServeMux()
	mux.Handle("POST /2025-12-01/durable-executions/{arn}/checkpoint", w)
	mux.Handle("GET /2025-12-01/durable-executions/{arn}/state", w)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{}, // our backoff alone retries
		HTTPClient:   srv.Client(),
	})

	var got []string
	b := checkpointer.New(testCtx(t), checkpointer.Config{
		API: client, ExecutionARN: testARN, Token: "dG9rMA==", Linger: long, Backoff: fastBackoff,
		OnState: func(ops []types.Operation) {
			for _, o := range ops {
				got = append(got, *o.Id+":"+string(o.Status))
			}
		},
	})
	defer b.Close()
	ctx := testCtx(t)
	b.Enqueue(step("a", types.OperationActionStart))
	if err := b.Enqueue(step("a", types.OperationActionSucceed)).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a:SUCCEEDED", "b:STARTED"}; !slices.Equal(got, want) {
		t.Errorf("OnState got %v, want %v", got, want)
	}
	if len(w.bodies) != 3 {
		t.Fatalf("%d checkpoint requests, want 3", len(w.bodies))
	}
	for i, body := range w.bodies {
		if body["ClientToken"] != w.bodies[0]["ClientToken"] || body["CheckpointToken"] != "dG9rMA==" {
			t.Errorf("request %d: ClientToken %v, CheckpointToken %v; want the first request's", i, body["ClientToken"], body["CheckpointToken"])
		}
	}
	if want := "CheckpointToken=dG9rMQ%3D%3D&Marker=1%3A5&MaxItems=1000"; len(w.queries) != 1 || w.queries[0] != want {
		t.Errorf("state queries = %v, want [%s]", w.queries, want)
	}

	err := b.Enqueue(step("c", types.OperationActionStart)).Wait(ctx)
	var cerr *checkpointer.Error
	if !errors.As(err, &cerr) || !cerr.Retryable || !errors.Is(err, checkpointer.ErrInvalidCheckpointToken) {
		t.Fatalf("stale token: %v, want a retryable *Error with ErrInvalidCheckpointToken", err)
	}
	var ipve *types.InvalidParameterValueException
	if !errors.As(err, &ipve) {
		t.Errorf("the service's error is not in the chain: %v", err)
	}
	if w.bodies[3]["CheckpointToken"] != "dG9rMQ==" {
		t.Errorf("second call used %v, want the token of the first answer", w.bodies[3]["CheckpointToken"])
	}
}
