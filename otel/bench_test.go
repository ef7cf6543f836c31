package otel_test

import (
	"context"
	"strconv"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/ctxstate"
	"github.com/durablectx/durable/internal/fakeapi"
	durableotel "github.com/durablectx/durable/otel"
)

// discard is an exporter that drops spans: the cost measured is the hooks'
// and the SDK's, not an exporter's.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

const benchSteps = 20

func manySteps(ctx context.Context, _ any) (string, error) {
	var last string
	for i := range benchSteps {
		v, err := durable.Step(ctx, "step-"+strconv.Itoa(i), func(context.Context) (string, error) { return "ok", nil })
		if err != nil {
			return "", err
		}
		last = v
	}
	return last, nil
}

// BenchmarkStepHeavyWorkflow runs one invocation of a workflow of 20 steps
// on the fake API, without hooks and with the OTel hooks in each view.
func BenchmarkStepHeavyWorkflow(b *testing.B) {
	sdk := sdktrace.NewTracerProvider(sdktrace.WithIDGenerator(durableotel.IDGenerator{}), sdktrace.WithSyncer(discard{}))
	cases := []struct {
		name  string
		hooks []*ctxstate.Hooks
	}{
		{"no hooks", nil},
		{"otel noop provider", []*ctxstate.Hooks{durableotel.Hooks(durableotel.WithTracerProvider(noop.NewTracerProvider()))}},
		{"otel invocation view", []*ctxstate.Hooks{durableotel.Hooks(durableotel.WithTracerProvider(sdk))}},
		{"otel execution view", []*ctxstate.Hooks{durableotel.Hooks(durableotel.WithTracerProvider(sdk), durableotel.WithView(durableotel.ExecutionView))}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				api := fakeapi.New(`null`)
				out, err := api.Invoke(context.Background(), durableHandler(api, manySteps, c.hooks...))
				if err != nil || out.Status != "SUCCEEDED" {
					b.Fatal(out, err)
				}
			}
		})
	}
}
