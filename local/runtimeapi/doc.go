// Package runtimeapi runs real AWS Lambda handler binaries locally, the way
// the Lambda service runs them: as a child process that pulls work from an
// implementation of the Lambda Runtime API.
//
// A [Function] owns one handler binary (for example a Go program calling
// lambda.Start from github.com/aws/aws-lambda-go). The binary is started
// lazily on the first invocation as a child process whose environment mirrors
// a Lambda sandbox: AWS_LAMBDA_RUNTIME_API points at a loopback HTTP server
// (127.0.0.1, free port) serving the routes the aws-lambda-go runtime client
// uses:
//
//	GET  /2018-06-01/runtime/invocation/next           long-poll for the next event
//	POST /2018-06-01/runtime/invocation/{id}/response  handler result
//	POST /2018-06-01/runtime/invocation/{id}/error     handler error (JSON body)
//	POST /2018-06-01/runtime/init/error                initialization failure
//
// Each process gets its own server on a fresh port, so a late request from a
// killed process can never take an event meant for its successor. The server
// also provides the minimal subset of the Extensions API (register and
// event/next) that aws-lambda-go's lambda.WithEnableSIGTERM uses, so such
// handlers get a SIGTERM, and a 500ms grace period, on [Function.Close].
//
// The environment also carries the usual Lambda variables
// (AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION=$LATEST,
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_REGION, AWS_DEFAULT_REGION,
// AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, _HANDLER,
// LAMBDA_TASK_ROOT, TZ=:UTC, ...), dummy AWS credentials and any extra
// variables given with [WithEnv]. The parent environment is not inherited,
// apart from PATH and a few OS essentials, unless [WithInheritEnv] is used.
//
// [Function.Invoke] hands a payload to the pending /next long-poll and waits
// for the matching /response or /error. Its signature matches the
// lambda.Handler interface of aws-lambda-go, so a *Function can stand in
// wherever a handler is expected. Invocations on one Function are
// serialized, as in a single Lambda sandbox. As in Lambda, the invocation
// timeout ([WithTimeout], default 3s, capped by the context deadline) starts
// when the event is handed over; a cold start is bounded separately
// ([WithInitTimeout], default 10s).
//
// Failures are reported with typed errors, each carrying the Lambda error
// type string (ErrorType) and a Lambda-style JSON error document
// (ErrorPayload); all of them satisfy [FunctionError]:
//
//   - [*InvocationError]: the handler reported an error (or panicked); the
//     aws-lambda-go error document {errorMessage, errorType, stackTrace} is
//     parsed. Also used for an error posted to /init/error (Init is true) and
//     for an oversized response ("Function.ResponseSizeTooLarge").
//   - [*ExitError]: the process exited during an invocation or before it
//     finished initializing ("Runtime.ExitError"), or could not be started at
//     all ("Runtime.InvalidEntrypoint").
//   - [*TimeoutError]: the invocation outlived its deadline
//     ("Sandbox.Timedout"); the process is killed.
//
// Like Lambda, a Function starts a fresh process (sandbox) for the next
// invocation after a crash, a timeout, a panic or a cancellation; a healthy
// process is reused between invocations.
package runtimeapi
