package conformance

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestResultStatus(t *testing.T) {
	req := &Requirement{ID: "1-7", Suite: "step", Description: "Step with context logger", Optional: true}
	r := NewResult(req)
	r.Finish(req.Optional)
	if r.Status != StatusPassed {
		t.Errorf("no errors: %s", r.Status)
	}
	r = NewResult(req)
	r.Add(Failure{Phase: PhaseLogs, Path: "ExpectedLogs[0]", Message: "expected 1 records"}, Failure{Phase: PhaseSetup, Message: "log capture unavailable"})
	r.Finish(true)
	if r.Status != StatusOptionalFailed {
		t.Errorf("optional failure: %s", r.Status)
	}
	r.Finish(false)
	if r.Status != StatusFailed {
		t.Errorf("failure: %s", r.Status)
	}
	if want := []string{"logs: ExpectedLogs[0]: expected 1 records", "setup: log capture unavailable"}; strings.Join(r.Errors, "|") != strings.Join(want, "|") {
		t.Errorf("Errors = %q", r.Errors)
	}
	if ni := NotImplemented(req, "no logger"); ni.Status != StatusNotImplemented || ni.Reason != "no logger" {
		t.Errorf("NotImplemented = %+v", ni)
	}
	if nf := NotFound("9-99"); nf.Status != StatusFailed || nf.Errors[0] != "setup: test file not found" {
		t.Errorf("NotFound = %+v", nf)
	}
	if u := Uncovered(req); u.Status != StatusUncovered || u.ID != "1-7" {
		t.Errorf("Uncovered = %+v", u)
	}
}

func TestSummary(t *testing.T) {
	results := []Result{
		{Status: StatusPassed}, {Status: StatusPassed}, {Status: StatusFailed},
		{Status: StatusNotImplemented}, {Status: StatusUncovered}, {Status: StatusUncovered}, {Status: StatusUncovered},
	}
	s := Summarize(results)
	if got, want := s.String(), "conformance: 2 passed, 1 failed, 1 not implemented, 3 uncovered"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if !s.Blocking(FailOnFailed) {
		t.Error("a FAILED result must block")
	}
	s = Summarize([]Result{{Status: StatusPassed}, {Status: StatusOptionalFailed}, {Status: StatusNotImplemented}, {Status: StatusUncovered}})
	if got, want := s.String(), "conformance: 1 passed, 0 failed, 1 not implemented, 1 uncovered, 1 optional failed"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if s.Blocking(FailOnFailed) {
		t.Error("OPTIONAL_FAILED, NOT_IMPLEMENTED and UNCOVERED do not block under failed")
	}
	if !s.Blocking(FailOnFailedUncovered) {
		t.Error("UNCOVERED blocks under failed+uncovered")
	}
	for in, want := range map[string]FailOn{"failed": FailOnFailed, " FAILED+UNCOVERED ": FailOnFailedUncovered} {
		if got, err := ParseFailOn(in); err != nil || got != want {
			t.Errorf("ParseFailOn(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFailOn("never"); err == nil {
		t.Error("ParseFailOn(never) succeeded")
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	results := []Result{{
		ID: "4-5", Suite: "callback", Status: StatusFailed, Errors: []string{"history: No actual event found for EventId=4"},
		Bindings: map[string]any{"CB_NAME": "abc", "ID1": "op<1>"}, ExecutionArn: "arn:x",
	}}
	if err := WriteJSON(&buf, results); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Summary Summary          `json:"summary"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Summary.Failed != 1 || got.Results[0]["status"] != "FAILED" || got.Results[0]["executionArn"] != "arn:x" {
		t.Errorf("report = %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"op<1>"`) {
		t.Error("HTML-escaped output")
	}
	buf.Reset()
	if err := WriteJSON(&buf, nil); err != nil || !strings.Contains(buf.String(), `"results": []`) {
		t.Errorf("empty report: %s, %v", buf.String(), err)
	}
}
