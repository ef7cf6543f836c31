// Package checkpointer talks to the Lambda durable API for one invocation of
// a durable execution: it sends operation updates with
// CheckpointDurableExecution and reads state with GetDurableExecutionState.
//
// The [API] interface is the part of *lambda.Client the SDK uses, so the real
// client, the local service and test fakes all fit. The middleware creates
// one [Batcher] per invocation with the envelope's ARN and checkpoint token,
// reads the rest of the initial state with [FetchState], and closes the
// Batcher when the invocation ends. Operations call [Batcher.Enqueue] and,
// when an update must be durable before they go on, [Ticket.Wait].
//
//	b := checkpointer.New(ctx, checkpointer.Config{API: api, ExecutionARN: arn, Token: token, OnState: merge})
//	defer b.Close()
//	b.Enqueue(start)                        // leaves after Linger, or with the next urgent update
//	if err := b.Enqueue(succeed).Wait(ctx); err != nil { ... }
//	return b.Flush(ctx)                     // before answering Lambda
//
// # Batching
//
// One flusher goroutine per Batcher sends updates in enqueue order and chains
// the checkpoint tokens strictly: each call uses the token the previous call
// returned. Whatever is queued when a call can leave goes in one call, up to
// 250 updates and 750 KiB. An update waits at most Linger (20ms) for company;
// awaiting a ticket or calling Flush makes it and everything before it leave
// at once. So a quick step's START, enqueued without waiting, and its
// awaited SUCCEED leave in one call, while a long step's START leaves during
// the step. Updates enqueued while a call is in flight go in the next call,
// so concurrent work shares calls.
//
// A call never carries the same operation Id twice, except a STEP or CONTEXT
// START followed by one later update of that Id, and an EXECUTION update is
// always the last of its call: these are the service's batch rules. Splitting
// a batch keeps the order.
//
// # Modes
//
// [Mode] is the trade-off an execution picks for at-least-once steps; the
// step code applies it. In [Sync], the default, a step returns only when its
// SUCCEED is durable, so a crash can never re-run a step whose caller went
// on. In [Pipelined] the step returns at once and its SUCCEED leaves in the
// background, in order, with later updates: sequential quick steps share
// calls instead of costing one round trip each. The price: if the
// invocation crashes or times out before the SUCCEED is durable, the step
// runs again on the next invocation, though code after it may already have
// run. Anything that needs durability flushes first: at-most-once STARTs,
// waits, callbacks, invokes, retries and the end of the invocation all await
// their tickets, which makes everything queued before them durable too.
//
// # Errors
//
// Throttling (429), server errors (5xx) and network errors are retried with
// [Backoff] while the invocation's deadline leaves room. A failed call makes
// the Batcher fail: every pending and later ticket returns the same sticky
// [*Error], which tells the middleware what to do:
//
//   - Retryable: end the invocation with an error so that Lambda re-drives
//     it. That is the case for a rejected checkpoint token (errors.Is
//     [ErrInvalidCheckpointToken]), for transient errors that outlived the
//     deadline, and for a cancelled invocation context.
//   - Not retryable: any other 4xx, which the service would give again;
//     the execution must fail.
//
// A response without a checkpoint token means the execution has reached a
// terminal state; later updates fail with [ErrTerminal]. After
// [Batcher.Close], tickets fail with [ErrClosed]. When the context given to
// [Ticket.Wait] or [Batcher.Flush] ends first, they return its error as it
// is, and the updates still leave.
package checkpointer
