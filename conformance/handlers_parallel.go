package conformance

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/durablectx/durable"
)

// Suite parallel (8-x): Parallel, its branches, completion rules, serdes and
// nesting.

func registerParallel(r *Registry) {
	r.HandleFunc(durableFunc(parallelSteps), "8-1")
	r.HandleFunc(durableFunc(parallelWithoutName), "8-2")
	r.HandleFunc(durableFunc(parallelNamedBranches), "8-3")
	r.HandleFunc(durableFunc(parallelHeterogeneous), "8-4")
	r.HandleFunc(durableFunc(parallelEmpty), "8-5")
	r.HandleFunc(durableFunc(parallelFailFast), "8-6")
	r.HandleFunc(durableFunc(parallelMinSuccessful), "8-8")
	r.HandleFunc(durableFunc(parallelToleratedFailure), "8-9")
	r.HandleFunc(durableFunc(parallelConcurrent), "8-11")
	r.HandleFunc(durableFunc(parallelTolerancePercentExceeded), "8-13")
	r.HandleFunc(durableFunc(parallelWithItemSerdes), "8-15")
	r.HandleFunc(durableFunc(parallelAllFail), "8-16")
	r.HandleFunc(durableFunc(parallelMinSuccessfulNotReached), "8-17")
	r.HandleFunc(durableFunc(parallelAccessors), "8-20")
	r.HandleFunc(durableFunc(parallelNested), "8-21")
}

// constant is a branch returning v directly.
func constant[T any](v T) durable.Branch[T] {
	return durable.Branch[T]{Fn: func(context.Context) (T, error) { return v, nil }}
}

// failing is a branch that fails.
func failing[T any]() durable.Branch[T] {
	return durable.Branch[T]{Fn: func(context.Context) (T, error) {
		var zero T
		return zero, errIntentional
	}}
}

// stepBranch is a branch running one step that returns v.
func stepBranch(name, v string) durable.Branch[string] {
	return durable.Branch[string]{Fn: func(ctx context.Context) (string, error) { return echoStep(ctx, name, v) }}
}

func values[T any](res *durable.BatchResult[T], err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	v := res.Values()
	if v == nil {
		v = []T{}
	}
	return v, nil
}

// 8-1: parallel "parallel" with two branches, each one step.
func parallelSteps(ctx context.Context, _ any) ([]string, error) {
	return values(durable.Parallel(ctx, "parallel", []durable.Branch[string]{stepBranch("task", "task-1"), stepBranch("task", "task-2")}, sequential))
}

// 8-2: an unnamed parallel of two branches returning constants.
func parallelWithoutName(ctx context.Context, _ any) ([]string, error) {
	return values(durable.Parallel(ctx, "", []durable.Branch[string]{constant("alpha"), constant("beta")}, sequential))
}

// 8-3: named branches "first" and "second".
func parallelNamedBranches(ctx context.Context, _ any) ([]string, error) {
	branches := []durable.Branch[string]{constant("one"), constant("two")}
	branches[0].Name, branches[1].Name = "first", "second"
	return values(durable.Parallel(ctx, "named", branches, sequential))
}

// 8-4: branches returning a string, a number and an object.
func parallelHeterogeneous(ctx context.Context, _ any) ([]any, error) {
	branches := []durable.Branch[any]{constant[any]("hello"), constant[any](42), constant[any](map[string]any{"k": "v"})}
	return values(durable.Parallel(ctx, "hetero", branches, sequential))
}

// 8-5: a parallel of no branches.
func parallelEmpty(ctx context.Context, _ any) ([]string, error) {
	return values(durable.Parallel(ctx, "empty", []durable.Branch[string]{}))
}

// okFailOK is three branches: "ok", a failure, "ok".
func okFailOK() []durable.Branch[string] {
	return []durable.Branch[string]{constant("ok"), failing[string](), constant("ok")}
}

// 8-6: no failure tolerated: branch 2 never starts.
func parallelFailFast(ctx context.Context, _ any) (batchProjection, error) {
	res, err := durable.Parallel(ctx, "failfast", okFailOK(), sequential, durable.WithToleratedFailures(0))
	if err != nil {
		return batchProjection{}, err
	}
	return project(res), nil
}

// 8-8: complete once two branches have succeeded.
func parallelMinSuccessful(ctx context.Context, _ any) (map[string]any, error) {
	branches := []durable.Branch[string]{constant("b0"), constant("b1"), constant("b2"), constant("b3")}
	res, err := durable.Parallel(ctx, "min-successful", branches, sequential, durable.WithMinSuccessful(2))
	if err != nil {
		return nil, err
	}
	return projectionWithout(res, "status", "failureCount"), nil
}

// 8-9: one failure tolerated, one happens.
func parallelToleratedFailure(ctx context.Context, _ any) (batchProjection, error) {
	res, err := durable.Parallel(ctx, "tolerated", okFailOK(), sequential, durable.WithToleratedFailures(1))
	if err != nil {
		return batchProjection{}, err
	}
	return project(res), nil
}

// 8-11: three branches, two at a time; results in index order.
func parallelConcurrent(ctx context.Context, _ any) ([]string, error) {
	return values(durable.Parallel(ctx, "concurrent", []durable.Branch[string]{constant("r0"), constant("r1"), constant("r2")}, durable.WithMaxConcurrency(2)))
}

// 8-13: 25% of four branches tolerated: the second failure (50%) stops the
// parallel.
func parallelTolerancePercentExceeded(ctx context.Context, _ any) (map[string]any, error) {
	branches := []durable.Branch[string]{failing[string](), failing[string](), constant("b2"), constant("b3")}
	res, err := durable.Parallel(ctx, "tolerated-pct", branches, sequential, durable.WithToleratedFailurePercentage(25))
	if err != nil {
		return nil, err
	}
	return projectionWithout(res, "status"), nil
}

// wrapSerdes records a value v as {"wrapped": v} and reads it back.
type wrapSerdes struct{}

func (wrapSerdes) Serialize(v any) (string, error) {
	b, err := json.Marshal(map[string]any{"wrapped": v})
	return string(b), err
}

func (wrapSerdes) Deserialize(data string, ptr any) error {
	var env struct {
		Wrapped json.RawMessage `json:"wrapped"`
	}
	if err := json.Unmarshal([]byte(data), &env); err != nil {
		return err
	}
	if env.Wrapped == nil {
		return fmt.Errorf("wrapSerdes: no wrapped value in %q", data)
	}
	return json.Unmarshal(env.Wrapped, ptr)
}

// 8-15: the branch results go through a wrapping item serdes.
func parallelWithItemSerdes(ctx context.Context, _ any) ([]string, error) {
	return values(durable.Parallel(ctx, "serde", []durable.Branch[string]{constant("x"), constant("y")}, sequential, durable.WithItemSerdes(wrapSerdes{})))
}

// 8-16: every branch fails, all tolerated.
func parallelAllFail(ctx context.Context, _ any) (batchProjection, error) {
	branches := []durable.Branch[string]{failing[string](), failing[string](), failing[string]()}
	res, err := durable.Parallel(ctx, "all-fail", branches, sequential, durable.WithToleratedFailures(3))
	if err != nil {
		return batchProjection{}, err
	}
	return project(res), nil
}

// 8-17: three successes wanted, two happen: every branch runs.
func parallelMinSuccessfulNotReached(ctx context.Context, _ any) (batchProjection, error) {
	res, err := durable.Parallel(ctx, "min-not-reached", okFailOK(), sequential, durable.WithMinSuccessful(3))
	if err != nil {
		return batchProjection{}, err
	}
	return project(res), nil
}

type accessorProjection struct {
	HasFailure   bool `json:"hasFailure"`
	SuccessCount int  `json:"successCount"`
	FailureCount int  `json:"failureCount"`
	ErrorCount   int  `json:"errorCount"`
}

// 8-20: the result's accessors over a success, a failure and a success.
func parallelAccessors(ctx context.Context, _ any) (accessorProjection, error) {
	res, err := durable.Parallel(ctx, "accessors", okFailOK(), sequential, durable.WithToleratedFailures(1))
	if err != nil {
		return accessorProjection{}, err
	}
	return accessorProjection{
		HasFailure: res.HasFailure(), SuccessCount: len(res.Succeeded()),
		FailureCount: len(res.Failed()), ErrorCount: len(res.Errors()),
	}, nil
}

// 8-21: a parallel whose one branch runs a parallel of two steps.
func parallelNested(ctx context.Context, _ any) ([][]string, error) {
	outer := []durable.Branch[[]string]{{Fn: func(ctx context.Context) ([]string, error) {
		return values(durable.Parallel(ctx, "inner", []durable.Branch[string]{stepBranch("inner-step", "i1"), stepBranch("inner-step", "i2")}, sequential))
	}}}
	return values(durable.Parallel(ctx, "outer", outer, sequential))
}
