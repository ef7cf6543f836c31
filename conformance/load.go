package conformance

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Requirement is one requirement file, parsed and validated (README §2.1,
// §4.3). Values keep their YAML types: int, float64, bool, nil for blank
// values, string for quoted ones, []any, and [Map] for mappings.
type Requirement struct {
	// ID is the file stem, e.g. "1-7"; Suite is the folder, e.g. "step".
	ID    string
	Suite string
	// File is the path the requirement was read from, for error messages.
	File string

	// Description, Handler and Invocations are report and documentation text.
	Description string
	Handler     string
	Invocations string
	// Optional turns a failure into OPTIONAL_FAILED.
	Optional bool

	// Variables are resolved in file order by [NewBindings].
	Variables []Variable
	// Input is the event, before substitution; nil when absent or blank,
	// which sends JSON null. See [Requirement.Event].
	Input any
	// AsyncInvoke selects the async flow; false is the sync flow.
	AsyncInvoke bool
	// AsyncConfig holds the poll interval and no-progress timeout.
	AsyncConfig AsyncConfig
	// CallbackActions are served in the async flow (README §2.6).
	CallbackActions []CallbackAction

	// ExpectedExecutionHistory is the list of partial events, each a mapping
	// with an EventId; nil when absent.
	ExpectedExecutionHistory []Map
	// ExpectedResult is nil when absent or blank: the async flow then runs in
	// history-only mode.
	ExpectedResult *ExpectedResult
	// ExpectedLogs are the CloudWatch log expectations.
	ExpectedLogs []LogExpectation
	// DefaultRetryParameters is documentation only.
	DefaultRetryParameters any

	// TelemetryAssertions and ExecutionTelemetryAssertions are the OTel
	// extension (README §3.4); nil when absent.
	TelemetryAssertions          *TelemetryAssertions
	ExecutionTelemetryAssertions *TelemetryAssertions
}

// AsyncConfig is the polling configuration of the async flow.
type AsyncConfig struct {
	PollInterval      time.Duration // default 2s
	NoProgressTimeout time.Duration // default 30s
}

// ExpectedResult is what GetDurableExecution must report (README §2.5).
type ExpectedResult struct {
	// ExecutionStatus is empty when not given.
	ExecutionStatus string
	// HasResult is true when the Result key is present, even with a null
	// value, which then expects a null result.
	HasResult bool
	Result    any
}

// Event returns the Lambda event payload of the requirement: Input with
// placeholders substituted, encoded as JSON the way Python's json.dumps
// does. An absent Input gives "null".
func (r *Requirement) Event(b *Bindings) ([]byte, error) {
	s, err := PythonJSON(b.Substitute(r.Input))
	if err != nil {
		return nil, fmt.Errorf("conformance: %s: Input: %w", r.ID, err)
	}
	return []byte(s), nil
}

// SetupError reports a requirement file the harness cannot run as written.
// The driver records it as a "setup" failure.
type SetupError struct {
	File string
	Err  error
}

func (e *SetupError) Error() string { return "setup: " + e.File + ": " + e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// topLevelKeys are the keys of README §2.1. Anything else is a setup error,
// so that new upstream keys are noticed rather than silently ignored.
var topLevelKeys = map[string]bool{
	"description": true, "handler": true, "invocations": true, "async": true, "optional": true,
	"Variables": true, "Input": true, "AsyncInvoke": true, "AsyncConfig": true, "CallbackActions": true,
	"ExpectedExecutionHistory": true, "ExpectedResult": true, "ExpectedLogs": true,
	"DefaultRetryParameters": true, "TelemetryAssertions": true, "ExecutionTelemetryAssertions": true,
}

// ParseRequirement parses one requirement file. id and suite are the file
// stem and folder name; file is used in error messages. Errors are
// *SetupError values.
func ParseRequirement(id, suite, file string, data []byte) (*Requirement, error) {
	r, err := parseRequirement(id, suite, file, data)
	if err != nil {
		return nil, &SetupError{File: file, Err: err}
	}
	return r, nil
}

func parseRequirement(id, suite, file string, data []byte) (*Requirement, error) {
	doc, err := decodeYAML(data)
	if err != nil {
		return nil, err
	}
	top, ok := doc.(Map)
	if !ok {
		return nil, fmt.Errorf("the document is %s, not a mapping", describe(doc))
	}
	for _, it := range top {
		if !topLevelKeys[it.Key] {
			return nil, fmt.Errorf("unknown top-level key %q (the harness does not know its semantics; teach it before running this requirement)", it.Key)
		}
	}
	r := &Requirement{ID: id, Suite: suite, File: file, AsyncConfig: AsyncConfig{PollInterval: 2 * time.Second, NoProgressTimeout: 30 * time.Second}}
	for _, it := range top {
		var err error
		switch it.Key {
		case "description":
			r.Description, err = optionalString(it.Value)
		case "handler":
			r.Handler, err = optionalString(it.Value)
		case "invocations":
			r.Invocations, err = optionalString(it.Value)
		case "async":
			// Ignored by the runner; it mirrors AsyncInvoke.
		case "optional":
			r.Optional, err = optionalBool(it.Value)
		case "Variables":
			r.Variables, err = parseVariables(it.Value)
		case "Input":
			r.Input = it.Value
		case "AsyncInvoke":
			r.AsyncInvoke, err = optionalBool(it.Value)
		case "AsyncConfig":
			err = parseAsyncConfig(it.Value, &r.AsyncConfig)
		case "CallbackActions":
			r.CallbackActions, err = parseCallbackActions(it.Value)
		case "ExpectedExecutionHistory":
			r.ExpectedExecutionHistory, err = parseHistory(it.Value)
		case "ExpectedResult":
			r.ExpectedResult, err = parseExpectedResult(it.Value)
		case "ExpectedLogs":
			r.ExpectedLogs, err = parseLogExpectations(it.Value)
		case "DefaultRetryParameters":
			r.DefaultRetryParameters = it.Value
		case "TelemetryAssertions":
			r.TelemetryAssertions, err = parseTelemetryAssertions(it.Value)
		case "ExecutionTelemetryAssertions":
			r.ExecutionTelemetryAssertions, err = parseTelemetryAssertions(it.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", it.Key, err)
		}
	}
	return r, nil
}

func optionalString(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("expected a string, got %s", describe(v))
}

func optionalBool(v any) (bool, error) {
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	}
	return false, fmt.Errorf("expected true or false, got %s", describe(v))
}

func parseVariables(v any) ([]Variable, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(Map)
	if !ok {
		return nil, fmt.Errorf("expected a mapping of name to value, got %s", describe(v))
	}
	vars := make([]Variable, len(m))
	for i, it := range m {
		vars[i] = Variable{Name: it.Key, Value: it.Value}
	}
	return vars, nil
}

// seconds reads a number of seconds.
func seconds(v any) (time.Duration, error) {
	n, ok := toNumber(v)
	if !ok || n.float() < 0 {
		return 0, fmt.Errorf("expected a non-negative number of seconds, got %s", describe(v))
	}
	return time.Duration(n.float() * float64(time.Second)), nil
}

func parseAsyncConfig(v any, c *AsyncConfig) error {
	if v == nil {
		return nil
	}
	m, ok := v.(Map)
	if !ok {
		return fmt.Errorf("expected a mapping, got %s", describe(v))
	}
	for _, it := range m {
		var err error
		switch it.Key {
		case "PollIntervalSeconds":
			c.PollInterval, err = seconds(it.Value)
		case "NoProgressTimeoutSeconds":
			c.NoProgressTimeout, err = seconds(it.Value)
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			return fmt.Errorf("%s: %w", it.Key, err)
		}
	}
	return nil
}

func parseHistory(v any) ([]Map, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list of events, got %s", describe(v))
	}
	events := make([]Map, len(l))
	for i, x := range l {
		m, ok := x.(Map)
		if !ok {
			return nil, fmt.Errorf("[%d]: expected an event mapping, got %s", i, describe(x))
		}
		events[i] = m
	}
	return events, nil
}

func parseExpectedResult(v any) (*ExpectedResult, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(Map)
	if !ok {
		return nil, fmt.Errorf("expected a mapping, got %s", describe(v))
	}
	er := &ExpectedResult{}
	for _, it := range m {
		switch it.Key {
		case "ExecutionStatus":
			s, ok := it.Value.(string)
			if !ok {
				return nil, fmt.Errorf("ExecutionStatus: expected a string, got %s", describe(it.Value))
			}
			er.ExecutionStatus = s
		case "Result":
			er.HasResult, er.Result = true, it.Value
		default:
			return nil, fmt.Errorf("unknown key %q", it.Key)
		}
	}
	return er, nil
}

// LoadDir loads every requirement under dir: each <suite>/<id>.yaml (or
// .yml) at any depth, the suite being the name of the folder holding the
// file. IDs must be unique. The result is ordered by suite, then by ID with
// numbers compared numerically (1-2 before 1-10).
func LoadDir(dir string) ([]*Requirement, error) {
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS is [LoadDir] over a file system; name prefixes paths in errors.
func LoadFS(fsys fs.FS, name string) ([]*Requirement, error) {
	var reqs []*Requirement
	seen := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := path.Ext(p)
		if d.IsDir() || (ext != ".yaml" && ext != ".yml") {
			return nil
		}
		file := path.Join(name, p)
		id := strings.TrimSuffix(path.Base(p), ext)
		suite := path.Base(path.Dir(p))
		if suite == "." {
			return &SetupError{File: file, Err: fmt.Errorf("requirement is not inside a suite folder")}
		}
		if prev, dup := seen[id]; dup {
			return &SetupError{File: file, Err: fmt.Errorf("duplicate requirement ID %q, also in %s", id, prev)}
		}
		seen[id] = file
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		r, err := ParseRequirement(id, suite, file, data)
		if err != nil {
			return err
		}
		reqs = append(reqs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(reqs, func(a, b *Requirement) int {
		return cmp.Or(strings.Compare(path.Dir(a.File), path.Dir(b.File)), naturalCompare(a.ID, b.ID))
	})
	return reqs, nil
}

// Select keeps the requirements of the given suites and IDs. An empty list,
// or one containing "all", selects everything on that axis.
func Select(reqs []*Requirement, suites, ids []string) []*Requirement {
	all := func(l []string) bool { return len(l) == 0 || slices.Contains(l, "all") }
	var out []*Requirement
	for _, r := range reqs {
		if (all(suites) || slices.Contains(suites, r.Suite)) && (all(ids) || slices.Contains(ids, r.ID)) {
			out = append(out, r)
		}
	}
	return out
}

// naturalCompare orders strings with embedded numbers by numeric value.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			na, _ := strconv.Atoi(da)
			nb, _ := strconv.Atoi(db)
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
