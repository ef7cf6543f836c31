// Package local is an embedded durable execution service: the part of AWS
// Lambda that runs durable functions, in your process. It keeps executions
// and their operations, answers the SDK's checkpoints, runs timers,
// callbacks and chained invokes, re-invokes functions the way Lambda does,
// and records each execution's history event for event as AWS records it.
// Tests, the durable CLI and the conformance suite run on it; the same
// handler binary runs on AWS and here unchanged.
//
//	s, err := local.New(local.WithAutoAdvance())
//	if err != nil { ... }
//	defer s.Close()
//	s.Register("orders", middleware.Wrap(adapters.Handler(handler), middleware.WithAPI(s.API())))
//	arn, err := s.Start(ctx, "orders", []byte(`{"id":"42"}`))
//	out, err := s.Wait(ctx, arn) // a 24-hour wait takes milliseconds
//
// # Functions
//
// A function is a durable Lambda function: [Service.Register] takes an
// in-process lambda.Handler, [Service.RegisterBinary] a handler binary run
// as a child process behind a loopback Lambda Runtime API (package
// runtimeapi). [FunctionOption]s set its DurableConfig
// ([WithExecutionTimeout], [WithRetentionPeriod]) and its function timeout
// ([WithFunctionTimeout]).
//
// The service invokes a function with the durable invocation input
// (protocol.md §1.1): the execution ARN, a checkpoint token, and the
// operations in start order, the EXECUTION operation first with the
// execution id (the ARN's last segment) as its Id and the user's event as its
// InputPayload; timestamps in epoch milliseconds; a NextMarker when the
// state exceeds 5 MiB. The context carries a lambdacontext.LambdaContext
// (AwsRequestID, InvokedFunctionArn, TenantID) and the function timeout as
// deadline. The function answers SUCCEEDED, FAILED or PENDING (§1.2).
//
// One invocation of an execution runs at a time. Every asynchronous
// completion (a wait elapsed, a retry due, a callback completed or timed out,
// a chained invoke finished) triggers an invocation, queued if one is
// running. An invocation fails when the handler returns an error, panics,
// calls [Crash], outlives its timeout or answers something invalid (PENDING
// with nothing pending, FAILED with a Result, ...): the history records its
// InvocationCompleted with the error (ErrorType "Runtime.ExitError" for
// crashes and panics, the error's Go type name for a returned error), the
// execution is invoked again after a back-off of 5 s on the service clock,
// and the fifth failure in a row fails the execution
// ([WithFailedInvocationPolicy]).
//
// A chained invoke's target runs as a durable execution of its own; its
// first invocation starts once the caller's invocation has ended (or 200 ms
// of wall time later), as practically always on AWS, which keeps histories
// deterministic. Functions are found by name, partial or full ARN; the
// qualifier is recorded but every function has the one version $LATEST.
//
// # The API
//
// [Service.API] returns a [*Client] whose methods have the signatures of
// *lambda.Client from aws-sdk-go-v2 (so it satisfies checkpointer.API):
// CheckpointDurableExecution, GetDurableExecutionState, GetDurableExecution,
// GetDurableExecutionHistory, ListDurableExecutionsByFunction,
// StopDurableExecution, SendDurableExecutionCallbackSuccess, ...Failure,
// ...Heartbeat and Invoke. It calls the service directly, without HTTP or
// JSON, and its errors look like the real client's, down to the typed
// exceptions and HTTP status codes.
//
// [Service.Handler] serves the same API over HTTP with the routes, JSON
// shapes (epoch-second timestamps) and error responses (X-Amzn-ErrorType) of
// Lambda, so that any AWS SDK works with only its endpoint changed:
//
//	client := lambda.New(lambda.Options{Region: "us-east-1",
//		BaseEndpoint: aws.String(s.URL()), Credentials: ...})
//
// [Service.ListenAndServe] binds 127.0.0.1 unless told otherwise.
// Requests are not authenticated.
//
// The checkpoint protocol follows protocol.md §3: each call consumes the
// current token and returns a new one (none after the EXECUTION operation
// ended the execution); a token names its invocation, so an earlier
// invocation's tokens are refused with InvalidParameterValueException
// "Invalid Checkpoint Token", which the SDKs retry by ending the invocation;
// a retried request with the same ClientToken and token gets the same
// answer; NewExecutionState holds the operations changed since the handler
// last saw them, including timers completed meanwhile. The state leaves out
// the descendants of completed contexts unless they asked for
// ReplayChildren. Batches are validated whole, with the official emulators'
// messages, before anything is applied.
//
// Callback ids are random and route themselves to their execution. Payloads
// are limited to 1 MiB per operation (6 MiB for the execution's result) and
// error objects to 1 MiB.
//
// # History
//
// Events are recorded when they happen, which gives AWS's order and dense
// EventIds from 1 (see the conformance requirements): ExecutionStarted; one
// event per checkpointed update (a RETRY is a StepFailed, or a StepSucceeded
// without an error, with RetryDetails; a step becoming READY records
// nothing); the service's own transitions (WaitSucceeded, Callback*,
// ChainedInvoke*, ExecutionTimedOut, ExecutionStopped); InvocationCompleted
// when an invocation ends, followed by ExecutionSucceeded or ExecutionFailed
// when its answer ended the execution. Every event has its <Type>Details
// object, and every payload a Truncated flag.
//
// # Clocks
//
// The service reads time and runs its timers on a [Clock]: [RealClock] by
// default, or a [VirtualClock] ([WithClock]) whose time moves only when
// told. Tests drive a virtual clock with [Service.WaitIdle] (no invocation
// running or queued), [Service.AdvanceToNextTimer] (jump to the earliest
// timer and fire it) and [Service.RunUntilTerminal] (both, until the
// execution ends), or directly through the clock. [WithAutoAdvance] makes
// the service jump to the next wait or retry by itself whenever it is idle;
// timeouts then fire on the way but never pull time forward, so an execution
// waiting for a callback waits for it. [WithIdleFunc] observes idleness.
// Function timeouts and the 15-minute limit of a synchronous Invoke are
// measured on the wall clock.
//
// # Stores
//
// Executions, operations and events are persisted through a [Store] before
// the service answers the request that changed them. [MemoryStore] (the
// default) outlives a [Service] but not the process; [SQLiteStore]
// ([WithDatabase], [OpenSQLite]) keeps everything in one SQLite file (pure
// Go, WAL, synchronous=FULL). A service started on the store of one that was
// closed, or that crashed, resumes its running executions: timers are
// re-armed relative to the new clock, an invocation that was cut short is
// recorded as failed (Runtime.ExitError) and run again, and executions wait
// for their function to be registered. On a real clock, finished executions
// are deleted once their retention period has passed.
//
// # Decisions
//
// Where AWS's behavior is unknown the service chooses, and says so here:
// ExecutionTimeout defaults to the maximum, 366 days, so that nothing times
// out unless asked; execution names are unique per function, and a
// repeated name with the same input returns the existing execution;
// stopping a finished execution returns its end time; a CANCEL of a chained
// invoke stops its target and records ChainedInvokeStopped; a chained
// invoke of an unknown function fails at once with ResourceNotFoundException;
// unknown or stale callback ids are InvalidParameterValueException, timed-out
// ones CallbackTimeoutException; a synchronous Invoke of an execution that
// does not succeed answers a function error document with FunctionError
// "Unhandled".
package local
