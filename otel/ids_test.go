package otel

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

func TestParseXRay(t *testing.T) {
	tests := []struct {
		header, trace, parent string
		sampled, ok           bool
	}{
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", true, true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:1", "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", false, true},
		{"Parent=53995c3f42cd8ad8; Root=1-5759e988-bd862e3fe1be46a994272793", "5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", true, true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793", "", "", false, false}, // no parent to hang off
		{"Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8", "", "", false, false},
		{"Root=1-5759e988-bd862e3fe1be46a99427279;Parent=53995c3f42cd8ad8", "", "", false, false},
		{"Root=1-zz59e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8", "", "", false, false},
		{"", "", "", false, false},
	}
	for _, tt := range tests {
		sc, ok := parseXRay(tt.header)
		if ok != tt.ok {
			t.Errorf("%q: ok %v", tt.header, ok)
			continue
		}
		if !ok {
			continue
		}
		if sc.TraceID().String() != tt.trace || sc.SpanID().String() != tt.parent || sc.IsSampled() != tt.sampled || !sc.IsRemote() {
			t.Errorf("%q: got %s %s sampled=%v", tt.header, sc.TraceID(), sc.SpanID(), sc.IsSampled())
		}
	}
}

func FuzzParseXRay(f *testing.F) {
	f.Add("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	f.Add("Root=1-;Parent=;")
	f.Fuzz(func(t *testing.T, h string) {
		if sc, ok := parseXRay(h); ok && !sc.IsValid() {
			t.Fatalf("%q gave an invalid span context", h)
		}
	})
}

// The derived ids are part of the trace data users keep: they must not
// change between releases, or a running execution's spans would split.
func TestDerivedIDsAreStable(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/e/1"
	if got := spanIDOf("workflow", arn).String(); got != "fc8360942ec363fc" {
		t.Errorf("workflow span id %s", got)
	}
	if got := spanIDOf("operation", arn, "c4ca4238a0b92382").String(); got != "5f3684a47f11be5e" {
		t.Errorf("operation span id %s", got)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := executionTraceID(arn, start).String(); got != "6955b900a65474680d60f80ddd26c68b" {
		t.Errorf("trace id %s", got)
	}
	if executionTraceID(arn, time.Time{}) == executionTraceID(arn, start) || !executionTraceID(arn, time.Time{}).IsValid() {
		t.Error("trace id without a start")
	}
}

func TestIDGeneratorFallsBack(t *testing.T) {
	var g IDGenerator
	tid, sid := g.NewIDs(context.Background())
	if !tid.IsValid() || !sid.IsValid() {
		t.Fatal("invalid random ids")
	}
	if d := time.Since(time.Unix(int64(uint32(tid[0])<<24|uint32(tid[1])<<16|uint32(tid[2])<<8|uint32(tid[3])), 0)); d < 0 || d > time.Minute {
		t.Errorf("trace id %s does not begin with the time", tid)
	}
	want := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: spanIDOf("x")})
	ctx := withIDs(context.Background(), want)
	if tid2, sid2 := g.NewIDs(ctx); tid2 != tid || sid2 != want.SpanID() {
		t.Error("NewIDs ignored the requested ids")
	}
	if g.NewSpanID(ctx, tid) != want.SpanID() || g.NewSpanID(context.Background(), tid) == want.SpanID() {
		t.Error("NewSpanID")
	}
}
