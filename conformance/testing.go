package conformance

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// Test runs each requirement as a subtest of t named after its ID (README
// §4.2): FAILED reports every phase-prefixed error with t.Error;
// NOT_IMPLEMENTED and UNCOVERED skip with their reason; OPTIONAL_FAILED logs
// the errors and skips. IDs the registry maps that no requirement defines
// fail a subtest of their own. It returns the results in order, those of
// subtests that did not run (-run) excluded.
func (d *Driver) Test(t *testing.T, reqs []*Requirement) []Result {
	t.Helper()
	var (
		mu      sync.Mutex
		results []Result
	)
	known := map[string]bool{}
	for _, req := range reqs {
		known[req.ID] = true
		t.Run(req.ID, func(t *testing.T) {
			res := d.RunRequirement(context.Background(), req)
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
			if res.Status == StatusUncovered && d.Options.FailOn == FailOnFailedUncovered {
				t.Errorf("%s: UNCOVERED: no handler is mapped to this requirement (fail-on %s)", res.ID, d.Options.FailOn)
				return
			}
			ReportT(t, res)
		})
	}
	for _, id := range d.Registry.IDs() {
		if known[id] {
			continue
		}
		t.Run(id, func(t *testing.T) {
			res := NotFound(id)
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
			ReportT(t, res)
		})
	}
	return results
}

// ReportT reports one result to t, as [Driver.Test] does.
func ReportT(t testing.TB, res Result) {
	t.Helper()
	for _, w := range res.Warnings {
		t.Logf("%s: warning: %s", res.ID, w)
	}
	switch res.Status {
	case StatusFailed:
		if res.ExecutionArn != "" {
			t.Logf("%s: execution %s", res.ID, res.ExecutionArn)
		}
		for _, e := range res.Errors {
			t.Errorf("%s: %s", res.ID, e)
		}
	case StatusOptionalFailed:
		t.Skipf("%s: OPTIONAL_FAILED (non-blocking):\n%s", res.ID, strings.Join(res.Errors, "\n"))
	case StatusNotImplemented:
		t.Skipf("%s: NOT_IMPLEMENTED: %s", res.ID, res.Reason)
	case StatusUncovered:
		t.Skipf("%s: UNCOVERED: no handler is mapped to this requirement", res.ID)
	}
}
