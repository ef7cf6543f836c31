// Package otel traces durable executions with OpenTelemetry. [Hooks] returns
// lifecycle hooks for the middleware that turn an execution into spans laid
// out as AWS's durable-execution conformance suite specifies, so that the
// same traces come out of a Go function as out of the official SDKs.
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithIDGenerator(otel.IDGenerator{}), // required: see "Ids" below
//		sdktrace.WithBatcher(exporter),
//		sdktrace.WithResource(res),
//	)
//	otelapi.SetTracerProvider(tp)
//	adapters.Start(adapters.Handler(handler),
//		middleware.Durable(middleware.WithHooks(otel.Hooks())))
//
// The package uses the OpenTelemetry API only; the SDK, exporters and
// propagators are the program's choice.
//
// # Spans
//
// Every span is INTERNAL and carries durable.execution.arn.
//
//   - Workflow: the execution, from its start to its end, emitted once, by
//     the invocation that ends it: OK if it SUCCEEDED, ERROR if it FAILED,
//     with durable.execution.status. An execution that times out or is
//     stopped by the service has none. It is the root of its trace.
//   - Invocation: one Lambda invocation, with durable.invocation.first and
//     durable.invocation.status (SUCCEEDED, PENDING, FAILED, or RETRY when the
//     invocation itself failed and Lambda invokes it again); OK for
//     SUCCEEDED and PENDING, ERROR for FAILED.
//   - an operation span, named after the operation (or its type, STEP,
//     WAIT..., when it has no name), with durable.operation.id, .type,
//     .subtype, .name and .status (STARTED, SUCCEEDED or FAILED), and
//     durable.attempt.number on the terminal span of a step, a
//     wait-for-condition or a callback submitter.
//   - "<operation name> attempt <n>": one run of a user function that counts
//     as an attempt (a step's, a wait-for-condition check, a callback
//     submitter), with durable.attempt.number and durable.attempt.outcome
//     (SUCCEEDED or FAILED). Spans the function starts with its context are
//     its children.
//
// Failed operations and attempts record the error as an exception event.
//
// # Views
//
// A durable execution runs over invocations that may be days apart, in
// different processes. [WithView] chooses how its spans are laid out.
//
// The invocation view ([InvocationView], the default) draws what each
// invocation did. Each Invocation span holds the operations that ran in it,
// nested as they are in the workflow, each linked to the execution's
// Workflow span. An operation that starts in one invocation and completes in
// a later one (a wait, a callback, a step retried after a delay) has two
// spans with the same operation id: a STARTED span (status UNSET, no attempt
// number) ending with the first invocation, holding the attempts that ran
// there, and a terminal span in the invocation that sees it complete. An
// invocation's spans are complete when it ends, which suits per-invocation
// tools: X-Ray's view of a Lambda function, latency by invocation.
//
// The execution view ([ExecutionView]) draws the workflow. The Workflow span
// holds exactly one span per operation, from its start to its completion,
// emitted when it completes and linked to the Invocation span it completed
// in; each attempt is linked to the Invocation span it ran in. An operation
// spanning invocations is one long span, and the trace reads as the
// workflow's timeline; until the execution ends, its spans wait for the
// Workflow span that holds them.
//
// # Ids
//
// A span emitted by one invocation must name as parent, or link to, a span
// that another invocation, maybe in another process, emits: the Workflow
// span is emitted only when the execution ends. So the durable spans' ids are
// derived, not drawn: the execution's trace id from the execution's start
// time (its first four bytes, as X-Ray trace ids begin) and a hash of its
// ARN, the Workflow span id from the ARN, an operation span id from the ARN
// and the operation id. The tracer provider must give the spans those ids:
// create it with [IDGenerator], which leaves every other span to random ids
// or to the generator it wraps (X-Ray's, for instance). Without it, spans
// are still emitted but their parents and links across invocations dangle,
// and the hooks say so once through the OpenTelemetry error handler.
//
// The Invocation span is the child of the span in the invocation's context
// when there is one (tracing middleware wrapped around the durable one, such
// as otellambda's), else of the span the X-Ray trace header names (the
// "x-amzn-trace-id" context value aws-lambda-go sets, or _X_AMZN_TRACE_ID):
// Lambda's own segment, so each invocation appears under its Lambda
// invocation in X-Ray. Without either (running locally), it is a child of
// the Workflow span, so that all invocations join the execution's trace and
// every trace has one root.
//
// # Replay
//
// Replayed operations emit no spans: an operation gets spans only in the
// invocations where it starts, runs or is first seen complete (a wait that
// elapsed while the function was suspended). Every span is started when it
// ends, with its recorded start time, so nothing is held open across a
// suspension and a child may name a parent that is not yet emitted.
//
// # Flushing
//
// Lambda may freeze the process as soon as an invocation answers. When the
// tracer provider has a ForceFlush(context.Context) error method, as the
// SDK's does, the hooks call it before the invocation answers, bounded by the
// invocation's deadline.
package otel
