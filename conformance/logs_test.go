package conformance

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/e/1"

// logLines builds log records one millisecond apart, in order, from field
// maps; the ARN is added unless the map says otherwise.
func logLines(t *testing.T, records ...map[string]any) []LogRecord {
	t.Helper()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]LogRecord, len(records))
	for i, r := range records {
		if _, ok := r["durableExecutionArn"]; !ok {
			if _, ok := r["executionArn"]; !ok {
				r["durableExecutionArn"] = testARN
			}
		}
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = LogRecord{Timestamp: base.Add(time.Duration(i) * time.Millisecond), Sequence: int64(i), Line: string(line)}
	}
	return out
}

func TestVisibleLogs(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	records := []LogRecord{
		{Timestamp: t0.Add(2), Sequence: 5, Line: `{"durableExecutionArn": "` + testARN + `", "message": "late"}`},
		{Timestamp: t0, Sequence: 9, Line: `{"executionArn": "` + testARN + `", "message": "plugin"}`},
		{Timestamp: t0, Sequence: 1, Line: `  {"durableExecutionArn": "` + testARN + `", "message": "first"}`},
		{Timestamp: t0, Sequence: 2, Line: `{"durableExecutionArn": "other", "message": "other execution"}`},
		{Timestamp: t0, Sequence: 3, Line: `plain text mentioning ` + testARN},
		{Timestamp: t0, Sequence: 4, Line: `{"nested": {"durableExecutionArn": "` + testARN + `"}}`},
		{Timestamp: t0, Sequence: 6, Line: `["` + testARN + `"]`},
	}
	var got []string
	for _, l := range VisibleLogs(records, testARN) {
		got = append(got, l.Fields["message"].(string))
	}
	if want := "first plugin late"; strings.Join(got, " ") != want {
		t.Errorf("visible = %v, want %s", got, want)
	}
}

func TestCheckLogsOnCatalogueExpectations(t *testing.T) {
	// 10-1: invocation-start, then the step body, then invocation-end.
	r := requirement(t, "10-1")
	b := seededBindings(t, r)
	in, _ := b.Lookup("INPUT_1")
	start := map[string]any{"plugin": "CONFPLUGIN", "hook": "invocation-start", "first": true}
	body := map[string]any{"message": "Greeting step running for: " + in.(string)}
	end := map[string]any{"plugin": "CONFPLUGIN", "hook": "invocation-end", "status": "SUCCEEDED"}
	good := VisibleLogs(logLines(t, start, body, end), testARN)
	if fs := CheckLogs(r.ExpectedLogs, good, b); len(fs) > 0 {
		t.Errorf("in order: %v", fs)
	}
	start = map[string]any{"plugin": "CONFPLUGIN", "hook": "invocation-start", "first": true}
	body = map[string]any{"message": "Greeting step running for: " + in.(string)}
	end = map[string]any{"plugin": "CONFPLUGIN", "hook": "invocation-end", "status": "SUCCEEDED"}
	bad := VisibleLogs(logLines(t, body, start, end), testARN)
	fs := CheckLogs(r.ExpectedLogs, bad, b)
	if len(fs) != 1 || !strings.Contains(fs[0].String(), "logs: ExpectedLogs[1]: after[0]: the first record matching {message=\"/Greeting step running for: ") {
		t.Errorf("body before start: %v", fs)
	}

	// 1-7: step logger records, no [ERROR] line.
	r = requirement(t, "1-7")
	b = seededBindings(t, r)
	in, _ = b.Lookup("INPUT_1")
	lines := func(extra ...map[string]any) []VisibleLog {
		recs := []map[string]any{
			{"message": "[INFO] Greeting step started for: " + in.(string)},
			{"message": "Greeting step completed with: Hello, " + in.(string) + "!"},
		}
		return VisibleLogs(logLines(t, append(recs, extra...)...), testARN)
	}
	if fs := CheckLogs(r.ExpectedLogs, lines(), b); len(fs) > 0 {
		t.Errorf("1-7: %v", fs)
	}
	fs = CheckLogs(r.ExpectedLogs, lines(map[string]any{"message": "[ERROR] oops"}), b)
	if len(fs) != 1 || fs[0].String() != `logs: ExpectedLogs[2]: expected 0 records matching {message="/\\[ERROR\\]/"}, got 1` {
		t.Errorf("1-7 with an error line: %v", fs)
	}
	fs = CheckLogs(r.ExpectedLogs, lines(map[string]any{"message": "Greeting step started for: " + in.(string)}), b)
	if len(fs) != 1 || !strings.Contains(fs[0].String(), "ExpectedLogs[0]: expected 1 records") {
		t.Errorf("1-7 replayed without replay-aware logging: %v", fs)
	}
}

func TestCheckLogsRules(t *testing.T) {
	one, two := 1, 2
	b, _ := NewBindings([]Variable{{"ID1", "op-1"}}, nil)
	recs := []map[string]any{
		{"hook": "start", "op": "op-1", "attempt": 1, "isReplay": false, "note": "  padded  "},
		{"hook": "end", "op": "op-1", "attempt": 1.0, "isReplay": "false", "count": 12},
	}
	tests := []struct {
		name string
		exp  LogExpectation
		want string
	}{
		{"placeholder field", LogExpectation{Match: Map{{"op", "${ID1}"}}, Count: &two}, ""},
		{"number compares numerically", LogExpectation{Match: Map{{"attempt", 1}}, Count: &two}, ""},
		{"bool by identity", LogExpectation{Match: Map{{"isReplay", false}}, Count: &one}, ""},
		{"string trimmed", LogExpectation{Match: Map{{"note", "padded "}}, Count: &one}, ""},
		{"string vs number uses str()", LogExpectation{Match: Map{{"count", "12"}}, Count: &one}, ""},
		{"regex on a number uses str()", LogExpectation{Match: Map{{"count", `/^[1-9]\d*$/`}}, Count: &one}, ""},
		{"regex unanchored", LogExpectation{Match: Map{{"hook", "/ar/"}}, Count: &one}, ""},
		{"missing field never matches", LogExpectation{Match: Map{{"absent", "None"}}, Count: &one}, "expected 1 records matching {absent=\"None\"}, got 0"},
		{"default is at least one", LogExpectation{Match: Map{{"hook", "nope"}}}, "expected at least 1 records"},
		{"min_count", LogExpectation{Match: Map{{"op", "op-1"}}, MinCount: &two}, ""},
		{"max_count", LogExpectation{Match: Map{{"op", "op-1"}}, MaxCount: &one}, "expected at most 1 records"},
		{"after", LogExpectation{Match: Map{{"hook", "end"}}, After: []Map{{{"hook", "start"}}}}, ""},
		{"after violated", LogExpectation{Match: Map{{"hook", "start"}}, After: []Map{{{"hook", "end"}}}}, "after[0]: the first record matching"},
		{"before", LogExpectation{Match: Map{{"hook", "start"}}, Before: []Map{{{"hook", "end"}}}}, ""},
		{"before violated", LogExpectation{Match: Map{{"hook", "end"}}, Before: []Map{{{"hook", "start"}}}}, "before[0]: the last record matching"},
		{"anchor matching nothing", LogExpectation{Match: Map{{"hook", "end"}}, After: []Map{{{"hook", "never"}}}}, `after[0]: anchor {hook="never"} matches no record`},
		{"anchor matching nothing with count 0", LogExpectation{Match: Map{{"hook", "x"}}, Count: new(int), Before: []Map{{{"hook", "never"}}}}, "anchor {hook=\"never\"} matches no record"},
		{"bad regex", LogExpectation{Match: Map{{"hook", "/(/"}}}, "invalid regex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := CheckLogs([]LogExpectation{tt.exp}, VisibleLogs(logLines(t, recs...), testARN), b)
			switch {
			case tt.want == "" && len(fs) > 0:
				t.Errorf("failures = %v, want none", fs)
			case tt.want != "" && (len(fs) != 1 || !strings.Contains(fs[0].String(), tt.want) || !strings.HasPrefix(fs[0].String(), "logs: ExpectedLogs[0]")):
				t.Errorf("failures = %v, want one containing %q", fs, tt.want)
			}
		})
	}
}

func TestCheckLogsConcurrentRecords(t *testing.T) {
	// Records with equal (Timestamp, Sequence) are concurrent: each is both
	// before and after the other.
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	line := func(hook string) string { return `{"durableExecutionArn": "` + testARN + `", "hook": "` + hook + `"}` }
	concurrent := VisibleLogs([]LogRecord{
		{Timestamp: t0, Sequence: 1, Line: line("b")},
		{Timestamp: t0, Sequence: 1, Line: line("a")},
	}, testARN)
	b, _ := NewBindings(nil, nil)
	exps := []LogExpectation{
		{Match: Map{{"hook", "a"}}, Before: []Map{{{"hook", "b"}}}, After: []Map{{{"hook", "b"}}}},
		{Match: Map{{"hook", "b"}}, Before: []Map{{{"hook", "a"}}}, After: []Map{{{"hook", "a"}}}},
	}
	if fs := CheckLogs(exps, concurrent, b); len(fs) > 0 {
		t.Errorf("concurrent: %v", fs)
	}
	ordered := VisibleLogs([]LogRecord{
		{Timestamp: t0, Sequence: 2, Line: line("a")},
		{Timestamp: t0, Sequence: 1, Line: line("b")},
	}, testARN)
	if fs := CheckLogs(exps, ordered, b); len(fs) != 2 {
		t.Errorf("ordered by sequence: %v, want two failures", fs)
	}
}
