package conformance

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// seededBindings gives every call the same GEN_STR values, so a history
// synthesized with one Bindings matches with another.
func seededBindings(t *testing.T, r *Requirement) *Bindings {
	t.Helper()
	b, err := NewBindings(r.Variables, rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// synthesizeHistory builds the history a conforming service would record for
// the expected events: wildcards become concrete values, unbound
// placeholders fresh values ("<NAME>-value"), regexes a string they accept.
// It plays the recorded artifact of the Python runner, which the harness
// does not have.
func synthesizeHistory(t *testing.T, expected []Map, b *Bindings) []map[string]any {
	t.Helper()
	events := make([]map[string]any, len(expected))
	for i, ev := range expected {
		events[i] = synthesize(t, ev, b).(map[string]any)
	}
	return events
}

func synthesize(t *testing.T, v any, b *Bindings) any {
	switch v := v.(type) {
	case Map:
		m := make(map[string]any, len(v))
		for _, it := range v {
			m[it.Key] = synthesize(t, it.Value, b)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = synthesize(t, x, b)
		}
		return l
	case string:
		if v == "*" {
			return map[string]any{"anything": true}
		}
		if p, ok := regexPlaceholder(v); ok {
			return sampleRegex(t, p)
		}
		if name, ok := namePlaceholder(v); ok {
			if x, ok := b.Lookup(name); ok {
				return x
			}
			_ = b.Bind(name, name+"-value")
			return name + "-value"
		}
		return b.SubstituteString(v)
	case int:
		return int64(v) // as DecodeJSON would give it
	}
	return v
}

// sampleRegex returns a string the pattern matches.
func sampleRegex(t *testing.T, pattern string) string {
	t.Helper()
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	var gen func(re *syntax.Regexp)
	gen = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			sb.WriteString(string(re.Rune))
		case syntax.OpCharClass:
			sb.WriteRune(re.Rune[0])
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			sb.WriteByte('x')
		case syntax.OpCapture:
			gen(re.Sub[0])
		case syntax.OpPlus:
			gen(re.Sub[0])
		case syntax.OpRepeat:
			for range re.Min {
				gen(re.Sub[0])
			}
		case syntax.OpConcat:
			for _, s := range re.Sub {
				gen(s)
			}
		case syntax.OpAlternate:
			gen(re.Sub[0])
		}
	}
	gen(re)
	s := sb.String()
	if !regexp.MustCompile(pattern).MatchString(s) {
		t.Fatalf("sample %q does not match /%s/", s, pattern)
	}
	return s
}

// TestCatalogueHistoriesMatchTheirSynthesis is the positive case for every
// requirement: a history that follows the expectation matches it.
func TestCatalogueHistoriesMatchTheirSynthesis(t *testing.T) {
	for _, r := range loadCatalogue(t) {
		t.Run(r.ID, func(t *testing.T) {
			actual := synthesizeHistory(t, r.ExpectedExecutionHistory, seededBindings(t, r))
			b := seededBindings(t, r)
			if fs := MatchHistory(r.ExpectedExecutionHistory, actual, b); len(fs) > 0 {
				t.Fatalf("failures: %v", fs)
			}
			// Every ${NAME} of the history is now bound, ready for the
			// result, log, callback and telemetry phases.
			for _, ev := range r.ExpectedExecutionHistory {
				walkStrings(ev, func(s string) {
					if name, ok := namePlaceholder(s); ok {
						if _, ok := b.Lookup(name); !ok {
							t.Errorf("${%s} not bound after matching", name)
						}
					}
				})
			}
		})
	}
}

func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case Map:
		for _, it := range v {
			walkStrings(it.Value, f)
		}
	case []any:
		for _, x := range v {
			walkStrings(x, f)
		}
	}
}

func eventByID(t *testing.T, events []map[string]any, id int64) map[string]any {
	t.Helper()
	for _, ev := range events {
		if ev["EventId"] == id {
			return ev
		}
	}
	t.Fatalf("no event %d", id)
	return nil
}

// TestHistoryMutationsAreRejected mutates a conforming history, one rule of
// README §4.5/§4.6 at a time, and requires the failure to name the event and
// the field.
func TestHistoryMutationsAreRejected(t *testing.T) {
	tests := []struct {
		id     string
		mutate func(events []map[string]any, at func(int64) map[string]any)
		want   []string // the failures, each as a substring of one line
	}{
		{
			id: "1-7",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				delete(at(2), "StepStartedDetails") // the expectation is StepStartedDetails: {}
			},
			want: []string{`history: EventId=2: StepStartedDetails: key missing (expected {})`},
		},
		{
			id: "4-5",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				delete(at(3), "InvocationCompletedDetails") // the expectation is '*': still presence
			},
			want: []string{`history: EventId=3: InvocationCompletedDetails: key missing (expected "*")`},
		},
		{
			id: "1-7",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				at(3)["EventId"] = int64(30) // wrong EventId
			},
			want: []string{"history: No actual event found for EventId=3"},
		},
		{
			id: "1-7",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				at(3)["Id"] = "another-step" // ${ID1} was bound by EventId=2
			},
			want: []string{`history: EventId=3: Id: ${ID1} is bound to "ID1-value", got "another-step"`},
		},
		{
			id: "4-5",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				at(2)["Name"] = "someone-else" // ${CB_NAME} is bound by Variables
			},
			want: []string{`history: EventId=2: Name: ${CB_NAME} is bound to`, `got "someone-else"`},
		},
		{
			id: "4-5",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				d := at(4)["CallbackSucceededDetails"].(map[string]any)["Result"].(map[string]any)
				d["Payload"] = strings.Trim(d["Payload"].(string), `"`) // raw text, not JSON text
			},
			want: []string{`history: EventId=4: CallbackSucceededDetails.Result.Payload: expected "\"`},
		},
		{
			id: "4-5",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				at(2)["CallbackStartedDetails"].(map[string]any)["HeartbeatTimeout"] = "10" // a string is not a number
			},
			want: []string{`history: EventId=2: CallbackStartedDetails.HeartbeatTimeout: expected 10, got "10"`},
		},
		{
			id: "1-16",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				at(3)["StepFailedDetails"].(map[string]any)["Error"].(map[string]any)["Payload"].(map[string]any)["ErrorType"] = "TransientErrorWrapper"
			},
			want: []string{`history: EventId=3: StepFailedDetails.Error.Payload.ErrorType: expected a match for /.*TransientError$/, got "TransientErrorWrapper"`},
		},
		{
			id: "1-16",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				delete(at(3)["StepFailedDetails"].(map[string]any)["Error"].(map[string]any)["Payload"].(map[string]any), "ErrorMessage")
			},
			want: []string{`history: EventId=3: StepFailedDetails.Error.Payload.ErrorMessage: key missing`},
		},
		{
			id: "4-5",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				at(2)["CallbackStartedDetails"] = "not an object"
			},
			want: []string{`history: EventId=2: CallbackStartedDetails: expected a mapping, got "not an object"`},
		},
		{
			id: "1-7",
			mutate: func(_ []map[string]any, at func(int64) map[string]any) {
				at(2)["StepStartedDetails"] = map[string]any{"Unexpected": 1}
				at(2)["Extra"] = "ignored"
				at(4)["EventType"] = "InvocationCompleted" // unchanged
			},
			want: nil, // {} accepts any details object, and extra keys are ignored
		},
	}
	for _, tt := range tests {
		t.Run(tt.id+"/"+strings.Join(tt.want, ""), func(t *testing.T) {
			r := requirement(t, tt.id)
			actual := synthesizeHistory(t, r.ExpectedExecutionHistory, seededBindings(t, r))
			tt.mutate(actual, func(id int64) map[string]any { return eventByID(t, actual, id) })
			fs := MatchHistory(r.ExpectedExecutionHistory, actual, seededBindings(t, r))
			if tt.want == nil {
				if len(fs) > 0 {
					t.Fatalf("failures = %v, want none", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("failures = %v, want exactly one", fs)
			}
			for _, w := range tt.want {
				if !strings.Contains(fs[0].String(), w) {
					t.Errorf("failure %q does not contain %q", fs[0], w)
				}
			}
		})
	}
}

func TestUnanchoredRegexFromTheCatalogue(t *testing.T) {
	// 8-15 expects Payload: ${/wrapped/}: a search, not a full match.
	r := requirement(t, "8-15")
	for _, payload := range []string{`"wrapped:a"`, `"pre-wrapped-post"`, "wrapped"} {
		actual := synthesizeHistory(t, r.ExpectedExecutionHistory, seededBindings(t, r))
		for _, ev := range actual {
			walkMaps(ev, func(m map[string]any) {
				if _, ok := m["Payload"]; ok && strings.Contains(PythonStr(m["Payload"]), "wrapped") {
					m["Payload"] = payload
				}
			})
		}
		if fs := MatchHistory(r.ExpectedExecutionHistory, actual, seededBindings(t, r)); len(fs) > 0 {
			t.Errorf("payload %s: %v", payload, fs)
		}
	}
}

func walkMaps(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		f(v)
		for _, x := range v {
			walkMaps(x, f)
		}
	case []any:
		for _, x := range v {
			walkMaps(x, f)
		}
	}
}

func TestMatchValueRules(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual any
		want             string // "" for a match
	}{
		{"empty map accepts a scalar", Map{}, "x", ""},
		{"star accepts null", "*", nil, ""},
		{"regex on an integer uses str()", "${/^\\d+$/}", int64(5), ""},
		{"regex on an integral float uses str() without .0", "${/^5$/}", 5.0, ""},
		{"regex on a boolean sees True", "${/^True$/}", true, ""},
		{"regex on null sees None", "${/^None$/}", nil, ""},
		{"regex on an integer rejects a decimal form", "${/\\./}", int64(5), `expected a match for /\./, got 5 (searched "5")`},
		{"regex unanchored", "${/rap/}", "wrapped", ""},
		{"regex anchored", "${/^rap/}", "wrapped", "expected a match for /^rap/"},
		{"int equals float", 1, 1.0, ""},
		{"string is not a number", "1", int64(1), `expected "1", got 1`},
		{"bool is not a number", true, int64(1), "expected true, got 1"},
		{"null literal", nil, nil, ""},
		{"null is not empty string", nil, "", `expected null, got ""`},
		{"list length", []any{1, 2}, []any{int64(1)}, "expected 2 items, got 1"},
		{"list order", []any{1, 2}, []any{int64(1), int64(3)}, "[1]: expected 2, got 3"},
		{"list vs scalar", []any{1}, "x", "expected a list"},
		{"extra keys ignored", Map{{"a", 1}}, map[string]any{"a": 1, "b": 2}, ""},
		{"missing key even for star", Map{{"a", "*"}}, map[string]any{}, `a: key missing (expected "*")`},
		{"missing key even for empty map", Map{{"a", Map{}}}, map[string]any{}, "a: key missing (expected {})"},
		{"embedded placeholder", `"${V}"`, `"v1"`, ""},
		{"embedded placeholder mismatch", `"${V}"`, `"v2"`, `expected "\"v1\"", got "\"v2\""`},
		{"bound placeholder", "${V}", "v1", ""},
		{"bound placeholder mismatch", "${V}", "v2", `${V} is bound to "v1", got "v2"`},
		{"invalid regex", "${/(/}", "x", "invalid regex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := NewBindings([]Variable{{"V", "v1"}}, nil)
			fs := MatchValue(tt.expected, tt.actual, "EventId=9", b)
			switch {
			case tt.want == "" && len(fs) > 0:
				t.Errorf("failures = %v, want none", fs)
			case tt.want != "" && (len(fs) != 1 || !strings.Contains(fs[0].String(), tt.want) || !strings.HasPrefix(fs[0].String(), "history: EventId=9")):
				t.Errorf("failures = %v, want one containing %q", fs, tt.want)
			}
		})
	}
}

func TestMatchValueBindsOnFirstSight(t *testing.T) {
	b, _ := NewBindings(nil, nil)
	expected := []Map{
		{{"EventId", 2}, {"Id", "${ID1}"}, {"Name", "${NAME1}"}},
		{{"EventId", 3}, {"Id", "${ID1}"}},
	}
	actual := []map[string]any{
		{"EventId": int64(1), "EventType": "ExecutionStarted"},
		{"EventId": 2.0, "Id": "a", "Name": nil},
		{"EventId": int64(3), "Id": "a"},
		{"EventType": "NoId"},
	}
	if fs := MatchHistory(expected, actual, b); len(fs) > 0 {
		t.Fatal(fs)
	}
	if v, ok := b.Lookup("NAME1"); !ok || v != nil {
		t.Errorf("NAME1 = %v, %v; want bound to null", v, ok)
	}
	fs := MatchHistory([]Map{{{"Id", "x"}}, {{"EventId", "2"}}}, actual, b)
	if len(fs) != 2 || fs[0].String() != "history: ExpectedExecutionHistory[0]: expected event has no EventId" || !strings.Contains(fs[1].String(), "not an integer") {
		t.Errorf("failures = %v", fs)
	}
}

func TestFailureMessageFormat(t *testing.T) {
	b, _ := NewBindings(nil, nil)
	expected := []Map{{{"EventId", 5}, {"StepSucceededDetails", Map{{"Result", Map{{"Payload", `"x"`}}}}}}}
	actual := []map[string]any{{"EventId": int64(5), "StepSucceededDetails": map[string]any{"Result": map[string]any{"Payload": `"y"`}}}}
	fs := MatchHistory(expected, actual, b)
	want := `history: EventId=5: StepSucceededDetails.Result.Payload: expected "\"x\"", got "\"y\""`
	if len(fs) != 1 || fs[0].String() != want {
		t.Errorf("failures = %v\nwant %s", fs, want)
	}
	if fs[0].Error() != want {
		t.Error("Error() differs from String()")
	}
}

func TestRestoreCallbackNames(t *testing.T) {
	events := []map[string]any{
		{"EventId": int64(2), "EventType": "ContextStarted", "SubType": "WaitForCallback", "Id": "ctx", "Name": "approval"},
		{"EventId": int64(3), "EventType": "CallbackStarted", "SubType": "Callback", "Id": "cb", "ParentId": "ctx"},
		{"EventId": int64(4), "EventType": "StepStarted", "SubType": "Step", "Id": "sub", "ParentId": "ctx", "Name": ""},
		{"EventId": int64(5), "EventType": "StepSucceeded", "SubType": "Step", "Id": "sub", "ParentId": "ctx", "Name": "kept"},
		{"EventId": int64(6), "EventType": "StepFailed", "SubType": "Step", "Id": "sub", "ParentId": "ctx"},
		{"EventId": int64(7), "EventType": "StepStarted", "SubType": "Step", "Id": "other", "ParentId": "elsewhere"},
	}
	RestoreCallbackNames(events)
	got := make([]any, len(events))
	for i, ev := range events {
		got[i] = ev["Name"]
	}
	want := []any{"approval", "approval", "approval", "kept", nil, nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names = %v, want %v", got, want)
	}
}

func TestRestoredNamesMatchTheCatalogue(t *testing.T) {
	// otel-execution-10 expects the wait_for_callback children to carry
	// names derived from the context's name.
	r := requirement(t, "otel-execution-10")
	actual := synthesizeHistory(t, r.ExpectedExecutionHistory, seededBindings(t, r))
	var parent any
	for _, ev := range actual {
		if ev["SubType"] == "WaitForCallback" {
			parent = ev["Id"]
		}
	}
	stripped := 0
	for _, ev := range actual {
		switch ev["EventType"] {
		case "CallbackStarted", "StepStarted", "StepSucceeded":
			if ev["ParentId"] == parent {
				delete(ev, "Name")
				stripped++
			}
		}
	}
	if stripped == 0 {
		t.Fatal("no wait_for_callback children")
	}
	if fs := MatchHistory(r.ExpectedExecutionHistory, actual, seededBindings(t, r)); len(fs) == 0 {
		t.Fatal("nameless children matched before restoration")
	}
	RestoreCallbackNames(actual)
	if fs := MatchHistory(r.ExpectedExecutionHistory, actual, seededBindings(t, r)); len(fs) > 0 {
		t.Fatal(fs)
	}
}

func TestTerminalStatus(t *testing.T) {
	for typ, want := range map[string]string{
		"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT",
		"ExecutionStopped": "STOPPED", "ExecutionCancelled": "STOPPED",
	} {
		got, ok := TerminalStatus([]map[string]any{{"EventType": "ExecutionStarted"}, {"EventType": typ}})
		if !ok || got != want {
			t.Errorf("%s: %q, %v", typ, got, ok)
		}
	}
	if _, ok := TerminalStatus([]map[string]any{{"EventType": "ExecutionStarted"}}); ok {
		t.Error("running execution reported terminal")
	}
}

func TestEventsFromSDK(t *testing.T) {
	ts := time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	events := []types.Event{
		{
			EventId: aws.Int32(2), EventType: types.EventTypeStepStarted, SubType: aws.String("Step"),
			Id: aws.String("op1"), Name: aws.String("greet"), EventTimestamp: &ts,
			StepStartedDetails: &types.StepStartedDetails{},
		},
		{
			EventId: aws.Int32(3), EventType: types.EventTypeStepFailed, SubType: aws.String("Step"),
			Id: aws.String("op1"), ParentId: aws.String("ctx"), EventTimestamp: &ts,
			StepFailedDetails: &types.StepFailedDetails{
				Error: &types.EventError{Payload: &types.ErrorObject{
					ErrorType: aws.String("TransientError"), ErrorMessage: aws.String("boom"), StackTrace: []string{"a", "b"},
				}},
				RetryDetails: &types.RetryDetails{CurrentAttempt: 1, NextAttemptDelaySeconds: aws.Int32(2)},
			},
		},
		{
			EventId: aws.Int32(4), EventType: types.EventTypeStepSucceeded,
			StepSucceededDetails: &types.StepSucceededDetails{Result: &types.EventResult{Payload: aws.String(`"x"`), Truncated: aws.Bool(false)}},
		},
	}
	got := EventsFromSDK(events)
	want := []map[string]any{
		{
			"EventId": int64(2), "EventType": "StepStarted", "SubType": "Step", "Id": "op1", "Name": "greet",
			"EventTimestamp": 1735787045.678, "StepStartedDetails": map[string]any{},
		},
		{
			"EventId": int64(3), "EventType": "StepFailed", "SubType": "Step", "Id": "op1", "ParentId": "ctx",
			"EventTimestamp": 1735787045.678,
			"StepFailedDetails": map[string]any{
				"Error": map[string]any{"Payload": map[string]any{
					"ErrorType": "TransientError", "ErrorMessage": "boom", "StackTrace": []any{"a", "b"},
				}},
				"RetryDetails": map[string]any{"CurrentAttempt": int64(1), "NextAttemptDelaySeconds": int64(2)},
			},
		},
		{
			"EventId": int64(4), "EventType": "StepSucceeded",
			"StepSucceededDetails": map[string]any{"Result": map[string]any{"Payload": `"x"`, "Truncated": false}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EventsFromSDK =\n%#v\nwant\n%#v", got, want)
	}
}

func TestDecodeHistory(t *testing.T) {
	body := `{"Events": [{"EventId": 1, "EventType": "ExecutionStarted", "ExecutionStartedDetails": {"Input": {"Payload": "null"}}}], "NextMarker": null}`
	got, err := DecodeHistory([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{"EventId": int64(1), "EventType": "ExecutionStarted", "ExecutionStartedDetails": map[string]any{"Input": map[string]any{"Payload": "null"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeHistory = %#v", got)
	}
	if got, err := DecodeHistory([]byte(`[{"EventId": 1}]`)); err != nil || len(got) != 1 {
		t.Errorf("bare list: %v, %v", got, err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{`} {
		if _, err := DecodeHistory([]byte(bad)); err == nil {
			t.Errorf("DecodeHistory(%s) succeeded", bad)
		}
	}
}

func FuzzDecodeHistory(f *testing.F) {
	f.Add([]byte(`{"Events": [{"EventId": 2, "Name": "x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := DecodeHistory(data)
		if err != nil {
			return
		}
		RestoreCallbackNames(events)
		b, _ := NewBindings(nil, nil)
		MatchHistory([]Map{{{"EventId", 2}, {"Name", "${N}"}}}, events, b)
	})
}
