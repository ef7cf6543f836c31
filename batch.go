package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/ctxstate"
)

// This file holds what [Map] and [Parallel] share: their options, their
// result, and the scheduler that runs the items of a batch as branches.

// MapOption configures [Map].
type MapOption interface{ applyMap(*batchConfig) }

// ParallelOption configures [Parallel].
type ParallelOption interface{ applyParallel(*batchConfig) }

// BatchOption configures both [Map] and [Parallel].
type BatchOption interface {
	MapOption
	ParallelOption
}

type batchOption func(*batchConfig)

func (o batchOption) applyMap(c *batchConfig)      { o(c) }
func (o batchOption) applyParallel(c *batchConfig) { o(c) }

// SerdesOption also sets how Map and Parallel record their whole result.
func (o SerdesOption) applyMap(c *batchConfig)      { c.serdes = o.s }
func (o SerdesOption) applyParallel(c *batchConfig) { c.serdes = o.s }

type batchConfig struct {
	maxConcurrency    int
	maxConcurrencySet bool
	minSuccessful     int
	minSuccessfulSet  bool
	toleratedCount    int
	toleratedCountSet bool
	toleratedPct      float64
	toleratedPctSet   bool
	nesting           Nesting
	itemSerdes        Serdes
	serdes            Serdes // the whole result; nil records a batch record
	itemName          any    // func(In, int) string, for Map
}

// WithMaxConcurrency bounds how many items run at once; n must be at least 1.
// Without it every item starts at once. With 1, items run one after the
// other in index order, which makes the history deterministic.
func WithMaxConcurrency(n int) BatchOption {
	return batchOption(func(c *batchConfig) { c.maxConcurrency, c.maxConcurrencySet = n, true })
}

// WithMinSuccessful completes the batch as soon as n items have succeeded
// (reason [MinSuccessfulReached]); items not started by then never start.
func WithMinSuccessful(n int) BatchOption {
	return batchOption(func(c *batchConfig) { c.minSuccessful, c.minSuccessfulSet = n, true })
}

// WithToleratedFailures completes the batch as soon as more than n items
// have failed (reason [FailureToleranceExceeded]); 0 stops at the first
// failure. Without it, and without [WithToleratedFailurePercentage], every
// failure is tolerated.
func WithToleratedFailures(n int) BatchOption {
	return batchOption(func(c *batchConfig) { c.toleratedCount, c.toleratedCountSet = n, true })
}

// WithToleratedFailurePercentage completes the batch as soon as the failed
// items are more than pct percent (0 to 100) of all the items, started or
// not (reason [FailureToleranceExceeded]).
func WithToleratedFailurePercentage(pct float64) BatchOption {
	return batchOption(func(c *batchConfig) { c.toleratedPct, c.toleratedPctSet = pct, true })
}

// Nesting selects how the items of a batch appear in the history.
type Nesting int

const (
	// Nested gives every item a CONTEXT operation of its own (SubType
	// MapIteration or ParallelBranch) holding its operations and recording
	// its result. It is the default.
	Nested Nesting = iota
	// Flat runs every item in a virtual context: no operation of its own,
	// its operations recorded directly under the Map or Parallel operation.
	// The history is smaller; an item's result is recorded only in the
	// batch's result, so until the batch completes, replay runs the item's
	// function again (its operations replay from the history).
	Flat
)

// WithNesting selects [Nested] (the default) or [Flat] items.
func WithNesting(n Nesting) BatchOption {
	return batchOption(func(c *batchConfig) { c.nesting = n })
}

// WithItemSerdes sets how each item's result is recorded; the default is
// [JSON]. [WithSerdes] sets how the whole [BatchResult] is recorded.
func WithItemSerdes(s Serdes) BatchOption {
	return batchOption(func(c *batchConfig) { c.itemSerdes = s })
}

// WithItemName names the operation of each map iteration after its item;
// without it iterations are unnamed. In must be the item type of the Map.
func WithItemName[In any](name func(item In, index int) string) MapOption {
	return batchOption(func(c *batchConfig) { c.itemName = name })
}

func (c *batchConfig) validate(what string) error {
	if c.maxConcurrencySet && c.maxConcurrency < 1 {
		return fmt.Errorf("durable: %s: max concurrency %d is not allowed: use at least 1, or omit WithMaxConcurrency for no limit", what, c.maxConcurrency)
	}
	if c.minSuccessfulSet && c.minSuccessful < 1 {
		return fmt.Errorf("durable: %s: min successful %d is not allowed: use at least 1, or omit WithMinSuccessful to run every item", what, c.minSuccessful)
	}
	if c.toleratedCountSet && c.toleratedCount < 0 {
		return fmt.Errorf("durable: %s: tolerated failures %d is negative: use 0 to stop at the first failure", what, c.toleratedCount)
	}
	if c.toleratedPctSet && (c.toleratedPct < 0 || c.toleratedPct > 100 || math.IsNaN(c.toleratedPct)) {
		return fmt.Errorf("durable: %s: tolerated failure percentage %v is outside 0 to 100", what, c.toleratedPct)
	}
	if c.nesting != Nested && c.nesting != Flat {
		return fmt.Errorf("durable: %s: unknown nesting %d: use durable.Nested or durable.Flat", what, c.nesting)
	}
	return nil
}

// reason returns why the batch is complete once succeeded and failed of its
// n items have finished, or "" while it is not.
func (c *batchConfig) reason(n, succeeded, failed int) CompletionReason {
	switch {
	case c.toleratedCountSet && failed > c.toleratedCount:
		return FailureToleranceExceeded
	case c.toleratedPctSet && n > 0 && float64(failed)*100/float64(n) > c.toleratedPct:
		return FailureToleranceExceeded
	case succeeded+failed == n:
		return AllCompleted
	case c.minSuccessfulSet && succeeded >= c.minSuccessful:
		return MinSuccessfulReached
	}
	return ""
}

// CompletionReason says why a batch completed.
type CompletionReason string

const (
	// AllCompleted: every item finished, or there were none.
	AllCompleted CompletionReason = "ALL_COMPLETED"
	// MinSuccessfulReached: enough items succeeded ([WithMinSuccessful]).
	MinSuccessfulReached CompletionReason = "MIN_SUCCESSFUL_REACHED"
	// FailureToleranceExceeded: too many items failed ([WithToleratedFailures],
	// [WithToleratedFailurePercentage]).
	FailureToleranceExceeded CompletionReason = "FAILURE_TOLERANCE_EXCEEDED"
)

// ItemStatus is the state of one item of a batch.
type ItemStatus string

const (
	// ItemSucceeded: the item's function returned a result.
	ItemSucceeded ItemStatus = "SUCCEEDED"
	// ItemFailed: the item's function returned an error.
	ItemFailed ItemStatus = "FAILED"
	// ItemStarted: the item was running when the batch completed early.
	ItemStarted ItemStatus = "STARTED"
)

// BatchStatus is the overall status of a batch.
type BatchStatus string

const (
	// BatchSucceeded: no item failed.
	BatchSucceeded BatchStatus = "SUCCEEDED"
	// BatchFailed: at least one item failed.
	BatchFailed BatchStatus = "FAILED"
)

// BatchResult is the outcome of a [Map] or [Parallel]. Items start in index
// order and only started items are listed, so Items[i] is item i. Item
// failures do not make Map or Parallel return an error: inspect them here,
// or turn them into one with [BatchResult.Err].
type BatchResult[T any] struct {
	// Items holds one entry per started item, in index order.
	Items []BatchItem[T]
	// CompletionReason says why the batch completed.
	CompletionReason CompletionReason

	label string // `map "name"`, for Err
}

// BatchItem is the outcome of one item of a batch.
type BatchItem[T any] struct {
	// Index is the item's position in the input.
	Index int
	// Status is ItemSucceeded, ItemFailed, or ItemStarted for an item
	// still running when the batch completed early.
	Status ItemStatus
	// Value is the item's result when it succeeded.
	Value T
	// Err is the item's error when it failed: a [*ChildError] recording
	// the error its function returned.
	Err error
}

// Values returns the results of the succeeded items, in index order.
func (r *BatchResult[T]) Values() []T {
	out := make([]T, 0, len(r.Items))
	for _, it := range r.Items {
		if it.Status == ItemSucceeded {
			out = append(out, it.Value)
		}
	}
	return out
}

// Errors returns the errors of the failed items, in index order.
func (r *BatchResult[T]) Errors() []error {
	var out []error
	for _, it := range r.Items {
		if it.Status == ItemFailed {
			out = append(out, it.Err)
		}
	}
	return out
}

// Succeeded returns the succeeded items.
func (r *BatchResult[T]) Succeeded() []BatchItem[T] { return r.filter(ItemSucceeded) }

// Failed returns the failed items.
func (r *BatchResult[T]) Failed() []BatchItem[T] { return r.filter(ItemFailed) }

// Started returns the items still running when the batch completed early.
func (r *BatchResult[T]) Started() []BatchItem[T] { return r.filter(ItemStarted) }

func (r *BatchResult[T]) filter(s ItemStatus) []BatchItem[T] {
	var out []BatchItem[T]
	for _, it := range r.Items {
		if it.Status == s {
			out = append(out, it)
		}
	}
	return out
}

func (r *BatchResult[T]) count(s ItemStatus) int {
	n := 0
	for _, it := range r.Items {
		if it.Status == s {
			n++
		}
	}
	return n
}

// SuccessCount returns the number of succeeded items.
func (r *BatchResult[T]) SuccessCount() int { return r.count(ItemSucceeded) }

// FailureCount returns the number of failed items.
func (r *BatchResult[T]) FailureCount() int { return r.count(ItemFailed) }

// StartedCount returns the number of items still running when the batch
// completed early.
func (r *BatchResult[T]) StartedCount() int { return r.count(ItemStarted) }

// TotalCount returns the number of started items: items not started because
// the batch completed early are not counted.
func (r *BatchResult[T]) TotalCount() int { return len(r.Items) }

// HasFailure reports whether any item failed.
func (r *BatchResult[T]) HasFailure() bool { return r.FailureCount() > 0 }

// Status returns [BatchFailed] if any item failed, else [BatchSucceeded].
func (r *BatchResult[T]) Status() BatchStatus {
	if r.HasFailure() {
		return BatchFailed
	}
	return BatchSucceeded
}

// Err returns nil when no item failed, else a [*BatchError] holding the
// errors of the failed items.
func (r *BatchResult[T]) Err() error {
	errs := r.Errors()
	if len(errs) == 0 {
		return nil
	}
	label := r.label
	if label == "" {
		label = "batch"
	}
	return &BatchError{Op: label, Total: len(r.Items), Errs: errs}
}

// BatchError gathers the errors of the failed items of a batch
// ([BatchResult.Err]), or of the futures given to [Any] when all failed.
// errors.Is and errors.As look into every one of them.
type BatchError struct {
	// Op names the operation, such as `map "resize"`.
	Op string
	// Total is the number of items or futures considered.
	Total int
	// Errs are the errors, in index order.
	Errs []error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("durable: %s: %d of %d failed; the first: %v", e.Op, len(e.Errs), e.Total, e.Errs[0])
}

// Unwrap returns the errors.
func (e *BatchError) Unwrap() []error { return e.Errs }

// batchSpec describes a batch to the scheduler.
type batchSpec[Out any] struct {
	kind        string // "map", "parallel"
	subType     string // "Map", "Parallel"
	itemSubType string // "MapIteration", "ParallelBranch"
	resultType  string // "MapResult", "ParallelResult"
	n           int
	name        func(i int) string
	run         func(ctx context.Context, i int) (Out, error)
}

// runBatch runs a Map or Parallel: a CONTEXT operation holding one branch
// per item, started in index order on the calling goroutine.
func runBatch[Out any](ctx context.Context, name string, spec *batchSpec[Out], cfg *batchConfig) (*BatchResult[Out], error) {
	label := fmt.Sprintf("%s %q", spec.kind, name)
	f, err := frameOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateName(spec.kind, name); err != nil {
		return nil, err
	}
	if err := cfg.validate(label); err != nil {
		return nil, err
	}
	for i := range spec.n {
		if err := validateName(spec.kind+" item", spec.name(i)); err != nil {
			return nil, fmt.Errorf("%w (item %d of %s)", err, i, label)
		}
	}
	if cfg.itemSerdes == nil {
		cfg.itemSerdes = JSON
	}
	op, err := f.Begin(types.OperationTypeContext, spec.subType, name)
	if err != nil {
		return nil, err
	}
	defer op.End()

	codec := &batchCodec[Out]{spec: spec, item: cfg.itemSerdes, op: op}
	ccfg := &childConfig{serdes: cfg.serdes, subType: spec.subType, summary: codec.summary, lazy: true}
	if ccfg.serdes == nil {
		ccfg.serdes = codec
	}
	var live BatchResult[Out]
	res, err := runChild(ctx, op, ccfg, func(mctx context.Context) (BatchResult[Out], error) {
		var err error
		live, err = schedule(mctx, op, spec, cfg)
		return live, err
	})
	if err != nil {
		return nil, err
	}
	// res went through the serdes, as replay will return it. Item errors
	// keep the error their function returned, as a step's error does.
	if len(live.Items) == len(res.Items) {
		for i, it := range live.Items {
			if it.Status == ItemFailed && res.Items[i].Status == ItemFailed {
				res.Items[i].Err = it.Err
			}
		}
	}
	res.label = label
	return &res, nil
}

// batchState is what the scheduler and the running items share.
type batchState[Out any] struct {
	mu        sync.Mutex
	items     []BatchItem[Out]
	running   int
	succeeded int
	failed    int
	reason    CompletionReason
	waiter    *ctxstate.Waiter // the scheduler, waiting for an item to finish
}

// schedule starts the items in index order, at most maxConcurrency at a
// time, until they are all started or the batch is complete. It returns
// when the batch is complete; items still running then stay ItemStarted and
// finish in the background (the middleware waits for them). On suspension
// it returns once the running items have settled.
func schedule[Out any](mctx context.Context, op *ctxstate.Op, spec *batchSpec[Out], cfg *batchConfig) (BatchResult[Out], error) {
	mf, _ := ctxstate.FromContext(mctx)
	exec := mf.Execution()
	limit := spec.n
	var replayed *batchRecord
	if rec := op.Recorded; rec != nil && rec.Status == types.OperationStatusSucceeded && replaysChildren(rec) {
		// The result was too large to record: rebuild it from the items
		// recorded when it completed, as many as its summary says started.
		if r, err := parseBatchRecord(deref(rec.ContextDetails.Result)); err == nil && r.TotalCount <= spec.n {
			replayed, limit = r, r.TotalCount
		}
	}
	width := spec.n
	if cfg.maxConcurrencySet {
		width = cfg.maxConcurrency
	}
	s := &batchState[Out]{items: make([]BatchItem[Out], 0, limit)}
	if spec.n == 0 {
		s.reason = AllCompleted
	}

	var err error
	for i := 0; i < limit; i++ {
		s.mu.Lock()
		for s.running >= width && s.reason == "" {
			s.wait(exec)
		}
		if s.reason != "" || exec.Suspended() || exec.Fatal() != nil {
			s.mu.Unlock()
			break
		}
		s.running++
		s.items = append(s.items, BatchItem[Out]{Index: i, Status: ItemStarted})
		s.mu.Unlock()

		iop, cerr := mf.Claim(types.OperationTypeContext, spec.itemSubType, spec.name(i))
		if cerr != nil {
			s.mu.Lock()
			s.running--
			s.mu.Unlock()
			err = cerr
			break
		}
		if replayed != nil && cfg.nesting == Nested && (iop.Recorded == nil || !isFinal(iop.Recorded)) {
			// Running when the batch completed: it stays started.
			s.mu.Lock()
			s.running--
			s.mu.Unlock()
			continue
		}
		run := func() {
			v, status, ierr := runItem(mctx, mf, iop, i, spec, cfg)
			s.finish(i, v, status, ierr, spec.n, cfg, replayed != nil)
		}
		if cfg.nesting == Nested && iop.Recorded != nil && isFinal(iop.Recorded) {
			run() // recorded: no need for a goroutine to read the outcome
		} else {
			exec.Go(run)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		interrupted := err != nil || exec.Suspended() || exec.Fatal() != nil
		switch {
		case s.reason != "" && !interrupted:
			return s.result(), nil
		case s.running == 0 && interrupted:
			if err == nil {
				err = interruption(context.Background(), exec)
			}
			return BatchResult[Out]{}, err
		case s.running == 0:
			r := s.result()
			if replayed != nil {
				r.CompletionReason = replayed.CompletionReason
			} else {
				r.CompletionReason = cfg.reason(spec.n, s.succeeded, s.failed)
			}
			return r, nil
		}
		s.wait(exec)
	}
}

// wait blocks the scheduler, s.mu held, until an item finishes.
func (s *batchState[Out]) wait(exec *ctxstate.Execution) {
	w := exec.NewWaiter()
	s.waiter = w
	s.mu.Unlock()
	w.Wait(nil, nil)
	s.mu.Lock()
}

// finish records the outcome of item i and wakes the scheduler.
func (s *batchState[Out]) finish(i int, v Out, status ItemStatus, err error, n int, cfg *batchConfig, replaying bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	it := &s.items[i]
	switch status {
	case ItemSucceeded:
		it.Status, it.Value = status, v
		s.succeeded++
	case ItemFailed:
		it.Status, it.Err = status, err
		s.failed++
	}
	if s.reason == "" && !replaying {
		s.reason = cfg.reason(n, s.succeeded, s.failed)
	}
	if s.waiter != nil {
		s.waiter.Wake()
		s.waiter = nil
	}
}

// result returns a copy of the items: those still running go on updating s.
func (s *batchState[Out]) result() BatchResult[Out] {
	return BatchResult[Out]{Items: append([]BatchItem[Out](nil), s.items...), CompletionReason: s.reason}
}

// runItem runs item i in its branch: in a CONTEXT operation of its own, or
// in a virtual context for Flat. It returns ItemStarted when the item was
// interrupted (suspension) rather than finished.
func runItem[Out any](mctx context.Context, mf *ctxstate.Frame, iop *ctxstate.Op, i int, spec *batchSpec[Out], cfg *batchConfig) (Out, ItemStatus, error) {
	var zero Out
	exec := mf.Execution()
	run := func(ctx context.Context) (Out, error) { return callBranch(ctx, i, spec.run) }
	if cfg.nesting == Nested {
		v, err := runChild(mctx, iop, &childConfig{serdes: cfg.itemSerdes, subType: spec.itemSubType, lazy: true}, run)
		if err == nil {
			return v, ItemSucceeded, nil
		}
		if _, ok := err.(*ChildError); ok {
			return zero, ItemFailed, err
		}
		if isInterruption(mctx, exec, err) {
			return zero, ItemStarted, err
		}
		return zero, ItemFailed, err
	}
	ictx := ctxstate.NewContext(mctx, mf.Virtual(iop, mf.ID()))
	v, err := run(ictx)
	if err != nil {
		if isInterruption(ictx, exec, err) {
			return zero, ItemStarted, err
		}
		obj := errorObjectFor(err)
		return zero, ItemFailed, childErrorFrom(&obj, iop, err)
	}
	// Return the value as replay will: through the serdes.
	payload, err := encode(cfg.itemSerdes, spec.kind+" item", iop.Name, v)
	if err == nil {
		v, err = decode[Out](cfg.itemSerdes, spec.kind+" item", iop.Name, payload)
	}
	if err != nil {
		obj := errorObjectFor(err)
		return zero, ItemFailed, childErrorFrom(&obj, iop, err)
	}
	return v, ItemSucceeded, nil
}

// callBranch runs a branch function, turning a panic into a *PanicError:
// the branch fails like a step whose function panicked, instead of
// crashing the process from a goroutine the caller cannot recover.
func callBranch[T any](ctx context.Context, i int, fn func(context.Context, int) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return fn(ctx, i)
}

// isInterruption reports whether err ends a branch without an outcome of
// its own: the execution suspended or failed.
func isInterruption(ctx context.Context, exec *ctxstate.Execution, err error) bool {
	return errors.Is(err, ErrSuspended) || exec.Fatal() != nil || (exec.Suspended() && ctx.Err() != nil)
}

// stopping returns the error to end with when a branch's error err means
// the execution is stopping rather than the branch failing: a suspension,
// or the execution's fatal error. It returns nil otherwise.
func stopping(exec *ctxstate.Execution, err error) error {
	if err == nil {
		return nil
	}
	if exec != nil {
		if ferr := exec.Fatal(); ferr != nil {
			return ferr
		}
	}
	if errors.Is(err, ErrSuspended) {
		return err
	}
	return nil
}

// interruption returns the error a wait on other branches ends with when
// the execution stops: its fatal error, the suspension, or ctx's error.
func interruption(ctx context.Context, exec *ctxstate.Execution) error {
	if err := exec.Fatal(); err != nil {
		return err
	}
	if exec.Suspended() {
		return ErrSuspended
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return errors.New("durable: the invocation ended while waiting for other branches")
}

func replaysChildren(rec *types.Operation) bool {
	d := rec.ContextDetails
	return d != nil && d.ReplayChildren != nil && *d.ReplayChildren
}

// isFinal reports whether a recorded operation has an outcome that replay
// returns without running its function.
func isFinal(rec *types.Operation) bool {
	switch rec.Status {
	case types.OperationStatusSucceeded:
		return !replaysChildren(rec)
	case types.OperationStatusFailed, types.OperationStatusCancelled, types.OperationStatusTimedOut, types.OperationStatusStopped:
		return true
	}
	return false
}

// batchRecord is how a batch result is recorded on its CONTEXT operation
// by default, and, without Items, the summary recorded instead of a result
// over [ChildResultLimit] (the official SDKs' MapResult / ParallelResult).
type batchRecord struct {
	Type             string           `json:"type"`
	TotalCount       int              `json:"totalCount"`
	SuccessCount     int              `json:"successCount"`
	FailureCount     int              `json:"failureCount"`
	StartedCount     int              `json:"startedCount"`
	CompletionReason CompletionReason `json:"completionReason"`
	Status           BatchStatus      `json:"status"`
	Items            []itemRecord     `json:"items,omitempty"`
}

type itemRecord struct {
	Status ItemStatus `json:"status"`
	// Result is the item's recorded result: embedded as it is when the
	// item serdes is JSON, else as a JSON string.
	Result json.RawMessage    `json:"result,omitempty"`
	Error  *types.ErrorObject `json:"error,omitempty"`
}

func parseBatchRecord(data string) (*batchRecord, error) {
	var r batchRecord
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// batchCodec is the default Serdes of a batch result: a batchRecord whose
// item results are recorded with the item serdes.
type batchCodec[Out any] struct {
	spec *batchSpec[Out]
	item Serdes
	op   *ctxstate.Op
}

func (c *batchCodec[Out]) record(r *BatchResult[Out], items bool) (*batchRecord, error) {
	rec := &batchRecord{
		Type: c.spec.resultType, TotalCount: r.TotalCount(), SuccessCount: r.SuccessCount(), FailureCount: r.FailureCount(),
		StartedCount: r.StartedCount(), CompletionReason: r.CompletionReason, Status: r.Status(),
	}
	if !items {
		return rec, nil
	}
	rec.Items = make([]itemRecord, len(r.Items))
	for i, it := range r.Items {
		ir := itemRecord{Status: it.Status}
		switch it.Status {
		case ItemSucceeded:
			payload, err := c.item.Serialize(it.Value)
			if err != nil {
				return nil, fmt.Errorf("durable: cannot serialize the result of item %d: %w", i, err)
			}
			if c.item == JSON {
				ir.Result = json.RawMessage(payload)
			} else if ir.Result, err = json.Marshal(payload); err != nil {
				return nil, err
			}
		case ItemFailed:
			obj := errorObjectFor(it.Err)
			ir.Error = &obj
		}
		rec.Items[i] = ir
	}
	return rec, nil
}

// Serialize implements Serdes for a BatchResult[Out].
func (c *batchCodec[Out]) Serialize(v any) (string, error) {
	r, ok := v.(BatchResult[Out])
	if !ok {
		return "", fmt.Errorf("durable: batch serdes got %T", v)
	}
	rec, err := c.record(&r, true)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(rec)
	return string(b), err
}

// Deserialize implements Serdes for a *BatchResult[Out].
func (c *batchCodec[Out]) Deserialize(data string, ptr any) error {
	p, ok := ptr.(*BatchResult[Out])
	if !ok {
		return fmt.Errorf("durable: batch serdes cannot fill %T", ptr)
	}
	rec, err := parseBatchRecord(data)
	if err != nil {
		return err
	}
	p.CompletionReason = rec.CompletionReason
	p.Items = make([]BatchItem[Out], len(rec.Items))
	for i, ir := range rec.Items {
		it := BatchItem[Out]{Index: i, Status: ir.Status}
		iop := &ctxstate.Op{ID: ctxstate.WireID(c.op.Path + "-" + strconv.Itoa(i+1))}
		if i < c.spec.n {
			iop.Name = c.spec.name(i)
		}
		switch ir.Status {
		case ItemSucceeded:
			payload := string(ir.Result)
			if c.item != JSON {
				if err := json.Unmarshal(ir.Result, &payload); err != nil {
					return err
				}
			}
			if it.Value, err = decode[Out](c.item, c.spec.kind+" item", iop.Name, payload); err != nil {
				return err
			}
		case ItemFailed:
			it.Err = childErrorFrom(ir.Error, iop, nil)
		}
		p.Items[i] = it
	}
	return nil
}

// summary is what a batch records instead of a result over ChildResultLimit.
func (c *batchCodec[Out]) summary(v any) string {
	r, ok := v.(BatchResult[Out])
	if !ok {
		return ""
	}
	rec, err := c.record(&r, false)
	if err != nil {
		return ""
	}
	b, _ := json.Marshal(rec)
	return string(b)
}
