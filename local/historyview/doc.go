// Package historyview renders the history of a durable execution, the
// events returned by GetDurableExecutionHistory, as text for people: a table
// of every event (WriteTable) and a line per event as they are recorded
// (Progress). Read fetches every page of a history to render.
//
// Both views indent operations under the operation that contains them, name
// each operation by its kind (step, wait, callback, map, map-item, parallel,
// branch, child, wait-for-callback, wait-for-condition, invoke) and keep
// results and errors to one short line.
//
// It serves the durable command line tool and the examples; the output is
// meant to be read, not parsed, and may change.
package historyview
