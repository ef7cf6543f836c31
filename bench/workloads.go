package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/checkpointer"
)

// Item is what every step of the workloads returns: {i, s:"x"}.
type Item struct {
	I int    `json:"i"`
	S string `json:"s"`
}

// Workload is one of W1–W5: a durable handler.
type Workload struct {
	// Name is "W1" ... "W5".
	Name string
	// Description says what the handler does.
	Description string
	// PerStep: the per-step time (wall/N) is meaningful (W1).
	PerStep bool
	// Replay: the last invocation replays N steps before its first step
	// body (W4).
	Replay bool
	// handler builds the user handler; p counts the step bodies.
	handler func(cfg Config, p *probe) lambda.Handler
}

// steps runs n sequential steps named s0, s1, ... returning {i, "x"}.
func steps(ctx context.Context, n int, p *probe) (Item, error) {
	var last Item
	for i := range n {
		var err error
		last, err = durable.Step(ctx, "s"+strconv.Itoa(i), func(context.Context) (Item, error) {
			p.body()
			return Item{I: i, S: "x"}, nil
		})
		if err != nil {
			return Item{}, err
		}
	}
	return last, nil
}

// W1 is N sequential steps, each returning {i, s:"x"}.
var W1 = &Workload{
	Name:        "W1",
	Description: "N sequential steps returning {i, s:\"x\"}",
	PerStep:     true,
	handler: func(cfg Config, p *probe) lambda.Handler {
		n := cfg.N
		return adapters.Handler(func(ctx context.Context, _ struct{}) (Item, error) {
			p.entered()
			return steps(ctx, n, p)
		})
	},
}

// W2 is a one-hour wait, then one step.
var W2 = &Workload{
	Name:        "W2",
	Description: "1 h wait, then one step (virtual clock)",
	handler: func(cfg Config, p *probe) lambda.Handler {
		return adapters.Handler(func(ctx context.Context, _ struct{}) (Item, error) {
			p.entered()
			if err := durable.Wait(ctx, "wait-1h", time.Hour); err != nil {
				return Item{}, err
			}
			return durable.Step(ctx, "after", func(context.Context) (Item, error) {
				p.body()
				return Item{I: 0, S: "x"}, nil
			})
		})
	},
}

// W3 is a map over 100 items, at most 10 at a time, each item one step.
var W3 = &Workload{
	Name:        "W3",
	Description: "map over 100 items, max concurrency 10, one step per item",
	handler: func(cfg Config, p *probe) lambda.Handler {
		items := make([]int, 100)
		for i := range items {
			items[i] = i
		}
		return adapters.Handler(func(ctx context.Context, _ struct{}) (int, error) {
			p.entered()
			res, err := durable.Map(ctx, "map100", items, func(ctx context.Context, item, _ int) (Item, error) {
				return durable.Step(ctx, "item-"+strconv.Itoa(item), func(context.Context) (Item, error) {
					p.body()
					return Item{I: item, S: "x"}, nil
				})
			}, durable.WithMaxConcurrency(10))
			if err != nil {
				return 0, err
			}
			if err := res.Err(); err != nil {
				return 0, err
			}
			return len(res.Items), nil
		})
	},
}

// W4 is N steps (default 1000), a 1 s wait and one more step: the second
// invocation replays the N steps.
var W4 = &Workload{
	Name:        "W4",
	Description: "N steps, 1 s wait, one more step (2nd invocation replays N steps)",
	Replay:      true,
	handler: func(cfg Config, p *probe) lambda.Handler {
		n := cfg.N
		return adapters.Handler(func(ctx context.Context, _ struct{}) (Item, error) {
			p.entered()
			if _, err := steps(ctx, n, p); err != nil {
				return Item{}, err
			}
			if err := durable.Wait(ctx, "wait-1s", time.Second); err != nil {
				return Item{}, err
			}
			return durable.Step(ctx, "final", func(context.Context) (Item, error) {
				p.body()
				return Item{I: n, S: "x"}, nil
			})
		})
	},
}

// W5 is a step that fails on attempts 1 and 2 and succeeds on attempt 3,
// with a 1 s retry delay.
var W5 = &Workload{
	Name:        "W5",
	Description: "step failing twice, succeeding on attempt 3, 1 s retry delay",
	handler: func(cfg Config, p *probe) lambda.Handler {
		return adapters.Handler(func(ctx context.Context, _ struct{}) (Item, error) {
			p.entered()
			return durable.Step(ctx, "flaky", func(ctx context.Context) (Item, error) {
				p.body()
				a := durable.StepAttempt(ctx)
				if a < 3 {
					return Item{}, fmt.Errorf("fail attempt %d", a)
				}
				return Item{I: a, S: "x"}, nil
			}, durable.WithRetry(durable.FixedRetry(5, time.Second)))
		})
	},
}

// Variant is a workload with its configuration, under a label such as
// "w1-100-pipelined".
type Variant struct {
	Label    string
	Workload *Workload
	Config   Config
	// TS is the label of the TypeScript anchor's workload it compares with
	// (bench.js), "" for none.
	TS string
}

const lat5 = 5 * time.Millisecond

// Variants are the workload variants of issue 7, in report order.
var Variants = []Variant{
	{"w1-100-sync", W1, Config{Mode: checkpointer.Sync, N: 100}, "w1-100"},
	{"w1-100-pipelined", W1, Config{Mode: checkpointer.Pipelined, N: 100}, "w1-100"},
	{"w1-1000-sync", W1, Config{Mode: checkpointer.Sync, N: 1000}, "w1-1000"},
	{"w1-1000-pipelined", W1, Config{Mode: checkpointer.Pipelined, N: 1000}, "w1-1000"},
	{"w2", W2, Config{Mode: checkpointer.Sync}, "w2"},
	{"w3", W3, Config{Mode: checkpointer.Sync}, "w3"},
	{"w3-pipelined", W3, Config{Mode: checkpointer.Pipelined}, "w3"},
	{"w4", W4, Config{Mode: checkpointer.Sync, N: 1000}, "w4"},
	{"w4-pipelined", W4, Config{Mode: checkpointer.Pipelined, N: 1000}, "w4"},
	{"w4-10000", W4, Config{Mode: checkpointer.Sync, N: 10000}, ""},
	{"w5", W5, Config{Mode: checkpointer.Sync}, "w5"},
	{"w1-100-sync-lat5", W1, Config{Mode: checkpointer.Sync, N: 100, Latency: lat5}, "w1-100-lat5"},
	{"w1-100-pipelined-lat5", W1, Config{Mode: checkpointer.Pipelined, N: 100, Latency: lat5}, "w1-100-lat5"},
}

// Lookup returns the variant labelled label.
func Lookup(label string) (Variant, error) {
	for _, v := range Variants {
		if v.Label == label {
			return v, nil
		}
	}
	return Variant{}, fmt.Errorf("%w %q", errUnknown, label)
}
