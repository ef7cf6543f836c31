package conformance

import (
	"encoding/json"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Span is a finished span in the canonical model the telemetry assertions
// see (README §3.1).
type Span struct {
	TraceID string // 32 lower-hex digits
	SpanID  string // 16 lower-hex digits
	// ParentSpanID is empty for a root span.
	ParentSpanID string
	Name         string
	// Kind is INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER or UNSPECIFIED.
	Kind       string
	Start, End time.Time
	// Status is UNSET, OK or ERROR.
	Status string
	// ServiceName is the resource's service.name.
	ServiceName string
	// Attributes are the resource attributes overlaid with the span's own.
	Attributes map[string]any
	// Links are in emission order.
	Links []SpanLink
	// Events are kept for artifacts; assertions do not see them.
	Events []SpanEvent
}

// SpanLink identifies a linked span.
type SpanLink struct {
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

// SpanEvent is an event recorded on a span.
type SpanEvent struct {
	Name       string         `json:"name"`
	Time       time.Time      `json:"time"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Canonical returns the span as the dict the assertions match: trace_id,
// span_id, parent_span_id (nil for a root), name, kind, start_time and
// end_time (RFC 3339 strings), status, service_name, attributes and links
// (a list of {trace_id, span_id}).
func (s Span) Canonical() map[string]any {
	var parent any
	if s.ParentSpanID != "" {
		parent = s.ParentSpanID
	}
	links := make([]any, len(s.Links))
	for i, l := range s.Links {
		links[i] = map[string]any{"trace_id": l.TraceID, "span_id": l.SpanID}
	}
	attrs := make(map[string]any, len(s.Attributes))
	for k, v := range s.Attributes {
		attrs[k] = v
	}
	return map[string]any{
		"trace_id":       s.TraceID,
		"span_id":        s.SpanID,
		"parent_span_id": parent,
		"name":           s.Name,
		"kind":           s.Kind,
		"start_time":     s.Start.UTC().Format(time.RFC3339Nano),
		"end_time":       s.End.UTC().Format(time.RFC3339Nano),
		"status":         s.Status,
		"service_name":   s.ServiceName,
		"attributes":     attrs,
		"links":          links,
	}
}

// MarshalJSON writes the canonical dict plus the events, the form of the
// <id>-otel.json artifact.
func (s Span) MarshalJSON() ([]byte, error) {
	m := s.Canonical()
	if len(s.Events) > 0 {
		m["events"] = s.Events
	}
	return json.Marshal(m)
}

// SpansFromStubs converts spans recorded by an OpenTelemetry SDK exporter,
// e.g. [tracetest.InMemoryExporter], to the canonical model.
func SpansFromStubs(stubs []tracetest.SpanStub) []Span {
	out := make([]Span, len(stubs))
	for i, st := range stubs {
		s := Span{
			TraceID:    st.SpanContext.TraceID().String(),
			SpanID:     st.SpanContext.SpanID().String(),
			Name:       st.Name,
			Kind:       spanKind(st.SpanKind),
			Start:      st.StartTime,
			End:        st.EndTime,
			Status:     statusCode(st.Status.Code),
			Attributes: map[string]any{},
		}
		if st.Parent.SpanID().IsValid() {
			s.ParentSpanID = st.Parent.SpanID().String()
		}
		if st.Resource != nil {
			for _, kv := range st.Resource.Attributes() {
				s.Attributes[string(kv.Key)] = attributeValue(kv.Value)
			}
			if v, ok := st.Resource.Set().Value("service.name"); ok {
				s.ServiceName = v.AsString()
			}
		}
		for _, kv := range st.Attributes {
			s.Attributes[string(kv.Key)] = attributeValue(kv.Value)
		}
		for _, l := range st.Links {
			s.Links = append(s.Links, SpanLink{TraceID: l.SpanContext.TraceID().String(), SpanID: l.SpanContext.SpanID().String()})
		}
		for _, e := range st.Events {
			ev := SpanEvent{Name: e.Name, Time: e.Time}
			if len(e.Attributes) > 0 {
				ev.Attributes = map[string]any{}
				for _, kv := range e.Attributes {
					ev.Attributes[string(kv.Key)] = attributeValue(kv.Value)
				}
			}
			s.Events = append(s.Events, ev)
		}
		out[i] = s
	}
	return out
}

func spanKind(k trace.SpanKind) string {
	switch k {
	case trace.SpanKindInternal:
		return "INTERNAL"
	case trace.SpanKindServer:
		return "SERVER"
	case trace.SpanKindClient:
		return "CLIENT"
	case trace.SpanKindProducer:
		return "PRODUCER"
	case trace.SpanKindConsumer:
		return "CONSUMER"
	}
	return "UNSPECIFIED"
}

func statusCode(c codes.Code) string {
	switch c {
	case codes.Ok:
		return "OK"
	case codes.Error:
		return "ERROR"
	}
	return "UNSET"
}

// attributeValue converts an attribute to the JSON-like value model: bool,
// int64, float64, string, or []any of those.
func attributeValue(v attribute.Value) any {
	switch x := v.AsInterface().(type) {
	case []bool:
		return toAnySlice(x)
	case []int64:
		return toAnySlice(x)
	case []float64:
		return toAnySlice(x)
	case []string:
		return toAnySlice(x)
	default:
		return x
	}
}

func toAnySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
