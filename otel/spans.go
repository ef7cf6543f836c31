package otel

import (
	"cmp"
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	otelapi "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/durablectx/durable/ctxstate"
)

// The attribute keys of the span contract.
const (
	keyExecutionARN     = "durable.execution.arn"
	keyExecutionStatus  = "durable.execution.status"
	keyInvocationFirst  = "durable.invocation.first"
	keyInvocationStatus = "durable.invocation.status"
	keyOperationID      = "durable.operation.id"
	keyOperationType    = "durable.operation.type"
	keyOperationSubtype = "durable.operation.subtype"
	keyOperationStatus  = "durable.operation.status"
	keyOperationName    = "durable.operation.name"
	keyAttemptNumber    = "durable.attempt.number"
	keyAttemptOutcome   = "durable.attempt.outcome"
)

// run is the tracing state of one invocation. Spans are created when they
// end, with their recorded start: a span's ids are derived, not drawn, so a
// child can name its parent before the parent exists, and nothing is held
// open across a suspension.
type run struct {
	view     View
	provider trace.TracerProvider
	tracer   trace.Tracer
	arn      string
	key      string // tells this invocation apart from the execution's others

	workflow   trace.SpanContext // the Workflow span, in the execution's trace
	invocation trace.SpanContext // this invocation's span
	parent     context.Context   // what the Invocation span is started from

	mu       sync.Mutex
	ops      map[string]*opRecord
	attempts map[attemptKey]time.Time
}

// opRecord is an operation this invocation reached.
type opRecord struct {
	info  ctxstate.OperationInfo // as OperationStart described it
	start time.Time              // when this invocation reached it
	live  bool                   // it started in this invocation
	// emitted: this invocation emitted its span (invocation view); needed:
	// a span of this invocation names it as parent.
	emitted, needed bool
}

type attemptKey struct {
	op string
	n  int
}

// spanSpec is a span to emit, decided under the run's lock and started and
// ended outside it.
type spanSpec struct {
	name       string
	ids        trace.SpanContext // the ids the span gets
	parent     trace.SpanContext // invalid for a root
	parentCtx  context.Context   // overrides parent
	root       bool
	links      []trace.SpanContext
	attrs      []attribute.KeyValue
	start, end time.Time
	code       codes.Code
	err        error
}

func (t *tracer) invocationStart(info ctxstate.InvocationInfo) {
	tp := t.provider()
	r := &run{
		view: t.cfg.view, provider: tp, arn: info.ExecutionARN,
		tracer:   tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version)),
		key:      invocationKey(info.RequestID, info.Start),
		ops:      make(map[string]*opRecord),
		attempts: make(map[attemptKey]time.Time),
	}
	r.workflow = trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: executionTraceID(info.ExecutionARN, info.ExecutionStart), SpanID: spanIDOf("workflow", info.ExecutionARN),
		TraceFlags: trace.FlagsSampled, Remote: true,
	})
	var parent trace.SpanContext
	r.parent, parent = ambient(info)
	if r.parent == nil {
		// No Lambda or tracing-middleware span to hang off: the Invocation
		// joins the execution's trace, under its Workflow span.
		parent = r.workflow
		r.parent = trace.ContextWithRemoteSpanContext(context.Background(), r.workflow)
	}
	r.invocation = trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: parent.TraceID(), SpanID: spanIDOf("invocation", info.ExecutionARN, r.key),
		TraceFlags: parent.TraceFlags() & trace.FlagsSampled, Remote: true,
	})
	t.mu.Lock()
	t.runs[info.ExecutionARN] = r
	t.mu.Unlock()
}

// ambient returns the span the Invocation span is a child of: the span in
// the invocation's context (tracing middleware around the durable one), else
// the one the X-Ray trace header names (Lambda's), else none.
func ambient(info ctxstate.InvocationInfo) (context.Context, trace.SpanContext) {
	if info.Context != nil {
		if sc := trace.SpanContextFromContext(info.Context); sc.IsValid() {
			return info.Context, sc
		}
	}
	h := info.TraceHeader
	if h == "" {
		h = os.Getenv("_X_AMZN_TRACE_ID")
	}
	if sc, ok := parseXRay(h); ok {
		return trace.ContextWithRemoteSpanContext(context.Background(), sc), sc
	}
	return nil, trace.SpanContext{}
}

func (t *tracer) invocationEnd(info ctxstate.InvocationInfo) {
	t.mu.Lock()
	r := t.runs[info.ExecutionARN]
	delete(t.runs, info.ExecutionARN)
	t.mu.Unlock()
	if r == nil {
		return
	}
	var specs []spanSpec
	if r.view == InvocationView {
		r.mu.Lock()
		// Operations this invocation started and did not end, and those
		// holding spans of this invocation, get a STARTED span.
		for _, rec := range r.ops {
			if rec.live && !rec.emitted {
				r.need(rec.info.ParentID)
			}
		}
		for _, rec := range r.ops {
			if !rec.emitted && (rec.live || rec.needed) {
				rec.emitted = true
				specs = append(specs, r.startedSpan(rec, info.End))
			}
		}
		r.mu.Unlock()
		slices.SortFunc(specs, func(a, b spanSpec) int { return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.name, b.name)) })
	}
	specs = append(specs, r.invocationSpan(info))
	if info.Status == "SUCCEEDED" || info.Status == "FAILED" {
		specs = append(specs, r.workflowSpan(info))
	}
	for i := range specs {
		t.emit(r, &specs[i])
	}
	t.flush(r, info)
}

func (t *tracer) operationStart(info ctxstate.OperationInfo) {
	r := t.run(info.ExecutionARN)
	if r == nil {
		return
	}
	now := time.Now()
	r.mu.Lock()
	r.ops[opKey(info)] = &opRecord{info: info, start: now, live: !info.Replaying}
	r.mu.Unlock()
}

func (t *tracer) operationEnd(info ctxstate.OperationInfo) {
	r := t.run(info.ExecutionARN)
	if r == nil {
		return
	}
	now := time.Now()
	var spec spanSpec
	emit := false
	r.mu.Lock()
	rec := r.ops[opKey(info)]
	if rec == nil {
		rec = &opRecord{info: info, start: now, live: !info.Replaying}
		r.ops[opKey(info)] = rec
	}
	switch {
	case r.view == InvocationView && !rec.emitted:
		rec.emitted = true
		r.need(info.ParentID)
		spec, emit = r.invocationOpSpan(rec, info, now), true
	case r.view == ExecutionView && ctxstate.IsTerminal(info.Status):
		spec, emit = r.executionOpSpan(rec, info, now), true
	}
	r.mu.Unlock()
	if emit {
		t.emit(r, &spec)
	}
}

func (t *tracer) attemptStart(info ctxstate.OperationInfo) {
	r := t.run(info.ExecutionARN)
	if r == nil {
		return
	}
	now := time.Now()
	r.mu.Lock()
	r.attempts[attemptKey{opKey(info), info.Attempt}] = now
	r.mu.Unlock()
}

func (t *tracer) attemptEnd(info ctxstate.OperationInfo) {
	r := t.run(info.ExecutionARN)
	if r == nil {
		return
	}
	now := time.Now()
	k := attemptKey{opKey(info), info.Attempt}
	r.mu.Lock()
	start, ok := r.attempts[k]
	delete(r.attempts, k)
	if !ok {
		start = now
	}
	spec := spanSpec{
		name: opName(info) + " attempt " + strconv.Itoa(info.Attempt),
		ids:  r.attemptIDs(info), start: start, end: now,
		attrs: append(opAttrs(r.arn, info),
			attribute.Int(keyAttemptNumber, info.Attempt),
			attribute.String(keyAttemptOutcome, outcome(info.Err))),
		code: codes.Ok, err: info.Err,
	}
	if info.Err != nil {
		spec.code = codes.Error
	}
	if r.view == InvocationView {
		spec.parent = r.invocationOp(info.ID)
		spec.links = []trace.SpanContext{r.workflow}
		// The operation needs a span in this invocation to hold the attempt.
		if rec := r.ops[k.op]; rec != nil && !rec.needed {
			rec.needed = true
			r.need(rec.info.ParentID)
		}
	} else {
		spec.parent = r.executionOp(info.ID)
		spec.links = []trace.SpanContext{r.invocation}
	}
	r.mu.Unlock()
	t.emit(r, &spec)
}

// attemptContext makes the attempt's span the parent of the spans the
// attempt's function starts.
func (t *tracer) attemptContext(ctx context.Context, info ctxstate.OperationInfo) context.Context {
	r := t.run(info.ExecutionARN)
	if r == nil {
		return ctx
	}
	ids := r.attemptIDs(info)
	return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: ids.TraceID(), SpanID: ids.SpanID(), TraceFlags: ids.TraceFlags(),
	}))
}

// need marks the operation id and its enclosing operations as holding a span
// of this invocation. The caller holds r.mu.
func (r *run) need(id string) {
	for id != "" {
		rec := r.ops[id]
		if rec == nil || rec.needed {
			return
		}
		rec.needed = true
		id = rec.info.ParentID
	}
}

// invocationOp returns the ids of an operation's span in this invocation,
// in the invocation view.
func (r *run) invocationOp(id string) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: r.invocation.TraceID(), SpanID: spanIDOf("operation", r.arn, r.key, id),
		TraceFlags: r.invocation.TraceFlags(), Remote: true,
	})
}

// executionOp returns the ids of an operation's span in the execution view:
// the same in every invocation.
func (r *run) executionOp(id string) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: r.workflow.TraceID(), SpanID: spanIDOf("operation", r.arn, id),
		TraceFlags: r.workflow.TraceFlags(), Remote: true,
	})
}

func (r *run) attemptIDs(info ctxstate.OperationInfo) trace.SpanContext {
	tid, flags := r.invocation.TraceID(), r.invocation.TraceFlags()
	if r.view == ExecutionView {
		tid, flags = r.workflow.TraceID(), r.workflow.TraceFlags()
	}
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: spanIDOf("attempt", r.arn, r.key, info.ID, strconv.Itoa(info.Attempt)), TraceFlags: flags,
	})
}

// invocationOpSpan is an operation's span in this invocation: terminal, or
// STARTED when its work here ended without an outcome (a retry pending).
func (r *run) invocationOpSpan(rec *opRecord, info ctxstate.OperationInfo, end time.Time) spanSpec {
	terminal := ctxstate.IsTerminal(info.Status)
	s := spanSpec{
		name: opName(info), ids: r.invocationOp(info.ID), parent: r.invocationParent(info.ParentID),
		links: []trace.SpanContext{r.workflow}, start: rec.start, end: end,
		attrs: append(opAttrs(r.arn, info), attribute.String(keyOperationStatus, statusToken(info.Status))),
	}
	if terminal {
		s.code, s.err = opCode(info)
		if info.Type == types.OperationTypeStep && info.Attempt > 0 {
			s.attrs = append(s.attrs, attribute.Int(keyAttemptNumber, info.Attempt))
		}
	}
	return s
}

// startedSpan is the STARTED span of an operation this invocation left
// unfinished, ending with the invocation.
func (r *run) startedSpan(rec *opRecord, end time.Time) spanSpec {
	return spanSpec{
		name: opName(rec.info), ids: r.invocationOp(rec.info.ID), parent: r.invocationParent(rec.info.ParentID),
		links: []trace.SpanContext{r.workflow}, start: rec.start, end: later(rec.start, end),
		attrs: append(opAttrs(r.arn, rec.info), attribute.String(keyOperationStatus, "STARTED")),
	}
}

func (r *run) invocationParent(parentID string) trace.SpanContext {
	if parentID != "" && r.ops[parentID] != nil {
		return r.invocationOp(parentID)
	}
	return r.invocation
}

// executionOpSpan is an operation's one span in the execution view, from
// its start, whichever invocation that was in, to its completion.
func (r *run) executionOpSpan(rec *opRecord, info ctxstate.OperationInfo, now time.Time) spanSpec {
	start := info.Start
	if rec.live || start.IsZero() {
		start = rec.start
	}
	end := now
	if info.Replaying && !info.End.IsZero() {
		// Completed by the service while the execution was suspended: its
		// recorded end, unless the service's clock runs ahead of ours.
		end = earlier(info.End, now)
	}
	parent := r.workflow
	if info.ParentID != "" {
		parent = r.executionOp(info.ParentID)
	}
	s := spanSpec{
		name: opName(info), ids: r.executionOp(info.ID), parent: parent,
		links: []trace.SpanContext{r.invocation}, start: earlier(start, end), end: end,
		attrs: append(opAttrs(r.arn, info), attribute.String(keyOperationStatus, statusToken(info.Status))),
	}
	s.code, s.err = opCode(info)
	if info.Type == types.OperationTypeStep && info.Attempt > 0 {
		s.attrs = append(s.attrs, attribute.Int(keyAttemptNumber, info.Attempt))
	}
	return s
}

func (r *run) invocationSpan(info ctxstate.InvocationInfo) spanSpec {
	status := info.Status
	if status == "" {
		status = "RETRY"
	}
	s := spanSpec{
		name: "Invocation", ids: r.invocation, parentCtx: r.parent, start: info.Start, end: later(info.Start, info.End),
		attrs: []attribute.KeyValue{
			attribute.String(keyExecutionARN, r.arn),
			attribute.Bool(keyInvocationFirst, info.First),
			attribute.String(keyInvocationStatus, status),
		},
	}
	switch status {
	case "SUCCEEDED", "PENDING":
		s.code = codes.Ok
	case "FAILED":
		s.code, s.err = codes.Error, errOr(info.Err, "the execution failed")
	default:
		s.err = info.Err // RETRY: Lambda invokes again; the outcome is open.
	}
	return s
}

func (r *run) workflowSpan(info ctxstate.InvocationInfo) spanSpec {
	start := info.ExecutionStart
	if start.IsZero() {
		start = info.Start
	}
	s := spanSpec{
		name: "Workflow", ids: r.workflow, root: true, start: earlier(start, info.End), end: info.End,
		attrs: []attribute.KeyValue{
			attribute.String(keyExecutionARN, r.arn),
			attribute.String(keyExecutionStatus, info.Status),
		},
		code: codes.Ok,
	}
	if info.Status == "FAILED" {
		s.code, s.err = codes.Error, errOr(info.Err, "the execution failed")
	}
	return s
}

// emit starts and ends the span spec describes.
func (t *tracer) emit(r *run, s *spanSpec) {
	ctx := s.parentCtx
	if ctx == nil {
		ctx = context.Background()
		if s.parent.IsValid() {
			ctx = trace.ContextWithRemoteSpanContext(ctx, s.parent)
		}
	}
	ctx = withIDs(ctx, s.ids)
	opts := make([]trace.SpanStartOption, 0, 5)
	opts = append(opts, trace.WithTimestamp(s.start), trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(s.attrs...))
	if s.root {
		opts = append(opts, trace.WithNewRoot())
	}
	if len(s.links) > 0 {
		links := make([]trace.Link, len(s.links))
		for i, l := range s.links {
			links[i] = trace.Link{SpanContext: l}
		}
		opts = append(opts, trace.WithLinks(links...))
	}
	_, span := r.tracer.Start(ctx, s.name, opts...)
	if span.IsRecording() && span.SpanContext().SpanID() != s.ids.SpanID() {
		t.warnOnce.Do(func() { otelapi.Handle(errNoIDGenerator) })
	}
	if s.err != nil {
		span.RecordError(s.err, trace.WithTimestamp(s.end))
	}
	switch s.code {
	case codes.Ok:
		span.SetStatus(codes.Ok, "")
	case codes.Error:
		msg := "failed"
		if s.err != nil {
			msg = s.err.Error()
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End(trace.WithTimestamp(s.end))
}

var errNoIDGenerator = errors.New("durable: the tracer provider of the durable otel hooks does not use otel.IDGenerator, " +
	"so durable spans do not get their derived ids and their parents and links across invocations dangle; " +
	"create the provider with sdktrace.WithIDGenerator(otel.IDGenerator{})")

// flush exports the invocation's spans before Lambda gets the answer and
// may freeze the process.
func (t *tracer) flush(r *run, info ctxstate.InvocationInfo) {
	f, ok := r.provider.(interface{ ForceFlush(context.Context) error })
	if !ok {
		return
	}
	base := info.Context
	if base == nil {
		base = context.Background()
	}
	timeout := 5 * time.Second
	if d, ok := base.Deadline(); ok {
		timeout = time.Until(d)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(base), timeout)
	defer cancel()
	if err := f.ForceFlush(ctx); err != nil {
		otelapi.Handle(err)
	}
}

// opKey identifies an operation within the invocation; an operation without
// an id (a virtual context) by its parent and name.
func opKey(info ctxstate.OperationInfo) string {
	if info.ID != "" {
		return info.ID
	}
	return "virtual:" + info.ParentID + "/" + info.Name
}

// opName names an operation's span: its name, else its type (STEP, WAIT...).
func opName(info ctxstate.OperationInfo) string {
	if info.Name != "" {
		return info.Name
	}
	return string(info.Type)
}

// opAttrs are the attributes every operation and attempt span carries.
func opAttrs(arn string, info ctxstate.OperationInfo) []attribute.KeyValue {
	a := make([]attribute.KeyValue, 0, 8)
	a = append(a, attribute.String(keyExecutionARN, arn))
	if info.ID != "" {
		a = append(a, attribute.String(keyOperationID, info.ID))
	}
	a = append(a, attribute.String(keyOperationType, string(info.Type)))
	if info.SubType != "" {
		a = append(a, attribute.String(keyOperationSubtype, info.SubType))
	}
	if info.Name != "" {
		a = append(a, attribute.String(keyOperationName, info.Name))
	}
	return a
}

// statusToken is the contract's durable.operation.status: SUCCEEDED,
// FAILED (any other final status) or STARTED (not final).
func statusToken(s types.OperationStatus) string {
	switch {
	case s == types.OperationStatusSucceeded:
		return "SUCCEEDED"
	case ctxstate.IsTerminal(s):
		return "FAILED"
	}
	return "STARTED"
}

func opCode(info ctxstate.OperationInfo) (codes.Code, error) {
	if info.Status == types.OperationStatusSucceeded {
		return codes.Ok, nil
	}
	return codes.Error, errOr(info.Err, "the operation ended "+string(info.Status))
}

func outcome(err error) string {
	if err != nil {
		return "FAILED"
	}
	return "SUCCEEDED"
}

func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
