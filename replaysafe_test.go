package durable_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
)

func TestNowIsRecordedOnce(t *testing.T) {
	api := fakeapi.New(`null`)
	var seen []time.Time
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		now, err := durable.Now(ctx)
		if err != nil {
			return "", err
		}
		seen = append(seen, now)
		var inStep time.Time
		if _, err := durable.Step(ctx, "s", func(ctx context.Context) (int, error) {
			inStep, err = durable.Now(ctx)
			return 0, err
		}); err != nil {
			return "", err
		}
		if !inStep.IsZero() && inStep.Before(now) {
			return "", errors.New("the clock went back inside the step")
		}
		return now.Format(time.RFC3339Nano), nil
	})
	first := invokeStatus(t, api, h, "SUCCEEDED")
	time.Sleep(2 * time.Millisecond)
	second := invokeStatus(t, api, h, "SUCCEEDED")
	if len(seen) != 2 || !seen[0].Equal(seen[1]) || *first.Result != *second.Result || seen[0].Location() != time.UTC {
		t.Fatalf("times %v, results %s %s", seen, *first.Result, *second.Result)
	}
	if d := time.Since(seen[0]); d < 0 || d > time.Minute {
		t.Fatalf("recorded time %v is not now", seen[0])
	}
	ups := api.Updates()
	if got := strings.Join(typedActions(ups), " "); got != "STEP/START STEP/SUCCEED STEP/START STEP/SUCCEED" || deref(ups[0].Name) != "durable.Now" {
		t.Fatalf("updates %s, name %s: Now records one step, Now in a step nothing", got, deref(ups[0].Name))
	}
}

var uuidV5 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUUIDAndRandAreReplaySafeWithoutCheckpoints(t *testing.T) {
	api := fakeapi.New(`null`)
	var runs []string
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		a, err := durable.UUID(ctx)
		if err != nil {
			return "", err
		}
		b, _ := durable.UUID(ctx)
		r, err := durable.Rand(ctx)
		if err != nil {
			return "", err
		}
		inChild, err := durable.Child(ctx, "child", func(ctx context.Context) (string, error) {
			return durable.UUID(ctx)
		})
		if err != nil {
			return "", err
		}
		if err := durable.Wait(ctx, "w", time.Second); err != nil {
			return "", err
		}
		run := fmt.Sprintf("%s %s %d %s", a, b, r.Uint64(), inChild)
		runs = append(runs, run)
		return run, nil
	})
	invokeStatus(t, api, h, "PENDING")
	calls := len(api.Calls())
	api.Advance()
	invokeStatus(t, api, h, "SUCCEEDED")
	invokeStatus(t, api, h, "SUCCEEDED")
	if len(runs) != 2 || runs[0] != runs[1] {
		t.Fatalf("values differ across invocations: %q", runs)
	}
	f := strings.Fields(runs[0])
	if !uuidV5.MatchString(f[0]) || !uuidV5.MatchString(f[3]) || f[0] == f[1] || f[0] == f[3] || f[1] == f[3] {
		t.Fatalf("uuids %v", f)
	}
	// The values claim no position: the child context is operation 1.
	ups := api.Updates()
	if deref(ups[0].Id) != ctxstate.WireID("1") || ups[0].Type != types.OperationTypeContext {
		t.Fatalf("first update %s %s", ups[0].Type, deref(ups[0].Id))
	}
	if len(api.Calls()) != calls {
		t.Fatal("replay made checkpoint calls")
	}
}

func TestUUIDInsideAStepIsTheSameOnEveryAttempt(t *testing.T) {
	api := fakeapi.New(`null`)
	var seen []string
	var outside string
	h := wrap(api, func(ctx context.Context, _ any) (string, error) {
		outside, _ = durable.UUID(ctx)
		return durable.Step(ctx, "s", func(ctx context.Context) (string, error) {
			id, err := durable.UUID(ctx)
			if err != nil {
				return "", err
			}
			seen = append(seen, id)
			if durable.StepAttempt(ctx) == 1 {
				return "", errors.New("try again")
			}
			return id, nil
		}, durable.WithRetry(durable.FixedRetry(2, time.Second)))
	})
	if _, err := api.Run(context.Background(), h, 5); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != seen[1] || seen[0] == outside {
		t.Fatalf("step uuids %v, outside %s", seen, outside)
	}
}

func TestUUIDDiffersAcrossExecutions(t *testing.T) {
	uuid := func(arn string) string {
		exec := ctxstate.New(context.Background(), ctxstate.Config{API: fakeapi.New(`null`), ARN: arn, Token: "tok0"})
		defer exec.Close()
		id, err := durable.UUID(exec.Context())
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b := uuid("arn:aws:lambda:us-east-1:1:function:f:1/durable-execution/a/1"), uuid("arn:aws:lambda:us-east-1:1:function:f:1/durable-execution/b/2")
	if a == b || a != uuid("arn:aws:lambda:us-east-1:1:function:f:1/durable-execution/a/1") {
		t.Fatalf("uuids %s %s", a, b)
	}
}

func TestReplaySafeValuesWithoutExecution(t *testing.T) {
	ctx := context.Background()
	if _, err := durable.Now(ctx); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatal(err)
	}
	if _, err := durable.UUID(ctx); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatal(err)
	}
	if _, err := durable.Rand(ctx); !errors.Is(err, durable.ErrNoExecution) {
		t.Fatal(err)
	}
}
