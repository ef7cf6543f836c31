package adapters_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) records(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if strings.Count(line, `"durableExecutionArn"`) > 1 {
			t.Errorf("durableExecutionArn twice: %s", line)
		}
		out = append(out, m)
	}
	return out
}

func TestLambdaLogFormat(t *testing.T) {
	var lambdaOut, userOut syncBuffer
	logger := adapters.NewLogger(adapters.WithLogWriter(&lambdaOut), adapters.WithLogLevel(slog.LevelDebug),
		adapters.WithLogHandlers(slog.NewJSONHandler(&userOut, nil)))
	api := fakeapi.New(`"Ada"`)
	h := middleware.Wrap(adapters.Handler(func(ctx context.Context, name string) (string, error) {
		durable.Logger(ctx).Info("starting", "who", name) // replayed, so logged once
		return durable.Step(ctx, "greet", func(ctx context.Context) (string, error) {
			durable.Logger(ctx).Info("Greeting step running for: " + name)
			slog.New(logger.Handler()).InfoContext(ctx, "plain slog with the durable ctx")
			if durable.StepAttempt(ctx) == 1 {
				return "", errors.New("transient")
			}
			return "Hello, " + name + "!", nil
		}, durable.WithRetry(durable.RetryPolicy{MaxAttempts: 2, InitialDelay: time.Second, Jitter: durable.NoJitter}))
	}), middleware.WithAPI(api), middleware.WithLogger(logger))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7"})
	if _, err := api.Run(ctx, h, 3); err != nil {
		t.Fatal(err)
	}

	recs := lambdaOut.records(t)
	var msgs []string
	for _, r := range recs {
		msgs = append(msgs, r["message"].(string))
		if r["durableExecutionArn"] != api.ARN() || r["requestId"] != "req-7" || r["level"] != "INFO" || r["timestamp"] == nil {
			t.Errorf("record %v", r)
		}
		if r["message"] != "starting" {
			if r["operationId"] != *api.Operation("greet").Id || r["operationName"] != "greet" || r["attempt"] == nil {
				t.Errorf("step record %v", r)
			}
		}
	}
	want := []string{"starting", "Greeting step running for: Ada", "plain slog with the durable ctx",
		"Greeting step running for: Ada", "plain slog with the durable ctx"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Fatalf("messages %q", msgs)
	}
	if recs[1]["attempt"] != 1.0 || recs[3]["attempt"] != 2.0 {
		t.Errorf("attempts %v %v", recs[1]["attempt"], recs[3]["attempt"])
	}
	// The user's handler got the same records, with the same fields.
	users := userOut.records(t)
	if len(users) != len(recs) || users[3]["durableExecutionArn"] != api.ARN() || users[3]["operationName"] != "greet" {
		t.Errorf("user handler records %v", users)
	}
}

func TestLogHandlerOutsideAnExecution(t *testing.T) {
	var out syncBuffer
	logger := adapters.NewLogger(adapters.WithLogWriter(&out))
	logger.Info("hello")
	logger.WithGroup("g").InfoContext(context.Background(), "grouped", "k", "v")
	logger.Debug("below the level")
	recs := out.records(t)
	if len(recs) != 2 || recs[0]["message"] != "hello" || recs[0]["durableExecutionArn"] != nil {
		t.Fatalf("got %v", recs)
	}
	if g, ok := recs[1]["g"].(map[string]any); !ok || g["k"] != "v" {
		t.Errorf("grouped record %v", recs[1])
	}
}
