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
	ops      map[string]*types.Operation
	recorded map[string]struct{} // ids present when the invocation started
	execOp   *types.Operation

	suspended atomic.Bool
	fatalMu   sync.Mutex
	fatal     error
	wg        sync.WaitGroup
	root      *Frame
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
		ops:      make(map[string]*types.Operation, len(cfg.Operations)),
		recorded: make(map[string]struct{}, len(cfg.Operations)),
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
		e.ops[*op.Id] = op
		e.recorded[*op.Id] = struct{}{}
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
	op := e.ops[id]
	e.mu.RUnlock()
	return op
}

func (e *Execution) wasRecorded(id string) bool {
	_, ok := e.recorded[id] // written only in New
	return ok
}

// merge folds operations returned by the service into the table.
func (e *Execution) merge(ops []types.Operation) {
	if len(ops) == 0 {
		return
	}
	e.mu.Lock()
	for i := range ops {
		op := &ops[i]
		if op.Id == nil || op.Type == types.OperationTypeExecution {
			continue
		}
		e.ops[*op.Id] = op
	}
	e.mu.Unlock()
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
func (e *Execution) Await(t *checkpointer.Ticket) error {
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

// Go runs fn on a goroutine the execution waits for in Settle.
func (e *Execution) Go(fn func()) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn()
	}()
}

// Settle waits until every goroutine started with Go has returned.
func (e *Execution) Settle() { e.wg.Wait() }

// Close cancels the execution's context and stops the checkpointer. Flush
// first: queued updates are not sent by Close.
func (e *Execution) Close() {
	e.cancel(context.Canceled)
	e.batcher.Close()
}
