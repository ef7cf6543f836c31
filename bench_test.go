package durable_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/checkpointer"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
)

type item struct {
	I int    `json:"i"`
	S string `json:"s"`
}

func stepsHandler(n int) func(ctx context.Context, _ any) (int, error) {
	return func(ctx context.Context, _ any) (int, error) {
		for i := range n {
			if _, err := durable.Step(ctx, "", func(context.Context) (item, error) { return item{I: i, S: "x"}, nil }); err != nil {
				return 0, err
			}
		}
		return n, nil
	}
}

// BenchmarkLiveStep measures one live step, checkpoint included, against an
// in-memory API: b.N sequential steps in one invocation.
func BenchmarkLiveStep(b *testing.B) {
	for _, mode := range []checkpointer.Mode{checkpointer.Sync, checkpointer.Pipelined} {
		b.Run(mode.String(), func(b *testing.B) {
			api := fakeapi.New(`null`)
			h := middleware.Wrap(adapters.Handler(stepsHandler(b.N)), middleware.WithAPI(api), middleware.WithCheckpointMode(mode))
			env := api.Envelope()
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := h.Invoke(context.Background(), env); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(len(api.Calls()))/float64(b.N), "calls/op")
		})
	}
}

// BenchmarkReplay measures an invocation that replays n recorded steps,
// envelope decoding included; ns/step is the cost of one replayed step.
func BenchmarkReplay(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			api := fakeapi.New(`null`)
			h := middleware.Wrap(adapters.Handler(stepsHandler(n)), middleware.WithAPI(api))
			if out, err := api.Invoke(context.Background(), h); err != nil || out.Status != "SUCCEEDED" {
				b.Fatal(out, err)
			}
			env := api.Envelope() // the recorded history; replay makes no checkpoint call
			calls := len(api.Calls())
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := h.Invoke(context.Background(), env); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if len(api.Calls()) != calls {
				b.Fatal("replay made checkpoint calls")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/step")
		})
	}
}
