// Package conformance checks runs of durable handlers against AWS's
// language-neutral conformance requirements, with the decisions of the
// official Python runner. It has two halves: the engine-independent part,
// which loads requirements and judges what a run produced, and the driver
// ([NewDriver], [Registry]), which runs each requirement's handler on a
// fresh embedded local service (package local) with a virtual clock, serves
// its callback actions, and feeds the history, result, logs and spans to the
// judging half. [Handlers] is the registry of this project's Go handler for
// every requirement; `go test ./conformance/` runs them all.
//
// The requirements are vendored under testdata/ (core/<suite>/<id>.yaml and
// otel/<suite>/<id>.yaml, Apache-2.0, see testdata/LICENSE and NOTICE);
// testdata/README.md specifies the rules this package implements, and the
// doc comments cite its sections.
//
// # Loading
//
// [LoadDir] parses every requirement with the Python runner's YAML types
// (YAML 1.1: yes/no are booleans, blank values null, quoted strings
// strings), validates it, and fails loudly with a [*SetupError] on keys it
// does not know. [Select] filters by suite and ID. Mappings keep their key
// order ([Map]) because callback payloads reach the wire as Python
// json.dumps text.
//
// # A requirement run
//
// Each run has one [Bindings], the placeholder context: the Variables
// ([NewBindings]), then every ${NAME} bound while matching the history, then
// EXECUTION_ARN and SERVICE_NAME for telemetry. The driver then calls, in
// order, stopping at the first phase that fails:
//
//   - [Requirement.Event] for the event payload;
//   - in the async flow, each poll round: [RestoreCallbackNames],
//     [TerminalStatus], [CallbackServer.Round] for the callback sends, and in
//     history-only mode [MatchHistory];
//   - [MatchHistory] on the final history ([DecodeHistory] or
//     [EventsFromSDK] give its shape);
//   - [CheckResult] with what GetDurableExecution reported;
//   - [CheckLogs] over [VisibleLogs] of the captured log lines;
//   - [CheckTelemetry] over the exported spans ([SpansFromStubs]).
//
// Every check returns [Failure] values carrying their phase and a location
// in the requirement:
//
//	history: EventId=5: StepSucceededDetails.Result.Payload: expected "\"x\"", got "\"y\""
//
// A [Result] collects them with the bindings and the execution ARN;
// [Summarize] and [WriteJSON] report a whole run.
//
// # Python semantics
//
// Where an outcome depends on Python, the package reproduces it: regexes
// search Python's str() of a value ([PythonStr]: True, None, integers
// without a decimal point); callback success payloads are json.dumps text
// with ", " and ": " separators and ASCII escapes ([PythonJSON]); numbers
// compare by value, so 1 equals 1.0 ([Equal]). One deliberate difference:
// a boolean never equals a number.
//
// Nothing here is safe for concurrent use unless stated; a run is
// sequential.
package conformance
