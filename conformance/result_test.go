package conformance

import (
	"strings"
	"testing"
)

func TestCheckResult(t *testing.T) {
	str := func(s string) *string { return &s }
	b, _ := NewBindings([]Variable{{"INPUT_1", "abc"}}, nil)
	tests := []struct {
		name   string
		exp    *ExpectedResult
		status string
		result *string
		want   string // "" for no failure
	}{
		{"no expectation", nil, "FAILED", nil, ""},
		{"status only", &ExpectedResult{ExecutionStatus: "SUCCEEDED"}, "SUCCEEDED", str(`"whatever"`), ""},
		{"status differs", &ExpectedResult{ExecutionStatus: "SUCCEEDED", HasResult: true, Result: "x"}, "FAILED", nil, "result: ExecutionStatus: expected SUCCEEDED, got FAILED"},
		{"failed execution checks no result", &ExpectedResult{HasResult: true, Result: "x"}, "FAILED", str(`"y"`), ""},
		{"string result with placeholder", &ExpectedResult{HasResult: true, Result: "Hello, ${INPUT_1}!"}, "SUCCEEDED", str(`"Hello, abc!"`), ""},
		{"string mismatch", &ExpectedResult{HasResult: true, Result: "Hello, ${INPUT_1}!"}, "SUCCEEDED", str(`"Hello, abd!"`), `result: Result: expected "Hello, abc!", got "Hello, abd!"`},
		{"object ignores key order, ints equal floats", &ExpectedResult{HasResult: true, Result: Map{{"user", Map{{"name", "Alice"}, {"tags", []any{"admin", "active"}}}}, {"count", 2}}}, "SUCCEEDED", str(`{"count": 2.0, "user": {"tags": ["admin", "active"], "name": "Alice"}}`), ""},
		{"list order matters", &ExpectedResult{HasResult: true, Result: []any{1, 2}}, "SUCCEEDED", str(`[2, 1]`), "expected [1,2], got [2,1]"},
		{"no wildcards", &ExpectedResult{HasResult: true, Result: "*"}, "SUCCEEDED", str(`"x"`), `expected "*", got "x"`},
		{"no regexes", &ExpectedResult{HasResult: true, Result: "${/x/}"}, "SUCCEEDED", str(`"x"`), `expected "${/x/}"`},
		{"raw string when not JSON", &ExpectedResult{HasResult: true, Result: "HELLO CHILD"}, "SUCCEEDED", str(`HELLO CHILD`), ""},
		{"decoded once", &ExpectedResult{HasResult: true, Result: `{"a": 1}`}, "SUCCEEDED", str(`"{\"a\": 1}"`), ""},
		{"null result present", &ExpectedResult{HasResult: true, Result: nil}, "SUCCEEDED", nil, ""},
		{"null result vs JSON null", &ExpectedResult{HasResult: true, Result: nil}, "SUCCEEDED", str(`null`), ""},
		{"null result vs value", &ExpectedResult{HasResult: true, Result: nil}, "SUCCEEDED", str(`0`), "expected null, got 0"},
		{"absent result key checks nothing", &ExpectedResult{ExecutionStatus: "SUCCEEDED"}, "SUCCEEDED", nil, ""},
		{"number vs string", &ExpectedResult{HasResult: true, Result: "42"}, "SUCCEEDED", str(`42`), `expected "42", got 42`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := CheckResult(tt.exp, tt.status, tt.result, b)
			switch {
			case tt.want == "" && len(fs) > 0:
				t.Errorf("failures = %v, want none", fs)
			case tt.want != "" && (len(fs) != 1 || !strings.Contains(fs[0].String(), tt.want)):
				t.Errorf("failures = %v, want one containing %q", fs, tt.want)
			}
		})
	}
}

func TestCheckResultOnCatalogueExpectations(t *testing.T) {
	// 1-4 returns a complex object; 1-7 a greeting built from the input.
	r := requirement(t, "1-4")
	b := seededBindings(t, r)
	got := `{"user": {"name": "Alice", "tags": ["admin", "active"]}, "count": 2}`
	if fs := CheckResult(r.ExpectedResult, "SUCCEEDED", &got, b); len(fs) > 0 {
		t.Error(fs)
	}
	r = requirement(t, "1-7")
	b = seededBindings(t, r)
	in, _ := b.Lookup("INPUT_1")
	got = `"Hello, ` + in.(string) + `!"`
	if fs := CheckResult(r.ExpectedResult, "SUCCEEDED", &got, b); len(fs) > 0 {
		t.Error(fs)
	}
}
