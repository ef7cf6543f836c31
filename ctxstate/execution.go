package ctxstate

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/durablectx/durable/checkpointer"
)

// Config describes one invocation of a durable execution.
type Config struct {
	// API is the durable API the execution checkpoints through.
	API checkpointer.API
	// ARN is the durable execution ARN; Token the invocation's checkpoint token.
	ARN   string
	Token string
	// Mode selects when a finished at-least-once step returns.
	Mode checkpointer.Mode
	// Linger overrides how long a queued update waits for company (0: the checkpointer's default).
	Linger time.Duration
	// Operations is the execution's recorded state, every page of it, EXECUTION operation included.
	Operations []types.Operation
	// Logger is the base logger of [durable.Logger]; nil means slog.Default().
	Logger *slog.Logger
	// Hooks are the lifecycle callbacks; nil means none.
	Hooks *Hooks
	// UpdatedOperationIDs are the operations the service changed while the
	// execution was suspended (the envelope's UpdatedOperationIds); nil
	// when the service did not say.
	UpdatedOperationIDs []string
	// Now is the clock used for timestamps handed to hooks; nil means time.Now.
	Now func() time.Time
}

// Execution is the state of one invocation of a durable execution: the
// operation log, the checkpointer, suspension and the goroutines it runs.
// It is safe for concurrent use.
type Execution struct {
	arn    string
	mode   checkpointer.Mode
	logger *slog.Logger
	hooks  *Hooks
	now    func() time.Time

	base    context.Context // the invocation's context: bounds checkpoint calls
	ctx     context.Context // cancelled with ErrSuspended on suspension
	cancel  context.CancelCauseFunc
	batcher *checkpointer.Batcher

	mu       sync.RWMutex
	ops      map[string]*types.Operation // what the service returned during this invocation
	recorded map[string]*types.Operation // the history the invocation started with; read-only after New
	execOp   *types.Operation

	updated      []string // UpdatedOperationIds; nil when unknown
	resumedOnce  sync.Once
	resumed      map[string]struct{}
	lastActivity time.Time

	suspended atomic.Bool
	fatalMu   sync.Mutex
	fatal     error
	wg        sync.WaitGroup
	root      *Frame
	branches  branches
	settled   atomic.Bool // Settle was called: the root branch is done
}

// New starts the execution state of one invocation. ctx is the invocation's
// context; the execution derives its own cancellable context from it. Call
// Close when the invocation ends.
func New(ctx context.Context, cfg Config) *Execution {
	e := &Execution{
		arn:      cfg.ARN,
		mode:     cfg.Mode,
		logger:   cfg.Logger,
		hooks:    cfg.Hooks,
		now:      cfg.Now,
		base:     ctx,
		ops:      make(map[string]*types.Operation),
		recorded: make(map[string]*types.Operation, len(cfg.Operations)),
		updated:  cfg.UpdatedOperationIDs,
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	for i := range cfg.Operations {
		op := &cfg.Operations[i]
		if op.Id == nil {
			continue
		}
		if op.Type == types.OperationTypeExecution && e.execOp == nil {
			e.execOp = op
			continue
		}
		e.recorded[*op.Id] = op
	}
	e.ctx, e.cancel = context.WithCancelCause(ctx)
	e.batcher = checkpointer.New(ctx, checkpointer.Config{
		API:          cfg.API,
		ExecutionARN: cfg.ARN,
		Token:        cfg.Token,
		Linger:       cfg.Linger,
		OnState:      e.merge,
	})
	e.root = &Frame{exec: e}
	e.branches.init(cfg.Linger)
	return e
}

// ARN returns the durable execution ARN.
func (e *Execution) ARN() string { return e.arn }

// Mode returns the checkpoint mode.
func (e *Execution) Mode() checkpointer.Mode { return e.mode }

// Logger returns the base logger.
func (e *Execution) Logger() *slog.Logger { return e.logger }

// Hooks returns the lifecycle hooks, or nil.
func (e *Execution) Hooks() *Hooks { return e.hooks }

// Now returns the current time of the execution's clock.
func (e *Execution) Now() time.Time { return e.now() }

// Root returns the frame of the handler's own durable context.
func (e *Execution) Root() *Frame { return e.root }

// Context returns the execution's context carrying the root frame. It is
// cancelled with ErrSuspended as its cause when the execution suspends.
func (e *Execution) Context() context.Context { return NewContext(e.ctx, e.root) }

// Done is closed when the execution suspends or the invocation ends.
func (e *Execution) Done() <-chan struct{} { return e.ctx.Done() }

// ExecutionOperation returns the EXECUTION operation of the state, or nil.
func (e *Execution) ExecutionOperation() *types.Operation { return e.execOp }

// Replayed reports whether this invocation started with recorded operations
// other than the EXECUTION operation.
func (e *Execution) Replayed() bool { return len(e.recorded) > 0 }

// Operation returns the latest known state of the operation with the given
// wire id, or nil. The returned value must not be modified.
func (e *Execution) Operation(id string) *types.Operation {
	e.mu.RLock()
	op := e.lookupLocked(id)
	e.mu.RUnlock()
	return op
}

// lookupLocked finds an operation: ops holds what the service returned
// during the invocation, recorded (read-only) the history it started with,
// so starting an invocation fills one map, not two.
func (e *Execution) lookupLocked(id string) *types.Operation {
	if op := e.ops[id]; op != nil {
		return op
	}
	return e.recorded[id]
}

func (e *Execution) wasRecorded(id string) bool {
	_, ok := e.recorded[id] // written only in New
	return ok
}

// OperationCount returns the number of operations known, the EXECUTION
// operation excluded.
func (e *Execution) OperationCount() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := len(e.recorded)
	for id := range e.ops {
		if _, ok := e.recorded[id]; !ok {
			n++
		}
	}
	return n
}

// merge folds operations returned by the service into the table, and
// reports the changes to the OperationChange hook.
func (e *Execution) merge(ops []types.Operation) {
	if len(ops) == 0 {
		return
	}
	report := e.hooks != nil && e.hooks.OperationChange != nil
	var updated []OperationInfo
	var all map[string]OperationInfo
	e.mu.Lock()
	for i := range ops {
		op := &ops[i]
		if op.Id == nil || op.Type == types.OperationTypeExecution {
			continue
		}
		if report && changed(e.lookupLocked(*op.Id), op) {
			updated = append(updated, e.operationInfo(op))
		}
		e.ops[*op.Id] = op
	}
	if len(updated) > 0 {
		all = make(map[string]OperationInfo, len(e.recorded)+len(e.ops))
		for id, op := range e.recorded {
			all[id] = e.operationInfo(op)
		}
		for id, op := range e.ops {
			all[id] = e.operationInfo(op)
		}
	}
	e.mu.Unlock()
	if len(updated) > 0 {
		e.hooks.OperationChange(OperationChangeInfo{ExecutionARN: e.arn, Updated: updated, Operations: all})
	}
}

// changed reports whether next differs from prev in what hooks report.
func changed(prev, next *types.Operation) bool {
	if prev == nil {
		return true
	}
	return prev.Status != next.Status || attemptOf(prev) != attemptOf(next)
}

func attemptOf(op *types.Operation) int {
	if op.StepDetails == nil {
		return 0
	}
	return int(op.StepDetails.Attempt)
}

// operationInfo describes a recorded operation.
func (e *Execution) operationInfo(op *types.Operation) OperationInfo {
	info := OperationInfo{
		ExecutionARN: e.arn, ID: deref(op.Id), ParentID: deref(op.ParentId), Name: deref(op.Name),
		Type: op.Type, SubType: deref(op.SubType), Status: op.Status, Replaying: e.wasRecorded(deref(op.Id)),
		Attempt: attemptOf(op),
	}
	if op.StartTimestamp != nil {
		info.Start = *op.StartTimestamp
	}
	if op.EndTimestamp != nil {
		info.End = *op.EndTimestamp
	}
	var res *string
	var obj *types.ErrorObject
	switch {
	case op.StepDetails != nil:
		res, obj = op.StepDetails.Result, op.StepDetails.Error
	case op.ContextDetails != nil:
		res, obj = op.ContextDetails.Result, op.ContextDetails.Error
	case op.CallbackDetails != nil:
		res, obj = op.CallbackDetails.Result, op.CallbackDetails.Error
	case op.ChainedInvokeDetails != nil:
		res, obj = op.ChainedInvokeDetails.Result, op.ChainedInvokeDetails.Error
	}
	info.Result = deref(res)
	if obj != nil {
		info.Err = recordedError{obj}
	}
	return info
}

// recordedError is an operation error as the history records it.
type recordedError struct{ obj *types.ErrorObject }

func (r recordedError) Error() string {
	if t := deref(r.obj.ErrorType); t != "" {
		return t + ": " + deref(r.obj.ErrorMessage)
	}
	return deref(r.obj.ErrorMessage)
}

// Resumed reports whether the operation with the given id is one the
// service completed while the execution was suspended, so that this
// invocation is the first to see its outcome: a wait that elapsed, a
// callback answered or timed out, a chained invoke that returned. The
// envelope's UpdatedOperationIds decide when the service sends them;
// otherwise an operation counts as resumed when no operation started after
// it completed (an invocation that ran after its completion would have).
// Operations the function completes itself (steps, contexts) never are.
func (e *Execution) Resumed(id string) bool {
	op := e.recorded[id]
	if op == nil || !IsTerminal(op.Status) {
		return false
	}
	switch op.Type {
	case types.OperationTypeWait, types.OperationTypeCallback, types.OperationTypeChainedInvoke:
	default:
		return false
	}
	e.resumedOnce.Do(e.indexResumed)
	if e.updated != nil {
		_, ok := e.resumed[id]
		return ok
	}
	return op.EndTimestamp == nil || !op.EndTimestamp.Before(e.lastActivity)
}

func (e *Execution) indexResumed() {
	if e.updated != nil {
		e.resumed = make(map[string]struct{}, len(e.updated))
		for _, id := range e.updated {
			e.resumed[id] = struct{}{}
		}
		return
	}
	for _, op := range e.recorded {
		if op.StartTimestamp != nil && op.StartTimestamp.After(e.lastActivity) {
			e.lastActivity = *op.StartTimestamp
		}
	}
}

// Checkpoint queues an update; it leaves in order with the next call.
func (e *Execution) Checkpoint(u types.OperationUpdate) *checkpointer.Ticket {
	return e.batcher.Enqueue(u)
}

// CheckpointSync queues an update and waits until it is durable.
func (e *Execution) CheckpointSync(u types.OperationUpdate) error {
	return e.Await(e.batcher.Enqueue(u))
}

// Await waits until the ticket's update is durable. It is bounded by the
// invocation's context, not by suspension: work finished before suspension
// is still recorded.
//
// Waiting makes the queued updates leave at once. When other branches are
// running durable code (see [Execution.Go]), Await first waits, at most the
// linger, until every one of them is waiting too, so that concurrent
// branches share one call instead of sending one each.
func (e *Execution) Await(t *checkpointer.Ticket) error {
	e.park()
	if err := t.Wait(e.base); err != nil {
		return e.checkpointFailed(err)
	}
	return nil
}

// Flush sends every queued update and waits until they are durable.
func (e *Execution) Flush() error {
	if err := e.batcher.Flush(e.base); err != nil {
		return e.checkpointFailed(err)
	}
	return nil
}

// CheckpointStats reports the checkpoint calls made so far.
func (e *Execution) CheckpointStats() checkpointer.Stats { return e.batcher.Stats() }

func (e *Execution) checkpointFailed(err error) error {
	err = fmt.Errorf("durable: checkpoint failed: %w", err)
	e.Fail(err)
	return err
}

// Suspend marks the execution suspended and cancels its context with
// ErrSuspended as the cause, so blocked operations unwind. It returns an
// error wrapping ErrSuspended that says why.
func (e *Execution) Suspend(reason string) error {
	e.suspended.Store(true)
	e.cancel(ErrSuspended)
	if reason == "" {
		return ErrSuspended
	}
	return &suspendError{reason: reason}
}

type suspendError struct{ reason string }

func (s *suspendError) Error() string { return ErrSuspended.Error() + ": " + s.reason }
func (s *suspendError) Unwrap() error { return ErrSuspended }

// Suspended reports whether the execution has suspended.
func (e *Execution) Suspended() bool { return e.suspended.Load() }

// Fail records an error that ends the invocation whatever the handler
// returns (a non-deterministic replay, a failed checkpoint), cancels the
// execution's context, and returns err. The first error wins.
func (e *Execution) Fail(err error) error {
	e.fatalMu.Lock()
	if e.fatal == nil {
		e.fatal = err
	}
	e.fatalMu.Unlock()
	e.cancel(err)
	return err
}

// Fatal returns the error recorded by Fail, or nil.
func (e *Execution) Fatal() error {
	e.fatalMu.Lock()
	defer e.fatalMu.Unlock()
	return e.fatal
}

// Go runs fn on a goroutine the execution waits for in Settle. The
// goroutine is a branch: it counts as running durable code from the call
// until fn returns, except while it blocks in [Waiter.Wait].
func (e *Execution) Go(fn func()) {
	e.wg.Add(1)
	e.branches.busy()
	go func() {
		defer e.wg.Done()
		defer e.branches.idle()
		fn()
	}()
}

// Settle waits until every goroutine started with Go has returned. The
// caller is the handler's goroutine, whose durable code is over: from now
// on it holds back no branch's checkpoint.
func (e *Execution) Settle() {
	if e.settled.CompareAndSwap(false, true) {
		e.branches.idle()
	}
	e.wg.Wait()
}

// Close cancels the execution's context and stops the checkpointer. Flush
// first: queued updates are not sent by Close.
func (e *Execution) Close() {
	e.cancel(context.Canceled)
	e.batcher.Close()
}

// defaultPark is how long an awaiting branch waits for the others when the
// configuration sets no linger. It is shorter than the checkpointer's
// default linger: a branch that finished waits for slower ones only briefly.
const defaultPark = 5 * time.Millisecond

// branches counts the branches of an invocation that run durable code, so
// that an urgent flush can wait for company. A branch is the handler's
// goroutine (until Settle) or a goroutine started with Execution.Go; it is
// idle while it blocks in Waiter.Wait on other branches.
//
// In Sync mode every finished step awaits its SUCCEED. With ten branches
// each finishing a quick step, the first await would flush its own updates
// alone and the other nine the next call. Instead an awaiting branch parks
// until every active branch is parked (or the linger passes, so that a
// branch running a long step delays the others by at most that much), and
// then all of them flush together: one call for the round.
type branches struct {
	parkFor time.Duration // <= 0: never park

	mu      sync.Mutex
	active  int           // branches running durable code
	parked  int           // branches waiting in park for the others
	release chan struct{} // closed to let the parked branches flush
}

func (b *branches) init(linger time.Duration) {
	b.parkFor = linger
	if linger == 0 {
		b.parkFor = defaultPark
	}
	b.active = 1 // the handler's goroutine
	b.release = make(chan struct{})
}

func (b *branches) busy() {
	b.mu.Lock()
	b.active++
	b.mu.Unlock()
}

func (b *branches) idle() {
	b.mu.Lock()
	b.active--
	if b.parked > 0 && b.parked >= b.active {
		b.releaseLocked()
	}
	b.mu.Unlock()
}

func (b *branches) releaseLocked() {
	close(b.release)
	b.release = make(chan struct{})
	b.parked = 0
}

// park holds the calling branch back until every active branch is parked,
// the linger has passed, or the execution's context is done.
func (e *Execution) park() {
	b := &e.branches
	if b.parkFor <= 0 {
		return
	}
	b.mu.Lock()
	b.parked++
	if b.parked >= b.active {
		b.releaseLocked()
		b.mu.Unlock()
		return
	}
	ch := b.release
	b.mu.Unlock()
	timer := time.NewTimer(b.parkFor)
	defer timer.Stop()
	select {
	case <-ch:
		return
	case <-timer.C:
	case <-e.ctx.Done():
	}
	b.mu.Lock()
	if b.release == ch {
		b.releaseLocked()
	}
	b.mu.Unlock()
}

// Waiter blocks a branch until another branch wakes it: a branch waiting
// for the result of other branches (a future, a free slot in a map) does
// not run durable code meanwhile, so it must not hold back their flushes.
// The waker counts the woken branch as running again before it goes on
// itself, so that no flush sees an instant when neither runs. A Waiter is
// used once.
type Waiter struct {
	e     *Execution
	ch    chan struct{}
	woken atomic.Bool
}

// NewWaiter returns a Waiter for the calling branch. Call Wait on it
// afterwards, even when the awaited condition turned out to hold already:
// a Wake that came first is undone by Wait.
func (e *Execution) NewWaiter() *Waiter {
	return &Waiter{e: e, ch: make(chan struct{})}
}

// Wake makes Wait return. Only the first call has an effect.
func (w *Waiter) Wake() {
	if w.woken.CompareAndSwap(false, true) {
		w.e.branches.busy()
		close(w.ch)
	}
}

// Wait blocks, counting the caller as idle, until Wake is called or a or b
// is closed (a nil channel never is): pass ctx.Done() and
// [Execution.Done] to unwind on cancellation and suspension. It reports
// whether Wake was called.
func (w *Waiter) Wait(a, b <-chan struct{}) bool {
	w.e.branches.idle()
	select {
	case <-w.ch:
		return true
	case <-a:
	case <-b:
	}
	if w.woken.CompareAndSwap(false, true) {
		w.e.branches.busy()
		return false
	}
	return true // woken meanwhile; Wake counted the caller as busy
}
