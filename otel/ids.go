package otel

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// IDSource generates trace and span ids. It is the OpenTelemetry SDK's
// go.opentelemetry.io/otel/sdk/trace.IDGenerator, restated so that this
// package needs only the API.
type IDSource interface {
	NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID)
	NewSpanID(ctx context.Context, traceID trace.TraceID) trace.SpanID
}

// IDGenerator gives the durable spans the ids [Hooks] derives for them from
// the execution ARN and the operation ids, and every other span the ids of
// Fallback. Install it in the tracer provider the hooks use:
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithIDGenerator(otel.IDGenerator{}),
//		sdktrace.WithBatcher(exporter),
//	)
//
// It is what lets a span emitted by one invocation name as its parent, or
// link to, a span another invocation emits (the Workflow span is emitted only
// when the execution ends). Without it the spans are still emitted, but
// their parents and links across invocations dangle; the hooks report that
// once through the OpenTelemetry error handler. The zero value is ready to
// use.
type IDGenerator struct {
	// Fallback generates the ids of spans that are not durable spans. Nil
	// means random ids whose trace id starts with the current Unix time in
	// seconds, as AWS X-Ray's do.
	Fallback IDSource
}

// NewIDs implements IDSource.
func (g IDGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if want, ok := ctx.Value(idKey{}).(spanIDs); ok {
		return want.trace, want.span
	}
	if g.Fallback != nil {
		return g.Fallback.NewIDs(ctx)
	}
	var tid trace.TraceID
	binary.BigEndian.PutUint32(tid[:4], uint32(time.Now().Unix()))
	binary.BigEndian.PutUint32(tid[4:8], rand.Uint32())
	binary.BigEndian.PutUint64(tid[8:], rand.Uint64())
	return tid, randomSpanID()
}

// NewSpanID implements IDSource.
func (g IDGenerator) NewSpanID(ctx context.Context, traceID trace.TraceID) trace.SpanID {
	if want, ok := ctx.Value(idKey{}).(spanIDs); ok {
		return want.span
	}
	if g.Fallback != nil {
		return g.Fallback.NewSpanID(ctx, traceID)
	}
	return randomSpanID()
}

func randomSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.BigEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}

// idKey carries the ids a durable span must get, from the hooks to the
// IDGenerator, in the context the hooks start the span with. It is never in
// a context user code sees.
type idKey struct{}

type spanIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

func withIDs(ctx context.Context, sc trace.SpanContext) context.Context {
	return context.WithValue(ctx, idKey{}, spanIDs{trace: sc.TraceID(), span: sc.SpanID()})
}

// hash is FNV-1a over the parts, separated, with a final mix: stable across
// processes and releases, so every invocation derives the same ids.
func hash(seed uint64, parts ...string) uint64 {
	h := uint64(14695981039346656037) ^ seed
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	// splitmix64's finalizer spreads the bits.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

func spanIDOf(parts ...string) trace.SpanID {
	var sid trace.SpanID
	v := hash(0, parts...)
	if v == 0 {
		v = 1
	}
	binary.BigEndian.PutUint64(sid[:], v)
	return sid
}

// executionTraceID is the trace of the execution's Workflow span: the
// execution's start in Unix seconds (as X-Ray's trace ids begin), then a
// hash of the ARN. Every invocation derives the same id.
func executionTraceID(arn string, start time.Time) trace.TraceID {
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[:8], hash(1, "trace", arn))
	binary.BigEndian.PutUint64(tid[8:], hash(2, "trace", arn))
	if !start.IsZero() {
		binary.BigEndian.PutUint32(tid[:4], uint32(start.Unix()))
	}
	if !tid.IsValid() {
		tid[15] = 1
	}
	return tid
}

// parseXRay reads an X-Ray trace header,
// "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
// as the remote span it names. It needs Root and Parent.
func parseXRay(h string) (trace.SpanContext, bool) {
	var root, parent, sampled string
	for h != "" {
		var field string
		field, h, _ = strings.Cut(h, ";")
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "Root":
			root = v
		case "Parent":
			parent = v
		case "Sampled":
			sampled = v
		}
	}
	// Root is "1-" + 8 hex digits of time + "-" + 24 hex digits.
	if len(root) != 35 || root[:2] != "1-" || root[10] != '-' {
		return trace.SpanContext{}, false
	}
	tid, err := trace.TraceIDFromHex(root[2:10] + root[11:])
	if err != nil {
		return trace.SpanContext{}, false
	}
	sid, err := trace.SpanIDFromHex(parent)
	if err != nil {
		return trace.SpanContext{}, false
	}
	cfg := trace.SpanContextConfig{TraceID: tid, SpanID: sid, Remote: true}
	if sampled != "0" {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return trace.NewSpanContext(cfg), true
}

// invocationKey tells the invocations of an execution apart: Lambda's
// request id and the invocation's start (a re-driven invocation may keep its
// request id).
func invocationKey(requestID string, start time.Time) string {
	return requestID + "@" + strconv.FormatInt(start.UnixNano(), 10)
}
