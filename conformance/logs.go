package conformance

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// LogRecord is one line a handler, an SDK logger or a plugin wrote during an
// execution, as the log sink captured it.
type LogRecord struct {
	// Timestamp is the emission time and Sequence the arrival order; together
	// they are the sort key. Records with equal sort keys are concurrent and
	// satisfy both "before" and "after" of each other, like CloudWatch
	// records sharing (timestamp, ingestionTime). A sink that wants that
	// tolerance gives the records of one flush the same Sequence.
	Timestamp time.Time
	Sequence  int64
	// Line is the raw text.
	Line string
}

// VisibleLog is a record the log check sees: a JSON object line carrying the
// execution's ARN, decoded.
type VisibleLog struct {
	Timestamp time.Time
	Sequence  int64
	Fields    map[string]any
}

func (l VisibleLog) compare(m VisibleLog) int {
	return cmp.Or(l.Timestamp.Compare(m.Timestamp), cmp.Compare(l.Sequence, m.Sequence))
}

// VisibleLogs returns the records the runner's CloudWatch filter
// { $.durableExecutionArn = ARN || $.executionArn = ARN } would return: JSON
// objects whose top-level durableExecutionArn or executionArn is arn,
// ordered by (Timestamp, Sequence).
func VisibleLogs(records []LogRecord, arn string) []VisibleLog {
	var out []VisibleLog
	for _, r := range records {
		line := strings.TrimSpace(r.Line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		v, err := DecodeJSON([]byte(line))
		if err != nil {
			continue
		}
		fields, ok := v.(map[string]any)
		if !ok || (fields["durableExecutionArn"] != arn && fields["executionArn"] != arn) {
			continue
		}
		out = append(out, VisibleLog{Timestamp: r.Timestamp, Sequence: r.Sequence, Fields: fields})
	}
	slices.SortStableFunc(out, VisibleLog.compare)
	return out
}

// LogExpectation is one entry of ExpectedLogs (README §2.7).
type LogExpectation struct {
	// Match maps field names to expected values, all ANDed.
	Match Map
	// Count is the exact number of matching records; when nil, MinCount
	// (default 1) and MaxCount (default unbounded) apply.
	Count, MinCount, MaxCount *int
	// After and Before are anchors, each a field map like Match.
	After, Before []Map
}

var logExpectationKeys = []string{"match", "count", "min_count", "max_count", "after", "before"}

func parseLogExpectations(v any) ([]LogExpectation, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list of entries, got %s", describe(v))
	}
	out := make([]LogExpectation, len(l))
	for i, x := range l {
		e, err := parseLogExpectation(x)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = e
	}
	return out, nil
}

func parseLogExpectation(v any) (LogExpectation, error) {
	var e LogExpectation
	m, ok := v.(Map)
	if !ok {
		return e, fmt.Errorf("expected a mapping, got %s", describe(v))
	}
	count := func(key string, x any) (*int, error) {
		n, ok := toNumber(x)
		if !ok || !n.isInt || n.i < 0 {
			return nil, fmt.Errorf("%s: expected a non-negative integer, got %s", key, describe(x))
		}
		c := int(n.i)
		return &c, nil
	}
	anchors := func(key string, x any) ([]Map, error) {
		l, ok := x.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: expected a list of field maps, got %s", key, describe(x))
		}
		out := make([]Map, len(l))
		for i, a := range l {
			am, ok := a.(Map)
			if !ok {
				return nil, fmt.Errorf("%s[%d]: expected a field map, got %s", key, i, describe(a))
			}
			out[i] = am
		}
		return out, nil
	}
	for _, it := range m {
		var err error
		switch it.Key {
		case "match":
			mm, ok := it.Value.(Map)
			if !ok {
				return e, fmt.Errorf("match: expected a field map, got %s", describe(it.Value))
			}
			e.Match = mm
		case "count":
			e.Count, err = count(it.Key, it.Value)
		case "min_count":
			e.MinCount, err = count(it.Key, it.Value)
		case "max_count":
			e.MaxCount, err = count(it.Key, it.Value)
		case "after":
			e.After, err = anchors(it.Key, it.Value)
		case "before":
			e.Before, err = anchors(it.Key, it.Value)
		default:
			err = fmt.Errorf("unknown key %q (known: %s)", it.Key, strings.Join(logExpectationKeys, ", "))
		}
		if err != nil {
			return e, err
		}
	}
	if e.Match == nil {
		return e, fmt.Errorf("match is required")
	}
	return e, nil
}

// NoLogCapture is the failure of a requirement with ExpectedLogs run where no
// log sink is available. Such a requirement fails; it is never skipped
// silently (README §4.9).
func NoLogCapture() Failure {
	return Failure{Phase: PhaseLogs, Path: "ExpectedLogs", Message: "log capture unavailable: run with a log sink to check this requirement"}
}

// CheckLogs checks ExpectedLogs against the visible records of the
// execution (README §2.7, §4.9). Each entry is substituted with b, then its
// matching records are counted and its anchors checked:
//
//   - field values: strings compare exactly after trimming whitespace, or as
//     an unanchored regex search when written /…/; booleans by identity;
//     numbers numerically; anything else by Python's str();
//   - count is exact; otherwise min_count (default 1) and max_count;
//   - after: the first own match comes at or after the last match of every
//     anchor; before: the last own match comes at or before the first match
//     of every anchor. Equal sort keys satisfy both. An anchor matching no
//     record is a failure.
func CheckLogs(exps []LogExpectation, logs []VisibleLog, b *Bindings) []Failure {
	var failures []Failure
	for i, e := range exps {
		loc := fmt.Sprintf("ExpectedLogs[%d]", i)
		fail := func(format string, args ...any) {
			failures = append(failures, Failure{Phase: PhaseLogs, Path: loc, Message: fmt.Sprintf(format, args...)})
		}
		match := b.Substitute(e.Match).(Map)
		own, err := matchingLogs(match, logs)
		if err != nil {
			fail("%v", err)
			continue
		}
		n := len(own)
		switch {
		case e.Count != nil:
			if n != *e.Count {
				fail("expected %d records matching %s, got %d", *e.Count, describeFields(match), n)
			}
		default:
			lo := 1
			if e.MinCount != nil {
				lo = *e.MinCount
			}
			if n < lo {
				fail("expected at least %d records matching %s, got %d", lo, describeFields(match), n)
			}
			if e.MaxCount != nil && n > *e.MaxCount {
				fail("expected at most %d records matching %s, got %d", *e.MaxCount, describeFields(match), n)
			}
		}
		for j, a := range e.After {
			anchor := b.Substitute(a).(Map)
			other, err := matchingLogs(anchor, logs)
			switch {
			case err != nil:
				fail("after[%d]: %v", j, err)
			case len(other) == 0:
				fail("after[%d]: anchor %s matches no record", j, describeFields(anchor))
			case n > 0 && own[0].compare(other[len(other)-1]) < 0:
				fail("after[%d]: the first record matching %s comes before the last record matching anchor %s", j, describeFields(match), describeFields(anchor))
			}
		}
		for j, a := range e.Before {
			anchor := b.Substitute(a).(Map)
			other, err := matchingLogs(anchor, logs)
			switch {
			case err != nil:
				fail("before[%d]: %v", j, err)
			case len(other) == 0:
				fail("before[%d]: anchor %s matches no record", j, describeFields(anchor))
			case n > 0 && own[n-1].compare(other[0]) > 0:
				fail("before[%d]: the last record matching %s comes after the first record matching anchor %s", j, describeFields(match), describeFields(anchor))
			}
		}
	}
	return failures
}

func matchingLogs(fields Map, logs []VisibleLog) ([]VisibleLog, error) {
	var out []VisibleLog
	for _, l := range logs {
		ok, err := logMatches(fields, l.Fields)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}

func logMatches(fields Map, record map[string]any) (bool, error) {
	for _, f := range fields {
		actual, ok := record[f.Key]
		if !ok {
			return false, nil
		}
		ok, err := logValueMatches(f.Value, actual)
		if err != nil {
			return false, fmt.Errorf("match.%s: %v", f.Key, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func logValueMatches(expected, actual any) (bool, error) {
	switch e := expected.(type) {
	case bool:
		a, ok := actual.(bool)
		return ok && a == e, nil
	case string:
		want := strings.TrimSpace(e)
		if len(want) >= 2 && strings.HasPrefix(want, "/") && strings.HasSuffix(want, "/") {
			re, err := compileRegex(want[1 : len(want)-1])
			if err != nil {
				return false, err
			}
			return re.MatchString(PythonStr(actual)), nil
		}
		return strings.TrimSpace(PythonStr(actual)) == want, nil
	}
	if n, ok := toNumber(expected); ok {
		a, ok := toNumber(actual)
		return ok && numbersEqual(n, a) && !isBool(actual), nil
	}
	return PythonStr(actual) == PythonStr(expected), nil
}

func isBool(v any) bool {
	_, ok := v.(bool)
	return ok
}

func describeFields(m Map) string {
	parts := make([]string, len(m))
	for i, it := range m {
		parts[i] = it.Key + "=" + describe(it.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
