package durable

import (
	"context"
	"fmt"
	"reflect"
)

// Map runs fn for every item, concurrently, and records the outcome of each.
//
// The map is a CONTEXT operation (SubType Map) holding one child context
// per item (SubType MapIteration), so each item may run any durable
// operations with the ctx it receives; [Flat] nesting records them
// directly under the map instead. Items start in index order, at most
// [WithMaxConcurrency] at a time, and their operation ids are claimed on
// the calling goroutine, so the ids do not depend on scheduling. Once the
// map has completed, later invocations return the recorded [BatchResult]
// without running fn.
//
// An item that fails does not fail the map: the result records it, and
// [BatchResult.Err] turns failures into an error. A panic in fn fails the
// item with a [*PanicError], as in a step. The map completes when
// every item has finished, or earlier when [WithMinSuccessful] items have
// succeeded or more failures than [WithToleratedFailures] or
// [WithToleratedFailurePercentage] allow have happened; items not started
// by then never start, and items still running are reported as
// [ItemStarted]. Map returns an error only for invalid options (before
// anything is recorded), a suspension ([ErrSuspended], once the running
// items have settled) or an execution failure.
//
// While the map runs, its calling context is busy: durable operations
// started with it fail with [ErrConcurrentOperation]. Items must use the
// ctx they receive.
func Map[In, Out any](ctx context.Context, name string, items []In, fn func(ctx context.Context, item In, index int) (Out, error), opts ...MapOption) (*BatchResult[Out], error) {
	var cfg batchConfig
	for _, o := range opts {
		o.applyMap(&cfg)
	}
	if fn == nil {
		return nil, fmt.Errorf("durable: map %q has a nil function", name)
	}
	var namer func(In, int) string
	if cfg.itemName != nil {
		var ok bool
		if namer, ok = cfg.itemName.(func(In, int) string); !ok {
			return nil, fmt.Errorf("durable: map %q: WithItemName takes a %s, but the items are %s",
				name, reflect.TypeOf(cfg.itemName), reflect.TypeFor[In]())
		}
	}
	spec := &batchSpec[Out]{
		kind: "map", subType: "Map", itemSubType: "MapIteration", resultType: "MapResult", n: len(items),
		name: func(i int) string {
			if namer == nil {
				return ""
			}
			return namer(items[i], i)
		},
		run: func(ctx context.Context, i int) (Out, error) { return fn(ctx, items[i], i) },
	}
	return runBatch(ctx, name, spec, &cfg)
}
