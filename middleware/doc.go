// Package middleware turns an aws-lambda-go handler into a durable one.
//
// [Durable] is a func(lambda.Handler) lambda.Handler, like any aws-lambda-go
// middleware. For each invocation it decodes the durable envelope Lambda
// sends, reads the rest of the execution state, puts the execution in the
// handler's context, and runs the next handler with the user's event as its
// payload. It answers Lambda with the outcome:
//
//   - SUCCEEDED with the handler's result. A result over 6 MiB is
//     checkpointed on the EXECUTION operation first and answered empty.
//   - FAILED with the handler's error, a non-deterministic replay, or a
//     checkpoint rejected by the service.
//   - PENDING when an operation suspended the execution, whatever the
//     handler returned, once running branches have settled and every
//     checkpoint is durable.
//
// A checkpoint failure Lambda should retry (an invalid checkpoint token,
// throttling or service errors that outlived the invocation) makes Invoke
// return an error, so Lambda invokes the function again. No goroutine
// outlives an invocation.
//
//	adapters.Start(adapters.Handler(handler), middleware.Durable())
package middleware
