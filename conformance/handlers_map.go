package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/durablectx/durable"
)

// Suite map (9-x): Map, its nesting, completion rules, serdes and replay.

func registerMap(r *Registry) {
	r.HandleFunc(durableFunc(mapGreetings), "9-1")
	r.HandleFunc(durableFunc(mapWithoutName), "9-2")
	r.HandleFunc(durableFunc(mapEmpty), "9-4")
	r.HandleFunc(durableFunc(mapFailFast), "9-5")
	r.HandleFunc(durableFunc(mapMinSuccessful), "9-7")
	r.HandleFunc(durableFunc(mapToleratedFailure), "9-8")
	r.HandleFunc(durableFunc(mapToleranceExceeded), "9-9")
	r.HandleFunc(durableFunc(mapConcurrent), "9-11")
	r.HandleFunc(durableFunc(mapFlat), "9-12")
	r.HandleFunc(durableFunc(mapSuspendedInIteration), "9-15")
	r.HandleFunc(durableFunc(mapLargeResult), "9-16")
	r.HandleFunc(durableFunc(mapThenWait), "9-17")
	r.HandleFunc(durableFunc(mapWithResultSerdes), "9-19")
}

// sequential runs the items of a batch one after the other, in index order.
var sequential = durable.WithMaxConcurrency(1)

// batchProjection is what the completion-rule handlers return.
type batchProjection struct {
	CompletionReason durable.CompletionReason `json:"completionReason"`
	Status           durable.BatchStatus      `json:"status"`
	SuccessCount     int                      `json:"successCount"`
	FailureCount     int                      `json:"failureCount"`
	TotalCount       int                      `json:"totalCount"`
}

func project[T any](r *durable.BatchResult[T]) batchProjection {
	return batchProjection{
		CompletionReason: r.CompletionReason, Status: r.Status(),
		SuccessCount: r.SuccessCount(), FailureCount: r.FailureCount(), TotalCount: r.TotalCount(),
	}
}

// projectionWithout is batchProjection without some of its keys, for the
// requirements whose result lists fewer.
func projectionWithout[T any](r *durable.BatchResult[T], drop ...string) map[string]any {
	m := map[string]any{
		"completionReason": r.CompletionReason, "status": r.Status(),
		"successCount": r.SuccessCount(), "failureCount": r.FailureCount(), "totalCount": r.TotalCount(),
	}
	for _, k := range drop {
		delete(m, k)
	}
	return m
}

// 9-1: map "map" over the input; each item runs a greeting step.
func mapGreetings(ctx context.Context, items []string) ([]string, error) {
	res, err := durable.Map(ctx, "map", items, func(ctx context.Context, item string, _ int) (string, error) {
		return durable.Step(ctx, "greet", func(context.Context) (string, error) { return greet(item), nil })
	}, sequential)
	if err != nil {
		return nil, err
	}
	return res.Values(), nil
}

// 9-2: an unnamed map doubling each number, without inner operations.
func mapWithoutName(ctx context.Context, items []int) ([]int, error) {
	res, err := durable.Map(ctx, "", items, func(_ context.Context, n int, _ int) (int, error) { return 2 * n, nil }, sequential)
	if err != nil {
		return nil, err
	}
	return res.Values(), nil
}

// 9-4: a map over no items.
func mapEmpty(ctx context.Context, items []string) ([]string, error) {
	res, err := durable.Map(ctx, "empty", items, func(_ context.Context, s string, _ int) (string, error) { return s, nil })
	if err != nil {
		return nil, err
	}
	values := res.Values()
	if values == nil {
		values = []string{}
	}
	return values, nil
}

// failSecond makes item 1 fail and the others return "ok".
func failSecond(_ context.Context, _ string, i int) (string, error) {
	if i == 1 {
		return "", errIntentional
	}
	return "ok", nil
}

var threeItems = []string{"i0", "i1", "i2"}

// 9-5: no failure tolerated: the map stops after item 1 fails.
func mapFailFast(ctx context.Context, _ any) (batchProjection, error) {
	res, err := durable.Map(ctx, "failfast", threeItems, failSecond, sequential, durable.WithToleratedFailures(0))
	if err != nil {
		return batchProjection{}, err
	}
	return project(res), nil
}

// 9-7: the map completes once two items have succeeded.
func mapMinSuccessful(ctx context.Context, _ any) (map[string]any, error) {
	items := []string{"i0", "i1", "i2", "i3"}
	res, err := durable.Map(ctx, "min-successful", items, func(_ context.Context, s string, _ int) (string, error) { return "done-" + s, nil },
		sequential, durable.WithMinSuccessful(2))
	if err != nil {
		return nil, err
	}
	return projectionWithout(res, "status", "failureCount"), nil
}

// 9-8: one failure tolerated, one happens: every item runs.
func mapToleratedFailure(ctx context.Context, _ any) (batchProjection, error) {
	res, err := durable.Map(ctx, "tolerated", threeItems, failSecond, sequential, durable.WithToleratedFailures(1))
	if err != nil {
		return batchProjection{}, err
	}
	return project(res), nil
}

// 9-9: one failure tolerated, two happen: item 2 never starts.
func mapToleranceExceeded(ctx context.Context, _ any) (map[string]any, error) {
	res, err := durable.Map(ctx, "tolerated-exceeded", threeItems, func(context.Context, string, int) (string, error) { return "", errIntentional },
		sequential, durable.WithToleratedFailures(1))
	if err != nil {
		return nil, err
	}
	return projectionWithout(res, "status"), nil
}

// 9-11: three items, two at a time; results in index order.
func mapConcurrent(ctx context.Context, _ any) ([]string, error) {
	res, err := durable.Map(ctx, "concurrent", threeItems, func(_ context.Context, _ string, i int) (string, error) {
		return fmt.Sprintf("r%d", i), nil
	}, durable.WithMaxConcurrency(2))
	if err != nil {
		return nil, err
	}
	return res.Values(), nil
}

// 9-12: flat nesting: the items' steps are recorded under the map itself.
func mapFlat(ctx context.Context, _ any) ([]string, error) {
	res, err := durable.Map(ctx, "flat", []string{"fa", "fb"}, func(ctx context.Context, item string, _ int) (string, error) {
		return echoStep(ctx, "item", item)
	}, sequential, durable.WithNesting(durable.Flat))
	if err != nil {
		return nil, err
	}
	return res.Values(), nil
}

// 9-15: item 1 waits a second before its step: the execution suspends in
// the middle of the map, and replay skips item 0.
func mapSuspendedInIteration(ctx context.Context, _ any) ([]string, error) {
	res, err := durable.Map(ctx, "suspend", []string{"r0", "r1"}, func(ctx context.Context, item string, i int) (string, error) {
		if i == 1 {
			if err := durable.Wait(ctx, "wait", time.Second); err != nil {
				return "", err
			}
		}
		return echoStep(ctx, "item", item)
	}, sequential)
	if err != nil {
		return nil, err
	}
	return res.Values(), nil
}

// 9-16: four items of about 70 KB each: the map's result is too large to
// record, and is rebuilt from the items on replay.
func mapLargeResult(ctx context.Context, _ any) (map[string]any, error) {
	items := []string{"a", "b", "c", "d"}
	res, err := durable.Map(ctx, "large", items, func(_ context.Context, s string, _ int) (string, error) {
		return strings.Repeat(s, 70*1000), nil
	}, sequential)
	if err != nil {
		return nil, err
	}
	return map[string]any{"successCount": res.SuccessCount(), "totalCount": res.TotalCount()}, nil
}

// 9-17: a map that succeeds, then a 1-second wait.
func mapThenWait(ctx context.Context, _ any) ([]string, error) {
	res, err := durable.Map(ctx, "then-wait", []string{"a", "b"}, func(_ context.Context, s string, _ int) (string, error) {
		return strings.ToUpper(s), nil
	}, sequential)
	if err != nil {
		return nil, err
	}
	if err := durable.Wait(ctx, "wait", time.Second); err != nil {
		return nil, err
	}
	return res.Values(), nil
}

// opSerdes records a whole map result of strings as "OPSERDE:" followed by
// the comma-joined values, and reads it back.
type opSerdes struct{}

func (opSerdes) Serialize(v any) (string, error) {
	r, ok := v.(durable.BatchResult[string])
	if !ok {
		return "", fmt.Errorf("opSerdes: cannot serialize %T", v)
	}
	return "OPSERDE:" + strings.Join(r.Values(), ","), nil
}

func (opSerdes) Deserialize(data string, ptr any) error {
	p, ok := ptr.(*durable.BatchResult[string])
	if !ok {
		return fmt.Errorf("opSerdes: cannot fill %T", ptr)
	}
	rest, ok := strings.CutPrefix(data, "OPSERDE:")
	if !ok {
		return errors.New("opSerdes: missing OPSERDE: prefix")
	}
	p.Items = nil
	p.CompletionReason = durable.AllCompleted
	if rest == "" {
		return nil
	}
	for i, v := range strings.Split(rest, ",") {
		p.Items = append(p.Items, durable.BatchItem[string]{Index: i, Status: durable.ItemSucceeded, Value: v})
	}
	return nil
}

// 9-19: the whole map result goes through an operation-level serdes.
func mapWithResultSerdes(ctx context.Context, _ any) ([]string, error) {
	res, err := durable.Map(ctx, "op-serde", []string{"x", "y"}, func(_ context.Context, s string, _ int) (string, error) {
		return strings.ToUpper(s), nil
	}, sequential, durable.WithSerdes(opSerdes{}))
	if err != nil {
		return nil, err
	}
	return res.Values(), nil
}
