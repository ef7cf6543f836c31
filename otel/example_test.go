package otel_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/durablectx/durable"
	"github.com/durablectx/durable/adapters"
	"github.com/durablectx/durable/internal/fakeapi"
	"github.com/durablectx/durable/middleware"
	"github.com/durablectx/durable/otel"
)

// order reserves stock, then charges; the first charge attempt fails, so
// the execution takes two invocations.
func order(ctx context.Context, _ any) (string, error) {
	if _, err := durable.Step(ctx, "reserve", func(context.Context) (string, error) { return "r-1", nil }); err != nil {
		return "", err
	}
	return durable.Step(ctx, "charge", func(ctx context.Context) (string, error) {
		if durable.StepAttempt(ctx) == 1 {
			return "", errors.New("card declined")
		}
		return "ch-1", nil
	}, durable.WithRetry(durable.RetryPolicy{MaxAttempts: 3, InitialDelay: time.Second, Jitter: durable.NoJitter}))
}

// The hooks go to the middleware; the tracer provider must give durable
// spans their derived ids with IDGenerator. Here an in-memory durable API
// plays the Lambda service and an in-memory exporter receives the spans.
func ExampleHooks() {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(otel.IDGenerator{}),
		sdktrace.WithSyncer(exporter), // use sdktrace.WithBatcher and an OTLP exporter in production
	)
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(order), middleware.WithAPI(api),
		middleware.WithHooks(otel.Hooks(otel.WithTracerProvider(tp))))
	if _, err := api.Run(context.Background(), h, 5); err != nil {
		fmt.Println(err)
		return
	}
	printTree(exporter.GetSpans())
	// Output:
	// Workflow SUCCEEDED
	//   Invocation first=true PENDING
	//     charge STARTED -> Workflow
	//       charge attempt 1 FAILED -> Workflow
	//     reserve SUCCEEDED -> Workflow
	//       reserve attempt 1 SUCCEEDED -> Workflow
	//   Invocation first=false SUCCEEDED
	//     charge SUCCEEDED -> Workflow
	//       charge attempt 2 SUCCEEDED -> Workflow
}

// In the execution view, each operation has one span under the Workflow,
// linked to the invocation in which it completed.
func ExampleWithView() {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithIDGenerator(otel.IDGenerator{}), sdktrace.WithSyncer(exporter))
	api := fakeapi.New(`null`)
	h := middleware.Wrap(adapters.Handler(order), middleware.WithAPI(api),
		middleware.WithHooks(otel.Hooks(otel.WithTracerProvider(tp), otel.WithView(otel.ExecutionView))))
	if _, err := api.Run(context.Background(), h, 5); err != nil {
		fmt.Println(err)
		return
	}
	printTree(exporter.GetSpans())
	// Output:
	// Workflow SUCCEEDED
	//   Invocation first=true PENDING
	//   Invocation first=false SUCCEEDED
	//   charge SUCCEEDED -> Invocation first=false
	//     charge attempt 1 FAILED -> Invocation first=true
	//     charge attempt 2 SUCCEEDED -> Invocation first=false
	//   reserve SUCCEEDED -> Invocation first=true
	//     reserve attempt 1 SUCCEEDED -> Invocation first=true
}

// printTree prints spans under their parents (Invocation spans first, in
// start order, then the others by name) with their status and the spans
// they link to.
func printTree(spans tracetest.SpanStubs) {
	byID := map[trace.SpanID]tracetest.SpanStub{}
	children := map[trace.SpanID][]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
		children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
	}
	var walk func(parent trace.SpanID, depth int)
	walk = func(parent trace.SpanID, depth int) {
		kids := children[parent]
		sort.Slice(kids, func(i, j int) bool {
			a, b := kids[i], kids[j]
			if (a.Name == "Invocation") != (b.Name == "Invocation") {
				return a.Name == "Invocation"
			}
			if a.Name == "Invocation" {
				return a.StartTime.Before(b.StartTime)
			}
			return a.Name < b.Name
		})
		for _, s := range kids {
			line := strings.Repeat("  ", depth) + s.Name
			for _, a := range s.Attributes {
				switch a.Key {
				case "durable.invocation.first":
					line += " first=" + a.Value.String()
				case "durable.execution.status", "durable.invocation.status", "durable.operation.status", "durable.attempt.outcome":
					line += " " + a.Value.String()
				}
			}
			for _, l := range s.Links {
				linked := byID[l.SpanContext.SpanID()]
				line += " -> " + linked.Name
				for _, a := range linked.Attributes {
					if a.Key == "durable.invocation.first" {
						line += " first=" + a.Value.String()
					}
				}
			}
			fmt.Println(line)
			walk(s.SpanContext.SpanID(), depth+1)
		}
	}
	walk(trace.SpanID{}, 0)
}
