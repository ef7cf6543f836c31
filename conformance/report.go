package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Phase names the part of a requirement run a failure comes from. Reports
// prefix every error with it.
type Phase string

// The phases of a requirement run, in the order the driver runs them.
const (
	PhaseSetup     Phase = "setup"
	PhaseHistory   Phase = "history"
	PhaseResult    Phase = "result"
	PhaseLogs      Phase = "logs"
	PhaseTelemetry Phase = "telemetry"
)

// Failure is one unmet expectation. Path locates it in the requirement, for
// example "EventId=5: StepSucceededDetails.Result.Payload",
// "ExpectedLogs[2]" or "span_assertions[3].expect.links[0]"; it is empty
// when the message says it all.
type Failure struct {
	Phase   Phase
	Path    string
	Message string
}

// String renders the failure as a report line:
//
//	history: EventId=5: StepSucceededDetails.Result.Payload: expected "\"x\"", got "\"y\""
func (f Failure) String() string {
	if f.Path == "" {
		return string(f.Phase) + ": " + f.Message
	}
	return string(f.Phase) + ": " + f.Path + ": " + f.Message
}

// Error makes a Failure usable as an error.
func (f Failure) Error() string { return f.String() }

// Status is the outcome of one requirement (README §4.10).
type Status string

// The statuses of the official runner.
const (
	// StatusPassed: mapped to a handler and every phase passed.
	StatusPassed Status = "PASSED"
	// StatusFailed: mapped and some phase failed. It blocks.
	StatusFailed Status = "FAILED"
	// StatusOptionalFailed: failed, but the requirement is optional.
	StatusOptionalFailed Status = "OPTIONAL_FAILED"
	// StatusNotImplemented: declared as a deliberate gap, not mapped.
	StatusNotImplemented Status = "NOT_IMPLEMENTED"
	// StatusUncovered: neither mapped nor declared.
	StatusUncovered Status = "UNCOVERED"
)

// Result is the record of one requirement in a report (README §4.2).
type Result struct {
	ID          string `json:"id"`
	Suite       string `json:"suite"`
	Description string `json:"description,omitempty"`
	Status      Status `json:"status"`
	// Reason is the NotImplemented reason, or why a requirement could not run.
	Reason string `json:"reason,omitempty"`
	// Errors are the failures in order, each prefixed with its phase.
	Errors []string `json:"errors,omitempty"`
	// Bindings are the placeholder values of the run, for reproducing it.
	Bindings     map[string]any `json:"bindings,omitempty"`
	ExecutionArn string         `json:"executionArn,omitempty"`
	// Warnings do not affect the status, e.g. an ID both mapped and declared
	// not implemented.
	Warnings []string `json:"warnings,omitempty"`
}

// NewResult starts the record of a requirement run.
func NewResult(req *Requirement) *Result {
	return &Result{ID: req.ID, Suite: req.Suite, Description: req.Description}
}

// Add records failures.
func (r *Result) Add(failures ...Failure) {
	for _, f := range failures {
		r.Errors = append(r.Errors, f.String())
	}
}

// Finish sets the status of a run: PASSED without errors, otherwise FAILED,
// or OPTIONAL_FAILED for an optional requirement.
func (r *Result) Finish(optional bool) {
	switch {
	case len(r.Errors) == 0:
		r.Status = StatusPassed
	case optional:
		r.Status = StatusOptionalFailed
	default:
		r.Status = StatusFailed
	}
}

// NotImplemented is the record of a requirement declared as a gap.
func NotImplemented(req *Requirement, reason string) Result {
	return Result{ID: req.ID, Suite: req.Suite, Description: req.Description, Status: StatusNotImplemented, Reason: reason}
}

// Uncovered is the record of a requirement no handler serves.
func Uncovered(req *Requirement) Result {
	return Result{ID: req.ID, Suite: req.Suite, Description: req.Description, Status: StatusUncovered}
}

// NotFound is the record of an ID a handler is mapped to but no requirement
// file defines.
func NotFound(id string) Result {
	return Result{ID: id, Status: StatusFailed, Errors: []string{Failure{Phase: PhaseSetup, Message: "test file not found"}.String()}}
}

// Summary counts results by status.
type Summary struct {
	Passed         int `json:"passed"`
	Failed         int `json:"failed"`
	OptionalFailed int `json:"optionalFailed"`
	NotImplemented int `json:"notImplemented"`
	Uncovered      int `json:"uncovered"`
}

// Summarize counts results by status.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Status {
		case StatusPassed:
			s.Passed++
		case StatusFailed:
			s.Failed++
		case StatusOptionalFailed:
			s.OptionalFailed++
		case StatusNotImplemented:
			s.NotImplemented++
		case StatusUncovered:
			s.Uncovered++
		}
	}
	return s
}

// String is the console summary line:
//
//	conformance: 120 passed, 2 failed, 5 not implemented, 16 uncovered
//
// Optional failures, which never block, are appended only when there are
// some: ", 1 optional failed".
func (s Summary) String() string {
	line := fmt.Sprintf("conformance: %d passed, %d failed, %d not implemented, %d uncovered", s.Passed, s.Failed, s.NotImplemented, s.Uncovered)
	if s.OptionalFailed > 0 {
		line += fmt.Sprintf(", %d optional failed", s.OptionalFailed)
	}
	return line
}

// FailOn is the policy deciding which statuses make a run fail.
type FailOn string

// The fail-on policies of the official runner.
const (
	FailOnFailed          FailOn = "failed"
	FailOnFailedUncovered FailOn = "failed+uncovered"
)

// ParseFailOn parses a --fail-on value.
func ParseFailOn(s string) (FailOn, error) {
	switch p := FailOn(strings.ToLower(strings.TrimSpace(s))); p {
	case FailOnFailed, FailOnFailedUncovered:
		return p, nil
	}
	return "", fmt.Errorf("conformance: unknown fail-on policy %q: use %q or %q", s, FailOnFailed, FailOnFailedUncovered)
}

// Blocking reports whether the summary fails the run under policy: any
// FAILED result does; UNCOVERED ones do under failed+uncovered.
// OPTIONAL_FAILED and NOT_IMPLEMENTED never do.
func (s Summary) Blocking(policy FailOn) bool {
	return s.Failed > 0 || (policy == FailOnFailedUncovered && s.Uncovered > 0)
}

// Report is the machine-readable report of a run.
type Report struct {
	Summary Summary  `json:"summary"`
	Results []Result `json:"results"`
}

// WriteJSON writes the report of results as indented JSON.
func WriteJSON(w io.Writer, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Report{Summary: Summarize(results), Results: results}); err != nil {
		return fmt.Errorf("conformance: write report: %w", err)
	}
	return nil
}
