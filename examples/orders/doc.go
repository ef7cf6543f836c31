// Command orders runs an order workflow on the embedded local durable
// execution service, in one process and on the real clock, and shows what the
// service records as it goes:
//
//	go run ./examples/orders
//
// The workflow (workflow.go) validates an order in a step, reserves stock with
// a map, charges the card in a step that fails once and is retried a second
// later, waits for a manager's approval through a callback, cools off for two
// seconds and ships the order in a child context. The service keeps its state
// in .durable/durable.db (SQLite, created if needed); each run starts a new
// execution with a fresh name, so the command can run any number of times.
//
// It prints a line per completed operation while the execution runs, then the
// execution's history as a table, and exits with status 0 only if the
// execution SUCCEEDED.
package main
