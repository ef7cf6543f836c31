package checkpointer

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/uuid"
)

const (
	defaultLinger     = 20 * time.Millisecond
	defaultMaxBytes   = 750 << 10
	defaultMaxUpdates = 250
	// ticketBlock tickets are allocated at a time, so that Enqueue does not
	// allocate for each update.
	ticketBlock = 64
)

// Config configures a [Batcher]. Use one Batcher per invocation of an
// execution.
type Config struct {
	// API is the durable API: a *lambda.Client, the local service or a fake.
	API API
	// ExecutionARN is the DurableExecutionArn of the invocation's envelope.
	ExecutionARN string
	// Token is the invocation's checkpoint token, from the envelope.
	Token string
	// Linger is how long a non-urgent update waits for company before it
	// leaves; default 20ms, negative for none. A quick step's START
	// (enqueued, not awaited) and its SUCCEED (awaited) then leave in one
	// call; a long step's START leaves after Linger while the step runs.
	Linger time.Duration
	// MaxBytes caps the estimated request body of a call; default 750 KiB.
	// The estimate never falls below the real size. An update larger than
	// MaxBytes on its own leaves alone and the service judges it.
	MaxBytes int
	// MaxUpdates caps the updates of a call; default 250.
	MaxUpdates int
	// OnState receives the operations of every response's
	// NewExecutionState, with the pages read when it has a NextMarker, in
	// call order, on the flusher goroutine, before the tickets of that call
	// are released. It must not wait on tickets, call Flush or call Close.
	OnState func([]types.Operation)
	// Backoff paces retries of throttling, server and network errors.
	Backoff Backoff
}

// Stats counts the work of a [Batcher].
type Stats struct {
	Calls   int // CheckpointDurableExecution requests, retries included
	Updates int // updates made durable
}

// A Ticket follows one enqueued update.
type Ticket struct {
	b   *Batcher // nil: enqueued after Close
	seq uint64
}

// closedTicket is the ticket Enqueue returns after Close.
var closedTicket = &Ticket{}

// Wait makes the ticket's update, and everything queued before it, leave now
// without lingering, and blocks until that update is durable (nil), the
// batcher failed (its sticky error), the batcher was closed first
// ([ErrClosed]) or ctx is done (ctx's error; the update still leaves).
func (t *Ticket) Wait(ctx context.Context) error {
	if t.b == nil {
		return ErrClosed
	}
	return t.b.wait(ctx, t.seq)
}

// Batcher sends the updates of one invocation to CheckpointDurableExecution.
// One flusher goroutine sends them in enqueue order, merges whatever is
// queued into one call up to the size caps, and chains the checkpoint
// tokens: each call uses the token the previous one returned. Its methods
// are safe for concurrent use.
type Batcher struct {
	api        API
	arn        string
	linger     time.Duration
	maxBytes   int
	maxUpdates int
	onState    func([]types.Operation)
	backoff    Backoff

	ctx    context.Context // the invocation's context; Close cancels it too
	cancel context.CancelFunc
	wake   chan struct{} // pokes the flusher; buffered, never blocks
	done   chan struct{} // closed when the flusher returns
	timer  *time.Timer   // pokes the flusher when the oldest update has lingered

	// Owned by the flusher goroutine.
	token *string
	ids   map[string]idUse // the Ids of the batch being built

	mu       sync.Mutex
	queue    []entry // queue[head:] waits to leave, in order
	head     int
	bytes    int       // estimated size of queue[head:]
	oldest   time.Time // when the oldest queued update was enqueued
	nextSeq  uint64    // sequence number of the next update
	sent     uint64    // updates before this sequence number have left
	durable  uint64    // updates before this sequence number are durable
	flushTo  uint64    // updates before this sequence number leave without lingering
	inFlight bool
	closed   bool // Close was called
	stopped  bool // the flusher returned
	terminal bool // a response came without a token
	err      error
	progress chan struct{} // closed and replaced when durable, err or stopped change
	tickets  []Ticket      // allocated, not yet handed out
	stats    Stats
}

type entry struct {
	u    types.OperationUpdate
	size int
}

// idUse is how a batch already uses an operation Id.
type idUse uint8

const (
	idStarted idUse = iota + 1 // a STEP or CONTEXT START: a later non-START may join it
	idClosed                   // anything else: the Id must wait for the next call
)

// New starts the flusher goroutine of a Batcher. ctx is the invocation's
// context, not one cancelled on suspension: its deadline bounds retries,
// and when it is done the flusher stops and pending tickets fail with an
// [*Error] wrapping ctx's error. Call Close when the invocation ends.
func New(ctx context.Context, cfg Config) *Batcher {
	if cfg.API == nil {
		panic("durable: checkpointer.New needs Config.API")
	}
	b := &Batcher{
		api:        cfg.API,
		arn:        cfg.ExecutionARN,
		linger:     cfg.Linger,
		maxBytes:   cfg.MaxBytes,
		maxUpdates: cfg.MaxUpdates,
		onState:    cfg.OnState,
		backoff:    cfg.Backoff.withDefaults(),
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		ids:        make(map[string]idUse),
		progress:   make(chan struct{}),
	}
	if b.linger == 0 {
		b.linger = defaultLinger
	}
	if b.maxBytes <= 0 {
		b.maxBytes = defaultMaxBytes
	}
	if b.maxUpdates <= 0 {
		b.maxUpdates = defaultMaxUpdates
	}
	token := cfg.Token
	b.token = &token
	b.ctx, b.cancel = context.WithCancel(ctx)
	b.timer = time.AfterFunc(time.Hour, b.poke)
	b.timer.Stop()
	go b.run()
	return b
}

// Enqueue queues an update and returns its ticket. Updates leave in enqueue
// order. Enqueue never waits for the network; the update leaves after
// Linger, or sooner when a ticket is awaited, Flush is called or a call's
// worth is queued. After Close the ticket fails with [ErrClosed]; after a
// failure, with the sticky error.
func (b *Batcher) Enqueue(u types.OperationUpdate) *Ticket {
	size := updateSize(&u)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return closedTicket
	}
	t := b.ticket()
	if b.terminal && b.err == nil {
		b.err = ErrTerminal
	}
	if b.err != nil {
		return t
	}
	if len(b.queue) == b.head {
		b.oldest = time.Now()
		if !b.inFlight {
			if b.linger > 0 {
				b.timer.Reset(b.linger)
			} else {
				b.poke()
			}
		}
	} else if len(b.queue) == cap(b.queue) && b.head >= len(b.queue)/2 {
		// Reuse the space of sent updates rather than grow; moving at most
		// as many entries as were sent keeps this amortized O(1).
		n := copy(b.queue, b.queue[b.head:])
		clear(b.queue[n:])
		b.queue, b.head = b.queue[:n], 0
	}
	b.queue = append(b.queue, entry{u: u, size: size})
	b.bytes += size
	if !b.inFlight && (len(b.queue)-b.head >= b.maxUpdates || b.bytes >= b.maxBytes) {
		b.poke()
	}
	return t
}

func (b *Batcher) ticket() *Ticket {
	if len(b.tickets) == 0 {
		b.tickets = make([]Ticket, ticketBlock)
	}
	t := &b.tickets[0]
	b.tickets = b.tickets[1:]
	t.b, t.seq = b, b.nextSeq
	b.nextSeq++
	return t
}

// Flush makes everything queued leave now and waits until it is durable.
// It returns nil when every update enqueued so far is durable, the sticky
// error if one failed, [ErrClosed] if Close came first, or ctx's error.
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	n := b.nextSeq
	b.mu.Unlock()
	if n == 0 {
		return nil
	}
	return b.wait(ctx, n-1)
}

func (b *Batcher) wait(ctx context.Context, seq uint64) error {
	b.mu.Lock()
	if seq >= b.flushTo {
		b.flushTo = seq + 1
		if seq >= b.sent && !b.inFlight {
			b.poke()
		}
	}
	for {
		if done, err := b.resolved(seq); done {
			b.mu.Unlock()
			return err
		}
		progress := b.progress
		b.mu.Unlock()
		select {
		case <-progress:
			b.mu.Lock()
		case <-ctx.Done():
			// Prefer the outcome, when there is one, to ctx's error.
			b.mu.Lock()
			done, err := b.resolved(seq)
			b.mu.Unlock()
			if done {
				return err
			}
			return ctx.Err()
		}
	}
}

// resolved reports whether the update with sequence number seq has an
// outcome, and which. Call it with b.mu held.
func (b *Batcher) resolved(seq uint64) (bool, error) {
	switch {
	case seq < b.durable:
		return true, nil
	case b.err != nil:
		return true, b.err
	case b.stopped:
		return true, ErrClosed
	}
	return false, nil
}

// Close stops the flusher without sending what is queued and waits for it
// to return; a call in flight is abandoned. Pending tickets fail with
// [ErrClosed] unless the batcher had already failed. Close is safe to call
// more than once.
func (b *Batcher) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	<-b.done
}

// Err returns the sticky error once a call has failed, the invocation's
// context ended, or an update was refused with [ErrTerminal]; nil otherwise.
func (b *Batcher) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Stats returns the calls made and the updates made durable so far.
func (b *Batcher) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

func (b *Batcher) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// broadcast wakes every waiter; call it with b.mu held.
func (b *Batcher) broadcast() {
	close(b.progress)
	b.progress = make(chan struct{})
}

// run is the flusher goroutine.
func (b *Batcher) run() {
	defer close(b.done)
	for {
		batch, ok := b.next()
		if !ok {
			return
		}
		if batch == nil {
			select {
			case <-b.wake:
			case <-b.ctx.Done():
			}
			continue
		}
		b.send(batch)
	}
}

// next returns the batch to send now, nil to wait for a poke, or false when
// the flusher must return.
func (b *Batcher) next() ([]types.OperationUpdate, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	queued := len(b.queue) - b.head
	switch {
	case b.closed || b.err != nil:
		b.stop(nil)
		return nil, false
	case b.ctx.Err() != nil:
		b.stop(&Error{Op: opCheckpoint, Retryable: true, Updates: queued, Err: b.ctx.Err()})
		return nil, false
	case b.terminal:
		// Nothing can be sent any more; Enqueue fails later updates.
		var err error
		if queued > 0 {
			err = ErrTerminal
		}
		b.stop(err)
		return nil, false
	case queued == 0:
		return nil, true
	}
	if b.flushTo <= b.sent && queued < b.maxUpdates && b.bytes < b.maxBytes {
		if wait := b.linger - time.Since(b.oldest); wait > 0 {
			b.timer.Reset(wait)
			return nil, true
		}
	}
	b.timer.Stop()
	return b.take(), true
}

// stop ends the flusher's work: queued updates are dropped and waiters
// resolve with err, the earlier sticky error, or ErrClosed. Call it with
// b.mu held.
func (b *Batcher) stop(err error) {
	if b.err == nil {
		b.err = err
	}
	b.stopped = true
	clear(b.queue)
	b.queue, b.head, b.bytes = nil, 0, 0
	b.timer.Stop()
	b.broadcast()
}

// take removes the next call's worth of updates from the queue. A call ends
// before the update that would break the caps, before an Id the call
// already carries (only a STEP or CONTEXT START may be followed by one more
// update of its Id, per the service's batch rule), and after an EXECUTION
// update, which must be last. Call it with b.mu held.
func (b *Batcher) take() []types.OperationUpdate {
	q := b.queue[b.head:]
	size := callOverhead + stringSize(*b.token)
	clear(b.ids)
	n := 0
	for n < len(q) && n < b.maxUpdates {
		e := &q[n]
		if n > 0 && size+e.size > b.maxBytes {
			break
		}
		if !b.admit(&e.u) {
			break
		}
		size += e.size
		n++
		if e.u.Type == types.OperationTypeExecution {
			break
		}
	}
	batch := make([]types.OperationUpdate, n)
	for i := range batch {
		batch[i] = q[i].u
		b.bytes -= q[i].size
	}
	clear(q[:n])
	b.head += n
	if b.head == len(b.queue) {
		b.queue, b.head = b.queue[:0], 0
	}
	b.sent += uint64(n)
	b.inFlight = true
	return batch
}

func (b *Batcher) admit(u *types.OperationUpdate) bool {
	var id string
	if u.Id != nil {
		id = *u.Id
	}
	use, seen := b.ids[id]
	switch {
	case !seen:
		if u.Action == types.OperationActionStart &&
			(u.Type == types.OperationTypeStep || u.Type == types.OperationTypeContext) {
			b.ids[id] = idStarted
		} else {
			b.ids[id] = idClosed
		}
		return true
	case use == idStarted && u.Action != types.OperationActionStart:
		b.ids[id] = idClosed
		return true
	}
	return false
}

// send makes one call, with retries, and releases its tickets.
func (b *Batcher) send(batch []types.OperationUpdate) {
	r := &request{in: lambda.CheckpointDurableExecutionInput{
		DurableExecutionArn: &b.arn,
		CheckpointToken:     b.token,
		Updates:             batch,
	}}
	r.clientToken = newClientToken()
	r.in.ClientToken = &r.clientToken
	out, calls, err := b.checkpoint(&r.in)
	var token *string
	if err == nil {
		token = out.CheckpointToken
		err = b.deliver(out.NewExecutionState, token)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight = false
	b.stats.Calls += calls
	if err != nil {
		if !b.closed {
			b.err = err
			b.broadcast()
		}
		return
	}
	b.durable += uint64(len(batch))
	b.stats.Updates += len(batch)
	if token == nil || *token == "" {
		b.terminal = true
	} else {
		b.token = token
	}
	b.broadcast()
}

// checkpoint calls the API, retrying transient errors with the same
// ClientToken and CheckpointToken, so that a call the service applied but
// whose answer was lost is answered from the service's idempotency cache.
func (b *Batcher) checkpoint(in *lambda.CheckpointDurableExecutionInput) (*lambda.CheckpointDurableExecutionOutput, int, error) {
	for attempt := 0; ; attempt++ {
		out, err := b.api.CheckpointDurableExecution(b.ctx, in)
		if err == nil {
			if out == nil {
				out = &lambda.CheckpointDurableExecutionOutput{}
			}
			return out, attempt + 1, nil
		}
		c := classify(err)
		if c != transient || b.ctx.Err() != nil || !b.backoff.pause(b.ctx, attempt) {
			return nil, attempt + 1, failure(b.ctx, opCheckpoint, len(in.Updates), err, c)
		}
	}
}

// deliver passes a response's operations to OnState, after reading the
// remaining pages with the new token. A terminal response has no token to
// read pages with; its first page is all there is.
func (b *Batcher) deliver(st *types.CheckpointUpdatedExecutionState, token *string) error {
	if st == nil {
		return nil
	}
	ops := st.Operations
	if st.NextMarker != nil && *st.NextMarker != "" && token != nil && *token != "" {
		more, err := fetchState(b.ctx, b.api, b.arn, *token, *st.NextMarker, b.backoff)
		if err != nil {
			return err
		}
		ops = append(ops, more...)
	}
	if b.onState != nil && len(ops) > 0 {
		b.onState(ops)
	}
	return nil
}

// request holds a call's input and its idempotency token in one allocation.
type request struct {
	in          lambda.CheckpointDurableExecutionInput
	clientToken string
}

// newClientToken returns a random UUIDv4 for a call's idempotency token.
func newClientToken() string {
	return uuid.NewString()
}
