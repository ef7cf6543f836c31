package conformance

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const serviceName = "durable-execution-conformance"

// spanRecorder records spans through the OpenTelemetry SDK into an
// in-memory exporter, with timestamps given as millisecond offsets.
type spanRecorder struct {
	t0     time.Time
	exp    *tracetest.InMemoryExporter
	tracer trace.Tracer
	ids    *sequentialIDs
}

// sequentialIDs makes IDs readable and lets a test force the trace of a new
// root, which is how a second root lands in an existing trace.
type sequentialIDs struct {
	n          uint64
	forceTrace trace.TraceID
}

func (g *sequentialIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	g.n++
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[8:], g.n)
	if g.forceTrace.IsValid() {
		tid, g.forceTrace = g.forceTrace, trace.TraceID{}
	}
	return tid, g.NewSpanID(ctx, tid)
}

func (g *sequentialIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.n++
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.n)
	return sid
}

func newSpanRecorder(t *testing.T) *spanRecorder {
	exp := tracetest.NewInMemoryExporter()
	ids := &sequentialIDs{}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithIDGenerator(ids),
		sdktrace.WithResource(sdkresource.NewSchemaless(attribute.String("service.name", serviceName))),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &spanRecorder{t0: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), exp: exp, tracer: tp.Tracer("conformance-test"), ids: ids}
}

type spanSpec struct {
	name       string
	parent     trace.SpanContext // invalid: a new root
	inTrace    trace.TraceID     // for a new root: force this trace
	start, end int               // milliseconds
	status     codes.Code
	kind       trace.SpanKind
	attrs      []attribute.KeyValue
	links      []trace.SpanContext
}

func (r *spanRecorder) add(s spanSpec) trace.SpanContext {
	at := func(ms int) time.Time { return r.t0.Add(time.Duration(ms) * time.Millisecond) }
	opts := []trace.SpanStartOption{trace.WithTimestamp(at(s.start)), trace.WithAttributes(s.attrs...)}
	if s.kind != trace.SpanKindUnspecified {
		opts = append(opts, trace.WithSpanKind(s.kind))
	}
	for _, l := range s.links {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: l}))
	}
	ctx := context.Background()
	if s.parent.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, s.parent)
	} else {
		opts = append(opts, trace.WithNewRoot())
		r.ids.forceTrace = s.inTrace
	}
	_, span := r.tracer.Start(ctx, s.name, opts...)
	if s.status != codes.Unset {
		span.SetStatus(s.status, "")
	}
	span.End(trace.WithTimestamp(at(s.end)))
	return span.SpanContext()
}

func (r *spanRecorder) spans() []Span { return SpansFromStubs(r.exp.GetSpans()) }

func telemetryBindings(t *testing.T, req *Requirement, arn string, history map[string]string) *Bindings {
	t.Helper()
	b := seededBindings(t, req)
	for k, v := range history {
		if err := b.Bind(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Bind("EXECUTION_ARN", arn); err != nil {
		t.Fatal(err)
	}
	if err := b.Bind("SERVICE_NAME", serviceName); err != nil {
		t.Fatal(err)
	}
	return b
}

func str(k, v string) attribute.KeyValue { return attribute.String(k, v) }

func operation(arn, id, typ, subtype, status, name string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		str("durable.execution.arn", arn), str("durable.operation.id", id), str("durable.operation.type", typ),
		str("durable.operation.subtype", subtype), str("durable.operation.name", name),
	}
	if status != "" {
		attrs = append(attrs, str("durable.operation.status", status))
	}
	return attrs
}

func invocation(arn string, first bool, status string) []attribute.KeyValue {
	return []attribute.KeyValue{str("durable.execution.arn", arn), attribute.Bool("durable.invocation.first", first), str("durable.invocation.status", status)}
}

// waitResumeInvocationView records what a conforming SDK emits for
// otel-invocation-2 (a wait, then a step after the resume) in the invocation
// view. extra records more spans before the trace is read.
type waitResume struct {
	rec                          *spanRecorder
	workflow, inv1, inv2, stepSC trace.SpanContext
}

func recordWaitResumeInvocationView(t *testing.T, arn string, mutate func(name string, s *spanSpec)) *waitResume {
	rec := newSpanRecorder(t)
	add := func(s spanSpec) trace.SpanContext {
		if mutate != nil {
			mutate(s.name+"/"+attrValue(s.attrs, "durable.operation.status"), &s)
		}
		return rec.add(s)
	}
	w := &waitResume{rec: rec}
	w.workflow = add(spanSpec{name: "Workflow", start: 0, end: 100, status: codes.Ok,
		attrs: []attribute.KeyValue{str("durable.execution.arn", arn), str("durable.execution.status", "SUCCEEDED")}})
	w.inv1 = add(spanSpec{name: "Invocation", start: 1, end: 10, status: codes.Ok, attrs: invocation(arn, true, "PENDING")})
	add(spanSpec{name: "otel-wait", parent: w.inv1, start: 2, end: 3, links: []trace.SpanContext{w.workflow},
		attrs: operation(arn, "WAIT1-value", "WAIT", "Wait", "STARTED", "otel-wait")})
	w.inv2 = add(spanSpec{name: "Invocation", start: 20, end: 40, status: codes.Ok, attrs: invocation(arn, false, "SUCCEEDED")})
	add(spanSpec{name: "otel-wait", parent: w.inv2, start: 21, end: 22, status: codes.Ok, links: []trace.SpanContext{w.workflow},
		attrs: operation(arn, "WAIT1-value", "WAIT", "Wait", "SUCCEEDED", "otel-wait")})
	w.stepSC = add(spanSpec{name: "otel-after-resume", parent: w.inv2, start: 23, end: 30, status: codes.Ok, links: []trace.SpanContext{w.workflow},
		attrs: append(operation(arn, "STEP1-value", "STEP", "Step", "SUCCEEDED", "otel-after-resume"), attribute.Int("durable.attempt.number", 1))})
	add(spanSpec{name: "otel-after-resume attempt 1", parent: w.stepSC, start: 24, end: 29, status: codes.Ok, links: []trace.SpanContext{w.workflow},
		attrs: append(operation(arn, "STEP1-value", "STEP", "Step", "", "otel-after-resume"),
			attribute.Int("durable.attempt.number", 1), str("durable.attempt.outcome", "SUCCEEDED"))})
	return w
}

func attrValue(attrs []attribute.KeyValue, key string) string {
	for _, kv := range attrs {
		if string(kv.Key) == key {
			return kv.Value.String()
		}
	}
	return ""
}

func TestTelemetryInvocationView(t *testing.T) {
	req := requirement(t, "otel-invocation-2")
	history := map[string]string{"WAIT1": "WAIT1-value", "STEP1": "STEP1-value"}

	t.Run("conforming", func(t *testing.T) {
		w := recordWaitResumeInvocationView(t, testARN, nil)
		if fs := CheckTelemetry(req.TelemetryAssertions, w.rec.spans(), telemetryBindings(t, req, testARN, history)); len(fs) > 0 {
			t.Fatalf("failures:\n%v", joinFailures(fs))
		}
	})

	tests := []struct {
		name   string
		mutate func(name string, s *spanSpec)
		extra  func(w *waitResume)
		want   []string
	}{
		{
			name: "extra durable attribute",
			mutate: func(name string, s *spanSpec) {
				if name == "otel-wait/SUCCEEDED" {
					s.attrs = append(s.attrs, str("durable.foo", "bar"))
				}
			},
			want: []string{`telemetry: span_assertions[4].expect.attributes: span "otel-wait"`, `exact_attribute_prefixes "durable.": unexpected [durable.foo], missing []`},
		},
		{
			name: "attempt number on a STARTED span",
			mutate: func(name string, s *spanSpec) {
				if name == "otel-wait/STARTED" {
					s.attrs = append(s.attrs, attribute.Int("durable.attempt.number", 1))
				}
			},
			want: []string{"span_assertions[3].expect.attributes", "unexpected [durable.attempt.number]"},
		},
		{
			name: "missing durable attribute",
			mutate: func(name string, s *spanSpec) {
				if name == "otel-after-resume/SUCCEEDED" {
					s.attrs = slices.DeleteFunc(slices.Clone(s.attrs), func(kv attribute.KeyValue) bool { return kv.Key == "durable.attempt.number" })
				}
			},
			want: []string{
				`span_assertions[5].expect.attributes.durable.attempt.number: span "otel-after-resume"`, "key missing (expected 1)",
				"span_assertions[5].expect.attributes: ", "missing [durable.attempt.number]",
			},
		},
		{
			name: "second root in the workflow trace",
			extra: func(w *waitResume) {
				w.rec.add(spanSpec{name: "stray", inTrace: w.workflow.TraceID(), start: 50, end: 60})
			},
			want: []string{"telemetry: require_unique_root_per_trace: trace " + "00000000000000000000000000000001" + " has 2 root spans"},
		},
		{
			name: "unselected span in scope",
			extra: func(w *waitResume) {
				w.rec.add(spanSpec{name: "otel-extra", parent: w.inv2, start: 31, end: 32, attrs: []attribute.KeyValue{str("durable.execution.arn", testARN)}})
			},
			want: []string{`telemetry: require_all_spans: span "otel-extra"`, "no assertion selects it"},
		},
		{
			name: "span carrying another execution",
			extra: func(w *waitResume) {
				w.rec.add(spanSpec{name: "foreign", parent: w.workflow, start: 31, end: 32, attrs: []attribute.KeyValue{str("durable_execution_arn", "arn:other")}})
			},
			want: []string{`telemetry: require_execution_correlation: span "foreign"`, `carries durable_execution_arn = "arn:other"`},
		},
		{
			name: "missing link to the workflow",
			mutate: func(name string, s *spanSpec) {
				if name == "otel-wait/STARTED" {
					s.links = nil
				}
			},
			want: []string{"span_assertions[3].expect.links", "expected 1 links, got 0"},
		},
		{
			name: "attempt outside its parent",
			mutate: func(name string, s *spanSpec) {
				if name == "otel-after-resume attempt 1/" {
					s.end = 31
				}
			},
			want: []string{"span_assertions[6].expect.parent", "is not inside its parent"},
		},
		{
			name: "wrong order of invocations",
			mutate: func(name string, s *spanSpec) {
				if name == "Invocation/" && attrValue(s.attrs, "durable.invocation.status") == "PENDING" {
					s.end = 25
				}
			},
			want: []string{
				"span_assertions[1].expect.before", "must end at or before the start of",
				"span_assertions[2].expect.after", "must start at or after the end of",
			},
		},
		{
			name: "status of a STARTED span",
			mutate: func(name string, s *spanSpec) {
				if name == "otel-wait/STARTED" {
					s.status = codes.Ok
				}
			},
			want: []string{`span_assertions[3].expect.status: span "otel-wait"`, `expected "UNSET", got "OK"`},
		},
		{
			name: "missing span",
			mutate: func(name string, s *spanSpec) {
				if name == "otel-after-resume attempt 1/" {
					s.name = "renamed"
					s.attrs = nil
				}
			},
			want: []string{"span_assertions[6].select: {name=\"otel-after-resume attempt 1\", attributes={\"durable.attempt.number\":1}} matched no spans", "minimum_spans: expected at least 7 spans, got 6"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := recordWaitResumeInvocationView(t, testARN, tt.mutate)
			if tt.extra != nil {
				tt.extra(w)
			}
			fs := CheckTelemetry(req.TelemetryAssertions, w.rec.spans(), telemetryBindings(t, req, testARN, history))
			all := joinFailures(fs)
			for _, want := range tt.want {
				if !strings.Contains(all, want) {
					t.Errorf("failures do not contain %q:\n%s", want, all)
				}
			}
			if len(fs) == 0 {
				t.Error("no failures")
			}
		})
	}
}

func joinFailures(fs []Failure) string {
	lines := make([]string, len(fs))
	for i, f := range fs {
		lines[i] = f.String()
	}
	return strings.Join(lines, "\n")
}

// recordRetryExecutionView records otel-execution-3: a step failing in
// invocation 1 and succeeding in invocation 2, in the execution view.
func recordRetryExecutionView(t *testing.T, arn string, opLinksTo int) []Span {
	rec := newSpanRecorder(t)
	workflow := rec.add(spanSpec{name: "Workflow", start: 0, end: 100, status: codes.Ok,
		attrs: []attribute.KeyValue{str("durable.execution.arn", arn), str("durable.execution.status", "SUCCEEDED")}})
	inv1 := rec.add(spanSpec{name: "Invocation", start: 1, end: 10, status: codes.Ok, attrs: invocation(arn, true, "PENDING")})
	inv2 := rec.add(spanSpec{name: "Invocation", start: 20, end: 40, status: codes.Ok, attrs: invocation(arn, false, "SUCCEEDED")})
	invs := []trace.SpanContext{inv1, inv2}
	op := rec.add(spanSpec{name: "otel-retry", parent: workflow, start: 2, end: 35, status: codes.Ok, links: invs[opLinksTo-1 : opLinksTo],
		attrs: operation(arn, "RETRY-value", "STEP", "Step", "SUCCEEDED", "otel-retry")})
	rec.add(spanSpec{name: "otel-retry attempt 1", parent: op, start: 3, end: 5, status: codes.Error, links: invs[:1],
		attrs: append(operation(arn, "RETRY-value", "STEP", "Step", "", "otel-retry"), attribute.Int("durable.attempt.number", 1), str("durable.attempt.outcome", "FAILED"))})
	rec.add(spanSpec{name: "otel-retry attempt 2", parent: op, start: 21, end: 30, status: codes.Ok, links: invs[1:],
		attrs: append(operation(arn, "RETRY-value", "STEP", "Step", "", "otel-retry"), attribute.Int("durable.attempt.number", 2), str("durable.attempt.outcome", "SUCCEEDED"))})
	return rec.spans()
}

func TestTelemetryExecutionViewOccurrence(t *testing.T) {
	req := requirement(t, "otel-execution-3")
	history := map[string]string{"RETRY_STEP": "RETRY-value"}
	if fs := CheckTelemetry(req.TelemetryAssertions, recordRetryExecutionView(t, testARN, 2), telemetryBindings(t, req, testARN, history)); len(fs) > 0 {
		t.Fatalf("conforming: %s", joinFailures(fs))
	}
	// Linking the operation to the invocation it started in, not the one it
	// completed in, breaks $occurrence: 2.
	fs := CheckTelemetry(req.TelemetryAssertions, recordRetryExecutionView(t, testARN, 1), telemetryBindings(t, req, testARN, history))
	if len(fs) != 1 || !strings.Contains(fs[0].String(), `telemetry: span_assertions[3].expect.links: span "otel-retry"`) ||
		!strings.Contains(fs[0].String(), `links to occurrence 1 of {name="Invocation", attributes={"durable.execution.arn":"`+testARN+`"}}, expected occurrence 2`) {
		t.Errorf("failures:\n%s", joinFailures(fs))
	}
}

func TestTelemetryRequiresBindingsAndSpans(t *testing.T) {
	req := requirement(t, "otel-execution-3")
	b := seededBindings(t, req)
	if fs := CheckTelemetry(req.TelemetryAssertions, nil, b); len(fs) != 1 || !strings.Contains(fs[0].String(), "EXECUTION_ARN is not bound") {
		t.Errorf("unbound ARN: %v", fs)
	}
	_ = b.Bind("EXECUTION_ARN", "arn:nothing")
	if fs := CheckTelemetry(req.TelemetryAssertions, recordRetryExecutionView(t, testARN, 2), b); len(fs) != 1 || !strings.Contains(fs[0].String(), "no span carries durable.execution.arn = arn:nothing") {
		t.Errorf("no trace: %v", fs)
	}
	if fs := CheckTelemetry(nil, nil, b); fs != nil {
		t.Errorf("nil assertions: %v", fs)
	}
}

func TestCorrelatedSpans(t *testing.T) {
	rec := newSpanRecorder(t)
	wf := rec.add(spanSpec{name: "Workflow", start: 0, end: 10, attrs: []attribute.KeyValue{str("durable.execution.arn", "A")}})
	rec.add(spanSpec{name: "ambient child", parent: wf, start: 1, end: 2})                                                    // primary trace, no ARN: kept
	rec.add(spanSpec{name: "invocation A", start: 1, end: 2, attrs: []attribute.KeyValue{str("durable.execution.arn", "A")}}) // other trace, ARN: kept
	rec.add(spanSpec{name: "target", start: 1, end: 2, attrs: []attribute.KeyValue{str("durable.execution.arn", "T")}})       // allowed ARN: kept
	rec.add(spanSpec{name: "unrelated", start: 1, end: 2, attrs: []attribute.KeyValue{str("durable.execution.arn", "X")}})    // dropped
	rec.add(spanSpec{name: "ambient", start: 1, end: 2})                                                                      // dropped
	got, ok := CorrelatedSpans(rec.spans(), "A", []string{"T"})
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	if !ok || !slices.Equal(names, []string{"Workflow", "ambient child", "invocation A", "target"}) {
		t.Errorf("CorrelatedSpans = %v, %v", names, ok)
	}
	// Without a Workflow span the first trace with the ARN is primary.
	rec = newSpanRecorder(t)
	inv := rec.add(spanSpec{name: "Invocation", start: 0, end: 10, attrs: []attribute.KeyValue{str("durable.execution.arn", "A")}})
	rec.add(spanSpec{name: "child", parent: inv, start: 1, end: 2})
	if got, ok := CorrelatedSpans(rec.spans(), "A", nil); !ok || len(got) != 2 {
		t.Errorf("fallback primary trace: %v, %v", got, ok)
	}
}

// TestTelemetryAssertionRules exercises the primitives on small inline
// assertions over one recorded trace.
func TestTelemetryAssertionRules(t *testing.T) {
	rec := newSpanRecorder(t)
	wf := rec.add(spanSpec{name: "Workflow", start: 0, end: 100, status: codes.Ok, attrs: []attribute.KeyValue{str("durable.execution.arn", testARN)}})
	inv := rec.add(spanSpec{name: "Invocation", start: 10, end: 20, kind: trace.SpanKindServer, attrs: []attribute.KeyValue{str("durable.execution.arn", testARN), attribute.Bool("durable.invocation.first", true)}})
	rec.add(spanSpec{name: "op", parent: wf, start: 12, end: 18, status: codes.Error, links: []trace.SpanContext{inv, wf},
		attrs: []attribute.KeyValue{str("durable.execution.arn", testARN), attribute.Int("durable.attempt.number", 2), attribute.Float64("ratio", 0.5)}})
	rec.add(spanSpec{name: "op", parent: wf, start: 30, end: 40, attrs: []attribute.KeyValue{str("durable.execution.arn", testARN)}})
	spans := rec.spans()
	b, _ := NewBindings(nil, nil)
	_ = b.Bind("EXECUTION_ARN", testARN)

	tests := []struct {
		name string
		yaml string
		want string // "" for no failure
	}{
		{"any_of kind", "span_assertions:\n  - select: {name: Invocation}\n    expect: {kind: {$any_of: [INTERNAL, SERVER]}}\n", ""},
		{"any_of kind fails", "span_assertions:\n  - select: {name: Invocation}\n    expect: {kind: {$any_of: [INTERNAL, CLIENT]}}\n", `expected any of ["INTERNAL","CLIENT"], got "SERVER"`},
		{"regex on an int attribute", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect: {attributes: {durable.attempt.number: '${/^2$/}', ratio: 0.5}}\n", ""},
		{"count selects both", "span_assertions:\n  - select: {name: op}\n    count: 2\n", ""},
		{"count any_of", "span_assertions:\n  - select: {name: op}\n    count: {$any_of: [1, 3]}\n", "selected 2 spans, expected [1,3]"},
		{"exactly one by default", "span_assertions:\n  - select: {name: op}\n", "must select exactly one span, selected 2"},
		{"assertions consume their spans", "span_assertions:\n  - select: {name: op, status: ERROR}\n  - select: {name: op}\n  - select: {name: op}\n", "span_assertions[2].select: {name=\"op\"} matched no spans"},
		{"root", "span_assertions:\n  - select: {name: Workflow}\n    expect: {parent_span_id: null}\n", ""},
		{"not a root", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect: {parent_span_id: null}\n", "expected null, got \""},
		{"links in order", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect:\n      links: [{name: Invocation}, {name: Workflow}]\n", ""},
		{"links out of order", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect:\n      links: [{name: Workflow}, {name: Invocation}]\n", `[0]: linked span "Invocation"`},
		{"links any_of", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect:\n      links: {$any_of: [[], [{name: Invocation}, {name: Workflow}]]}\n", ""},
		{"links any_of fails", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect:\n      links: {$any_of: [[], [{name: Workflow}]]}\n", "no alternative matches: expected 0 links, got 2; expected 1 links, got 2"},
		{"link count for duplicate exports", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect:\n      links: [{name: Invocation, count: 2}, {name: Workflow}]\n", "1 exported spans with the linked ID match, expected 2"},
		{"linked relation", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect:\n      inside: {$linked: true, name: Invocation}\n", ""},
		{"linked relation excludes unlinked", "span_assertions:\n  - select: {name: op, status: UNSET}\n    expect:\n      inside: {$linked: true, name: Invocation}\n", "must match exactly one other span, matched 0"},
		{"after", "span_assertions:\n  - select: {name: op, status: UNSET}\n    expect:\n      after: {name: Invocation}\n", ""},
		{"relation searches consumed spans", "span_assertions:\n  - select: {name: Invocation}\n  - select: {name: op, status: UNSET}\n    expect:\n      after: {name: Invocation}\n", ""},
		{"relation needs exactly one", "span_assertions:\n  - select: {name: Workflow}\n    expect:\n      before: {name: op}\n", "must match exactly one other span, matched 2"},
		{"parent allow outside", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect:\n      parent: {name: Workflow, $allow_outside: true}\n", ""},
		{"parent mismatch", "span_assertions:\n  - select: {name: op, status: ERROR}\n    expect:\n      parent: {name: Invocation}\n", `parent "Workflow"`},
		{"no parent", "span_assertions:\n  - select: {name: Workflow}\n    expect:\n      parent: {name: Invocation}\n", "has no parent"},
		{"minimum invocations", "minimum_invocations: 2\n", "minimum_invocations: expected at least 2 Invocation spans, got 1"},
		{"minimum spans", "minimum_spans: 5\n", "minimum_spans: expected at least 5 spans, got 4"},
		{"scope limits require_all_spans", "require_all_spans: true\nspan_assertion_scope: {name: Invocation}\nspan_assertions:\n  - select: {name: Invocation}\n", ""},
		{"require_all_spans default scope", "require_all_spans: true\nspan_assertions:\n  - select: {name: Invocation}\n", "require_all_spans: span \"Workflow\""},
		{"placeholder substituted", "span_assertions:\n  - select: {name: Workflow}\n    expect: {attributes: {durable.execution.arn: '${EXECUTION_ARN}'}, service_name: durable-execution-conformance}\n", ""},
		{"property missing", "span_assertions:\n  - select: {name: Workflow}\n    expect: {attributes: {durable.execution.status: SUCCEEDED}}\n", "durable.execution.status: span \"Workflow\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRequirement("t", "s", "s/t.yaml", []byte("TelemetryAssertions:\n"+indent(tt.yaml)))
			if err != nil {
				t.Fatal(err)
			}
			fs := CheckTelemetry(r.TelemetryAssertions, spans, b)
			all := joinFailures(fs)
			switch {
			case tt.want == "" && len(fs) > 0:
				t.Errorf("failures:\n%s", all)
			case tt.want != "" && !strings.Contains(all, tt.want):
				t.Errorf("failures do not contain %q:\n%s", tt.want, all)
			}
		})
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestUniqueRootIgnoresDuplicateExports(t *testing.T) {
	rec := newSpanRecorder(t)
	rec.add(spanSpec{name: "Workflow", start: 0, end: 1, attrs: []attribute.KeyValue{str("durable.execution.arn", testARN)}})
	spans := rec.spans()
	spans = append(spans, spans[0]) // the same root exported twice
	b, _ := NewBindings(nil, nil)
	_ = b.Bind("EXECUTION_ARN", testARN)
	r, err := ParseRequirement("t", "s", "s/t.yaml", []byte("TelemetryAssertions:\n  require_unique_root_per_trace: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fs := CheckTelemetry(r.TelemetryAssertions, spans, b); len(fs) > 0 {
		t.Error(joinFailures(fs))
	}
}

func TestSpansFromStubs(t *testing.T) {
	rec := newSpanRecorder(t)
	root := rec.add(spanSpec{name: "Workflow", start: 0, end: 5, status: codes.Error, attrs: []attribute.KeyValue{
		str("service.name", "overridden"), attribute.StringSlice("tags", []string{"a", "b"}), attribute.Bool("flag", true),
	}})
	rec.add(spanSpec{name: "child", parent: root, start: 1, end: 2, kind: trace.SpanKindClient, links: []trace.SpanContext{root}})
	spans := rec.spans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	w, c := spans[0].Canonical(), spans[1].Canonical()
	if w["parent_span_id"] != nil || w["status"] != "ERROR" || w["kind"] != "INTERNAL" || w["service_name"] != serviceName {
		t.Errorf("workflow = %v", w)
	}
	attrs := w["attributes"].(map[string]any)
	if attrs["service.name"] != "overridden" || !Equal(attrs["tags"], []any{"a", "b"}) || attrs["flag"] != true {
		t.Errorf("attributes: span attributes must win over the resource's: %v", attrs)
	}
	if c["parent_span_id"] != root.SpanID().String() || c["kind"] != "CLIENT" || c["start_time"] != "2025-01-01T00:00:00.001Z" {
		t.Errorf("child = %v", c)
	}
	if !Equal(c["links"], []any{map[string]any{"trace_id": root.TraceID().String(), "span_id": root.SpanID().String()}}) {
		t.Errorf("links = %v", c["links"])
	}
	if data, err := json.Marshal(spans[1]); err != nil || !strings.Contains(string(data), `"name":"child"`) {
		t.Errorf("MarshalJSON = %s, %v", data, err)
	}
}
