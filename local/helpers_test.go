package local

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// handlerFunc adapts a function to lambda.Handler.
type handlerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f handlerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// testEnvelope is the invocation input as a handler decodes it.
type testEnvelope struct {
	DurableExecutionArn   string
	CheckpointToken       string
	InitialExecutionState struct {
		Operations []map[string]any
		NextMarker string
	}
	UpdatedOperationIds []string
}

func decodeEnvelope(t testing.TB, payload []byte) testEnvelope {
	t.Helper()
	var env testEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		t.Errorf("decode envelope: %v", err)
	}
	return env
}

// op finds an operation of the envelope by id.
func (env testEnvelope) op(id string) map[string]any {
	for _, o := range env.InitialExecutionState.Operations {
		if o["Id"] == id {
			return o
		}
	}
	return nil
}

// durableHandler is a hand-written durable function: run gets the envelope and
// a checkpoint function, and returns the output.
type durableRun func(ctx context.Context, env testEnvelope, cp *testCheckpointer) output

type testCheckpointer struct {
	t     testing.TB
	api   *Client
	arn   string
	token string
}

func (c *testCheckpointer) send(ctx context.Context, updates ...types.OperationUpdate) (*lambda.CheckpointDurableExecutionOutput, error) {
	out, err := c.api.CheckpointDurableExecution(ctx, &lambda.CheckpointDurableExecutionInput{
		DurableExecutionArn: aws.String(c.arn),
		CheckpointToken:     aws.String(c.token),
		Updates:             updates,
	})
	if err == nil && out.CheckpointToken != nil {
		c.token = *out.CheckpointToken
	}
	return out, err
}

func (c *testCheckpointer) must(ctx context.Context, updates ...types.OperationUpdate) *lambda.CheckpointDurableExecutionOutput {
	c.t.Helper()
	out, err := c.send(ctx, updates...)
	if err != nil {
		c.t.Fatalf("checkpoint: %v", err)
	}
	return out
}

func durable(t testing.TB, s *Service, run durableRun) handlerFunc {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		env := decodeEnvelope(t, payload)
		cp := &testCheckpointer{t: t, api: s.API(), arn: env.DurableExecutionArn, token: env.CheckpointToken}
		out := run(ctx, env, cp)
		return json.Marshal(out)
	}
}

func update(id string, typ types.OperationType, action types.OperationAction) types.OperationUpdate {
	return types.OperationUpdate{Id: aws.String(id), Type: typ, Action: action}
}

func stepStart(id, name string) types.OperationUpdate {
	u := update(id, types.OperationTypeStep, types.OperationActionStart)
	u.SubType = aws.String("Step")
	if name != "" {
		u.Name = aws.String(name)
	}
	return u
}

func stepSucceed(id, payload string) types.OperationUpdate {
	u := update(id, types.OperationTypeStep, types.OperationActionSucceed)
	u.SubType = aws.String("Step")
	u.Payload = aws.String(payload)
	return u
}

func waitStart(id string, seconds int32) types.OperationUpdate {
	u := update(id, types.OperationTypeWait, types.OperationActionStart)
	u.SubType = aws.String("Wait")
	u.WaitOptions = &types.WaitOptions{WaitSeconds: aws.Int32(seconds)}
	return u
}

func succeeded(result string) output {
	return output{Status: "SUCCEEDED", Result: aws.String(result)}
}

func pending() output { return output{Status: "PENDING"} }

// newTestService returns a service on a virtual clock that the test drives.
func newTestService(t testing.TB, opts ...Option) (*Service, *VirtualClock) {
	t.Helper()
	vc := NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := New(append([]Option{WithClock(vc)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, vc
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// historyJSON returns the execution's history as the HTTP API shows it,
// decoded into generic values, for matching with expectations written like
// the conformance YAML.
func historyJSON(t testing.TB, s *Service, arn string) []any {
	t.Helper()
	var events []any
	var marker *string
	for {
		out, err := s.API().GetDurableExecutionHistory(context.Background(), &lambda.GetDurableExecutionHistoryInput{
			DurableExecutionArn: aws.String(arn), Marker: marker, MaxItems: 1000,
		})
		if err != nil {
			t.Fatalf("history: %v", err)
		}
		for i := range out.Events {
			var v any
			if err := json.Unmarshal(appendJSON(nil, &out.Events[i], epochSeconds), &v); err != nil {
				t.Fatal(err)
			}
			events = append(events, v)
		}
		if out.NextMarker == nil {
			return events
		}
		marker = out.NextMarker
	}
}

// matchHistory applies the conformance matcher rules (README §4.5–4.6) to
// expected events, indexed by EventId: "*" accepts anything present, {} only
// requires presence, "${NAME}" binds or compares, "${/re/}" searches, maps
// match partially, lists exactly.
func matchHistory(t testing.TB, actual []any, expected []map[string]any) map[string]any {
	t.Helper()
	byID := map[float64]any{}
	for _, ev := range actual {
		m := ev.(map[string]any)
		if id, ok := m["EventId"].(float64); ok {
			byID[id] = ev
		}
	}
	bind := map[string]any{}
	var errs []string
	for _, exp := range expected {
		id := toFloat(exp["EventId"])
		act, ok := byID[id]
		if !ok {
			errs = append(errs, fmt.Sprintf("No actual event found for EventId=%v", exp["EventId"]))
			continue
		}
		matchValue(fmt.Sprintf("event %v", exp["EventId"]), exp, act, bind, &errs)
	}
	if len(errs) > 0 {
		b, _ := json.MarshalIndent(actual, "", "  ")
		t.Fatalf("history mismatch:\n%s\nactual history:\n%s", strings.Join(errs, "\n"), b)
	}
	return bind
}

var placeholder = regexp.MustCompile(`^\$\{(.+)\}$`)

func matchValue(path string, exp, act any, bind map[string]any, errs *[]string) {
	switch e := exp.(type) {
	case map[string]any:
		if len(e) == 0 {
			return
		}
		a, ok := act.(map[string]any)
		if !ok {
			*errs = append(*errs, fmt.Sprintf("%s: want a mapping, got %#v", path, act))
			return
		}
		for k, v := range e {
			av, ok := a[k]
			if !ok {
				*errs = append(*errs, fmt.Sprintf("%s.%s: key missing", path, k))
				continue
			}
			matchValue(path+"."+k, v, av, bind, errs)
		}
	case []any:
		a, ok := act.([]any)
		if !ok || len(a) != len(e) {
			*errs = append(*errs, fmt.Sprintf("%s: want list %v, got %#v", path, e, act))
			return
		}
		for i := range e {
			matchValue(fmt.Sprintf("%s[%d]", path, i), e[i], a[i], bind, errs)
		}
	case string:
		if e == "*" {
			return
		}
		if m := placeholder.FindStringSubmatch(e); m != nil {
			name := m[1]
			if strings.HasPrefix(name, "/") && strings.HasSuffix(name, "/") {
				if !regexp.MustCompile(name[1 : len(name)-1]).MatchString(fmt.Sprint(act)) {
					*errs = append(*errs, fmt.Sprintf("%s: %v does not match %s", path, act, name))
				}
				return
			}
			if v, ok := bind[name]; ok {
				if !reflect.DeepEqual(v, act) {
					*errs = append(*errs, fmt.Sprintf("%s: ${%s} is %v, got %v", path, name, v, act))
				}
				return
			}
			bind[name] = act
			return
		}
		if act != e {
			*errs = append(*errs, fmt.Sprintf("%s: want %q, got %#v", path, e, act))
		}
	case int:
		if toFloat(act) != float64(e) {
			*errs = append(*errs, fmt.Sprintf("%s: want %d, got %#v", path, e, act))
		}
	default:
		if !reflect.DeepEqual(exp, act) {
			*errs = append(*errs, fmt.Sprintf("%s: want %#v, got %#v", path, exp, act))
		}
	}
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return -1
}

// eventTypes lists the EventType of each event.
func eventTypes(events []any) []string {
	var out []string
	for _, ev := range events {
		out = append(out, ev.(map[string]any)["EventType"].(string))
	}
	return out
}

type M = map[string]any
