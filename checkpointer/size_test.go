package checkpointer

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// captureDoer records request bodies and answers every checkpoint.
type captureDoer struct{ body []byte }

func (c *captureDoer) Do(r *http.Request) (*http.Response, error) {
	c.body, _ = io.ReadAll(r.Body)
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"CheckpointToken":"dA==","NewExecutionState":{"Operations":[]}}`)),
		Request:    r,
	}, nil
}

var (
	wireMu     sync.Mutex
	wireDoer   = &captureDoer{}
	wireClient = lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://durable.invalid"),
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{},
		HTTPClient:   wireDoer,
	})
)

// wireSize returns the size of the request body the real client sends.
func wireSize(t testing.TB, updates []types.OperationUpdate, token string) int {
	t.Helper()
	wireMu.Lock()
	defer wireMu.Unlock()
	_, err := wireClient.CheckpointDurableExecution(context.Background(), &lambda.CheckpointDurableExecutionInput{
		DurableExecutionArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:fn:1/durable-execution/ex/1"),
		CheckpointToken:     &token,
		ClientToken:         aws.String(newClientToken()),
		Updates:             updates,
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(wireDoer.body)
}

func estimate(updates []types.OperationUpdate, token string) int {
	n := callOverhead + stringSize(token)
	for i := range updates {
		n += updateSize(&updates[i])
	}
	return n
}

func fullUpdate(s string) types.OperationUpdate {
	return types.OperationUpdate{
		Id: &s, ParentId: &s, Name: &s, SubType: &s, Payload: &s,
		Type: types.OperationTypeChainedInvoke, Action: types.OperationActionStart,
		Error:                &types.ErrorObject{ErrorData: &s, ErrorMessage: &s, ErrorType: &s, StackTrace: []string{s, s}},
		ChainedInvokeOptions: &types.ChainedInvokeOptions{FunctionName: &s, TenantId: &s, XAmznTraceId: &s},
		CallbackOptions:      &types.CallbackOptions{HeartbeatTimeoutSeconds: -2147483648, TimeoutSeconds: -2147483648},
		ContextOptions:       &types.ContextOptions{ReplayChildren: aws.Bool(false)},
		StepOptions:          &types.StepOptions{NextAttemptDelaySeconds: aws.Int32(-2147483648)},
		WaitOptions:          &types.WaitOptions{WaitSeconds: aws.Int32(-2147483648)},
	}
}

var sizeSeeds = []string{
	"", "x", `"quoted" \back\slash`, "\x00\x01\x1f\n\r\t", "日本語", "\u2028\u2029", "\xff\xfe invalid", "<&>", "\x7f",
	strings.Repeat("é", 100),
}

func TestUpdateSizeNeverUnderestimates(t *testing.T) {
	for _, s := range sizeSeeds {
		updates := []types.OperationUpdate{fullUpdate(s), {Id: &s, Type: types.OperationTypeStep, Action: types.OperationActionSucceed}}
		got, want := estimate(updates, "dG9rMA=="), wireSize(t, updates, "dG9rMA==")
		if got < want {
			t.Errorf("%q: estimate %d < wire size %d", s, got, want)
		}
		if got > 2*want+1024 {
			t.Errorf("%q: estimate %d is far above the wire size %d", s, got, want)
		}
	}
}

func TestLargePayloadEstimateIsTight(t *testing.T) {
	p := strings.Repeat("a", 200<<10)
	u := []types.OperationUpdate{{Id: aws.String("a"), Type: types.OperationTypeStep, Action: types.OperationActionSucceed, Payload: &p}}
	got, want := estimate(u, "t"), wireSize(t, u, "t")
	if got < want || got > want+512 {
		t.Fatalf("estimate %d, wire size %d", got, want)
	}
}

func FuzzUpdateSize(f *testing.F) {
	for _, s := range sizeSeeds {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		u := fullUpdate(a)
		u.Payload = &b
		u.Error.StackTrace = []string{b, a}
		updates := []types.OperationUpdate{u}
		if got, want := estimate(updates, a), wireSize(t, updates, a); got < want {
			t.Fatalf("estimate %d < wire size %d", got, want)
		}
	})
}

func TestClientTokenIsUUIDv4(t *testing.T) {
	for range 100 {
		tok := newClientToken()
		if len(tok) != 36 || tok[14] != '4' || !strings.ContainsRune("89ab", rune(tok[19])) ||
			bytes.Count([]byte(tok), []byte("-")) != 4 {
			t.Fatalf("bad token %q", tok)
		}
	}
}
