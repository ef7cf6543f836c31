package conformance

import (
	"fmt"
	"math"
)

// MatchHistory matches the expected events of a requirement against an
// actual history (README §2.4, §4.6) and returns the failures, none on
// success. Placeholders bound on the way stay in b, also when the match
// fails, as they do in the Python runner.
//
// Actual events are indexed by their integer EventId; events without one are
// ignored. Each expected event names the actual event it describes by its
// EventId and is matched against it with [MatchValue]. Order and extra
// events are never checked: dense EventIds already encode the order.
//
// In the async flow, call [RestoreCallbackNames] on the events first.
func MatchHistory(expected []Map, actual []map[string]any, b *Bindings) []Failure {
	byID := make(map[int64]map[string]any, len(actual))
	for _, ev := range actual {
		if id, ok := eventID(ev["EventId"]); ok {
			byID[id] = ev
		}
	}
	var failures []Failure
	for i, want := range expected {
		raw, ok := want.Get("EventId")
		if !ok {
			failures = append(failures, Failure{Phase: PhaseHistory, Path: fmt.Sprintf("ExpectedExecutionHistory[%d]", i), Message: "expected event has no EventId"})
			continue
		}
		id, ok := eventID(raw)
		if !ok {
			failures = append(failures, Failure{Phase: PhaseHistory, Path: fmt.Sprintf("ExpectedExecutionHistory[%d]", i), Message: fmt.Sprintf("EventId %s is not an integer", describe(raw))})
			continue
		}
		got, ok := byID[id]
		if !ok {
			failures = append(failures, Failure{Phase: PhaseHistory, Message: fmt.Sprintf("No actual event found for EventId=%d", id)})
			continue
		}
		failures = append(failures, MatchValue(want, got, fmt.Sprintf("EventId=%d", id), b)...)
	}
	return failures
}

// eventID reads an EventId, which JSON decoding may have made any numeric
// type. Non-integral numbers are not ids.
func eventID(v any) (int64, bool) {
	n, ok := toNumber(v)
	if !ok {
		return 0, false
	}
	if n.isInt {
		return n.i, true
	}
	if n.f != math.Trunc(n.f) || math.IsInf(n.f, 0) {
		return 0, false
	}
	return int64(n.f), true
}

// RestoreCallbackNames gives the inner events of a wait_for_callback the
// name of their context, in place, as the Python runner does before every
// match and callback selection of the async flow (README §2.3 step 2): a
// CallbackStarted, StepStarted or StepSucceeded event without a Name whose
// ParentId is the Id of an event with SubType WaitForCallback takes that
// event's Name.
func RestoreCallbackNames(events []map[string]any) {
	names := map[any]any{}
	for _, ev := range events {
		if ev["SubType"] != "WaitForCallback" {
			continue
		}
		id, name := ev["Id"], ev["Name"]
		if id == nil || !truthy(name) {
			continue
		}
		if _, seen := names[id]; !seen {
			names[id] = name
		}
	}
	for _, ev := range events {
		switch ev["EventType"] {
		case "CallbackStarted", "StepStarted", "StepSucceeded":
		default:
			continue
		}
		if truthy(ev["Name"]) {
			continue
		}
		parent, ok := ev["ParentId"].(string)
		if !ok {
			continue
		}
		if name, ok := names[parent]; ok {
			ev["Name"] = name
		}
	}
}

// truthy is Python's truth value for the scalars found in events.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case bool:
		return v
	}
	if n, ok := toNumber(v); ok {
		return n.float() != 0
	}
	return mapLen(v) > 0
}

// Terminal execution statuses, as GetDurableExecution reports them.
const (
	ExecutionSucceeded = "SUCCEEDED"
	ExecutionFailed    = "FAILED"
	ExecutionTimedOut  = "TIMED_OUT"
	ExecutionStopped   = "STOPPED"
)

// TerminalStatus reads the execution status from a history's terminal event:
// ExecutionSucceeded, ExecutionFailed, ExecutionTimedOut, or
// ExecutionStopped (ExecutionCancelled in the runner's vocabulary). ok is
// false while the execution runs.
func TerminalStatus(events []map[string]any) (status string, ok bool) {
	for _, ev := range events {
		switch ev["EventType"] {
		case "ExecutionSucceeded":
			return ExecutionSucceeded, true
		case "ExecutionFailed":
			return ExecutionFailed, true
		case "ExecutionTimedOut":
			return ExecutionTimedOut, true
		case "ExecutionStopped", "ExecutionCancelled":
			return ExecutionStopped, true
		}
	}
	return "", false
}
