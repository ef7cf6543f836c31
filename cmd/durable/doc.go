// Command durable runs AWS Lambda durable functions on the local durable
// execution service of package local: the Lambda durable execution API on
// SQLite, with handler binaries as functions, and the client commands to
// drive it.
//
// Start the service with the handler binaries it runs (programs calling
// adapters.Start with middleware.Durable, as deployed to Lambda):
//
//	go build -o bin/orders ./path/to/handler
//	durable serve --function orders=bin/orders
//
// serve listens on 127.0.0.1:9014 (--addr) and keeps its state in
// .durable/durable.db (--db): stopped or killed, it resumes the running
// executions when started again on the same database. Each binary runs as a
// child process behind a loopback Lambda Runtime API, with the usual Lambda
// environment, AWS_ENDPOINT_URL_LAMBDA pointing at the service (so the AWS
// SDK in the handler checkpoints there) and the variables given with --env.
// The handlers' output goes to serve's standard error, with a line for each
// execution started or ended and each invocation (-v: every history event).
//
// From another terminal, drive it with the AWS SDK's Lambda client, as a
// program would drive AWS:
//
//	durable start orders --input '{"id":"o-1"}'     # follow the events until the end
//	durable start orders --input @order.json --async  # print the ARN and return
//	durable list orders --status RUNNING
//	durable get ARN
//	durable history ARN                               # a table; --json for the API's events
//	durable callback succeed ID --result '{"ok":true}'
//	durable callback fail ID --error-type Rejected --error-message "no stock"
//	durable callback heartbeat ID
//	durable stop ARN
//
// The client commands find the service at --endpoint (default
// http://127.0.0.1:9014, or $DURABLE_ENDPOINT). start exits with status 1
// when the execution does not succeed, so scripts can test it; usage errors
// exit with status 2.
//
// durable conformance runs AWS's conformance requirements (YAML files laid
// out as DIR/<suite>/<id>.yaml) against this SDK's handlers on an in-process
// service, and exits with status 1 if one fails:
//
//	durable conformance --requirements conformance/testdata/core --suite step --json report.json
//
// Flags may come before or after the positional arguments; run
// durable help COMMAND for the flags of each command.
package main
