package durable_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

func TestLoggerWritesEachLineOnceAcrossReplays(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	api := fakeapi.New(`null`)
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		durable.Logger(ctx).Info("before")
		_, err := durable.Step(ctx, "flaky", func(ctx context.Context) (int, error) {
			durable.Logger(ctx).Info("attempt")
			if durable.StepAttempt(ctx) < 2 {
				return 0, errors.New("try again")
			}
			return 1, nil
		}, durable.WithRetry(durable.RetryPolicy{MaxAttempts: 3, InitialDelay: time.Second, Jitter: durable.NoJitter}))
		if err != nil {
			return "", err
		}
		durable.Logger(ctx).InfoContext(ctx, "after")
		return "ok", nil
	}, middleware.WithLogger(logger))
	if _, err := api.Run(context.Background(), h, 5); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		records = append(records, rec)
		msgs = append(msgs, rec["msg"].(string))
	}
	if got := strings.Join(msgs, ","); got != "before,attempt,attempt,after" {
		t.Fatalf("logged %s; want each line once, and one per attempt", got)
	}
	for _, rec := range records {
		if rec["durableExecutionArn"] != api.ARN() {
			t.Fatalf("record without the execution ARN: %v", rec)
		}
	}
	if records[2]["operationName"] != "flaky" || records[2]["attempt"] != float64(2) || records[2]["operationId"] == "" {
		t.Fatalf("step record lacks operation fields: %v", records[2])
	}
}

func TestReplayAwareComposesAndPassesPlainContexts(t *testing.T) {
	var buf bytes.Buffer
	h := durable.ReplayAware(slog.NewTextHandler(&buf, nil))
	l := slog.New(h).With("k", "v").WithGroup("g")
	l.InfoContext(context.Background(), "plain")
	if !strings.Contains(buf.String(), "plain") || !strings.Contains(buf.String(), "k=v") {
		t.Fatalf("got %q", buf.String())
	}
	if _, ok := l.Handler().(interface {
		Handle(context.Context, slog.Record) error
	}); !ok {
		t.Fatal("not a handler")
	}
}
