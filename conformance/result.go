package conformance

import "fmt"

// CheckResult checks what GetDurableExecution reported against the
// expectation (README §2.5, §4.8). status is the execution status; result is
// its Result JSON string, nil when the service returned none. A nil
// expectation checks nothing.
//
//   - A given ExecutionStatus that differs from status is the only failure.
//   - If status is not SUCCEEDED, nothing else is checked: error content is
//     never checked through ExpectedResult.
//   - If Result is present, even as null, the actual result is decoded as JSON
//     once (the raw string is kept when that fails) and compared with [Equal]
//     to the expected value with placeholders substituted. There are no
//     wildcards or regexes here.
func CheckResult(exp *ExpectedResult, status string, result *string, b *Bindings) []Failure {
	if exp == nil {
		return nil
	}
	if exp.ExecutionStatus != "" && exp.ExecutionStatus != status {
		return []Failure{{Phase: PhaseResult, Path: "ExecutionStatus", Message: fmt.Sprintf("expected %s, got %s", exp.ExecutionStatus, status)}}
	}
	if status != ExecutionSucceeded || !exp.HasResult {
		return nil
	}
	var actual any
	if result != nil {
		v, err := DecodeJSON([]byte(*result))
		if err != nil {
			actual = *result
		} else {
			actual = v
		}
	}
	want := b.Substitute(exp.Result)
	if !Equal(want, actual) {
		return []Failure{{Phase: PhaseResult, Path: "Result", Message: fmt.Sprintf("expected %s, got %s", describe(want), describe(actual))}}
	}
	return nil
}
