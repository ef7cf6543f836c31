package durable

import (
	"context"
	"fmt"
)

// Branch is one branch of a [Parallel]: an optional name, which names the
// branch's operation in the history, and its function.
type Branch[T any] struct {
	Name string
	Fn   func(ctx context.Context) (T, error)
}

// Parallel runs the branches concurrently and records the outcome of each.
// It works like [Map] over the branches: a CONTEXT operation (SubType
// Parallel) holding one child context per branch (SubType ParallelBranch),
// started in order, with the same options, completion rules and result.
// Branches returning different types use T = any.
func Parallel[T any](ctx context.Context, name string, branches []Branch[T], opts ...ParallelOption) (*BatchResult[T], error) {
	var cfg batchConfig
	for _, o := range opts {
		o.applyParallel(&cfg)
	}
	for i, b := range branches {
		if b.Fn == nil {
			return nil, fmt.Errorf("durable: parallel %q: branch %d (%q) has a nil function", name, i, b.Name)
		}
	}
	spec := &batchSpec[T]{
		kind: "parallel", subType: "Parallel", itemSubType: "ParallelBranch", resultType: "ParallelResult", n: len(branches),
		name: func(i int) string { return branches[i].Name },
		run:  func(ctx context.Context, i int) (T, error) { return branches[i].Fn(ctx) },
	}
	return runBatch(ctx, name, spec, &cfg)
}
