package conformance

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// TelemetryAssertions are the trace assertions of an OTel requirement
// (README §3.4), validated at load time. Their values may hold placeholders;
// [CheckTelemetry] substitutes them before evaluating.
type TelemetryAssertions struct {
	// MinimumSpans is the least number of spans in the assembled trace.
	MinimumSpans int
	// MinimumInvocations, when above 1, is the least number of spans named
	// "invocation" (any case) carrying durable.invocation.first.
	MinimumInvocations int
	// RequireExecutionCorrelation (default true): some span carries the ARN
	// and no span carries an ARN outside AllowedExecutionArns.
	RequireExecutionCorrelation bool
	// AllowedExecutionArns also widens the correlated spans; the execution
	// ARN itself is always allowed.
	AllowedExecutionArns []string
	// RequireUniqueRootPerTrace: no trace ID has two distinct parentless spans.
	RequireUniqueRootPerTrace bool
	// SpanAssertions run in file order, each consuming the spans it selects.
	SpanAssertions []SpanAssertion
	// RequireAllSpans: every span matching a SpanAssertionScope selector
	// must have been selected by some assertion.
	RequireAllSpans    bool
	SpanAssertionScope []Map
	// ExactAttributePrefixes: on every selected span whose expect lists
	// attributes, the span's attribute keys with each prefix must be exactly
	// the listed ones with that prefix.
	ExactAttributePrefixes []string
}

// SpanAssertion is one entry of span_assertions.
type SpanAssertion struct {
	// Select is a partial matcher over unconsumed canonical spans.
	Select Map
	// Expect applies to every selected span.
	Expect Map
	// Counts are the accepted numbers of selected spans: [1] by default,
	// [N] for count: N, the alternatives of count: {$any_of: [...]}.
	Counts []int
}

var telemetryKeys = []string{
	"minimum_spans", "minimum_invocations", "require_execution_correlation", "allowed_execution_arns",
	"require_unique_root_per_trace", "span_assertions", "require_all_spans", "span_assertion_scope",
	"exact_attribute_prefixes",
}

// canonicalKeys are the properties of [Span.Canonical].
var canonicalKeys = map[string]bool{
	"trace_id": true, "span_id": true, "parent_span_id": true, "name": true, "kind": true,
	"start_time": true, "end_time": true, "status": true, "service_name": true, "attributes": true, "links": true,
}

func parseTelemetryAssertions(v any) (*TelemetryAssertions, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(Map)
	if !ok {
		return nil, fmt.Errorf("expected a mapping, got %s", describe(v))
	}
	ta := &TelemetryAssertions{MinimumSpans: 1, MinimumInvocations: 1, RequireExecutionCorrelation: true}
	for _, it := range m {
		var err error
		switch it.Key {
		case "minimum_spans":
			ta.MinimumSpans, err = nonNegativeInt(it.Value)
		case "minimum_invocations":
			ta.MinimumInvocations, err = nonNegativeInt(it.Value)
		case "require_execution_correlation":
			ta.RequireExecutionCorrelation, err = strictBool(it.Value)
		case "require_unique_root_per_trace":
			ta.RequireUniqueRootPerTrace, err = strictBool(it.Value)
		case "require_all_spans":
			ta.RequireAllSpans, err = strictBool(it.Value)
		case "allowed_execution_arns":
			ta.AllowedExecutionArns, err = stringOrList(it.Value)
		case "exact_attribute_prefixes":
			ta.ExactAttributePrefixes, err = stringOrList(it.Value)
		case "span_assertion_scope":
			ta.SpanAssertionScope, err = selectorList(it.Value)
		case "span_assertions":
			ta.SpanAssertions, err = parseSpanAssertions(it.Value)
		default:
			err = fmt.Errorf("unknown key (known: %s)", strings.Join(telemetryKeys, ", "))
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", it.Key, err)
		}
	}
	return ta, nil
}

func nonNegativeInt(v any) (int, error) {
	n, ok := toNumber(v)
	if !ok || !n.isInt || n.i < 0 {
		return 0, fmt.Errorf("expected a non-negative integer, got %s", describe(v))
	}
	return int(n.i), nil
}

func strictBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("expected true or false, got %s", describe(v))
	}
	return b, nil
}

func stringOrList(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a string or a list of strings, got %s", describe(v))
	}
	out := make([]string, len(l))
	for i, x := range l {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("[%d]: expected a string, got %s", i, describe(x))
		}
		out[i] = s
	}
	return out, nil
}

func selectorList(v any) ([]Map, error) {
	if m, ok := v.(Map); ok {
		return []Map{m}, validateSelector(m, nil)
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a selector or a list of selectors, got %s", describe(v))
	}
	out := make([]Map, len(l))
	for i, x := range l {
		m, ok := x.(Map)
		if !ok {
			return nil, fmt.Errorf("[%d]: expected a selector mapping, got %s", i, describe(x))
		}
		if err := validateSelector(m, nil); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = m
	}
	return out, nil
}

// validateSelector accepts canonical properties plus the given special keys.
func validateSelector(m Map, special map[string]bool) error {
	for _, it := range m {
		if !canonicalKeys[it.Key] && !special[it.Key] {
			return fmt.Errorf("unknown span property %q", it.Key)
		}
	}
	return nil
}

func parseSpanAssertions(v any) ([]SpanAssertion, error) {
	var items []any
	switch v := v.(type) {
	case Map:
		items = []any{v}
	case []any:
		items = v
	default:
		return nil, fmt.Errorf("expected an assertion or a list of assertions, got %s", describe(v))
	}
	out := make([]SpanAssertion, len(items))
	for i, x := range items {
		a, err := parseSpanAssertion(x)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = a
	}
	return out, nil
}

var (
	relationSpecial = map[string]bool{"$linked": true}
	parentSpecial   = map[string]bool{"$allow_outside": true}
	linkSpecial     = map[string]bool{"$occurrence": true, "count": true}
)

func parseSpanAssertion(v any) (SpanAssertion, error) {
	var a SpanAssertion
	m, ok := v.(Map)
	if !ok {
		return a, fmt.Errorf("expected a mapping, got %s", describe(v))
	}
	a.Counts = []int{1}
	for _, it := range m {
		switch it.Key {
		case "select":
			sel, ok := it.Value.(Map)
			if !ok {
				return a, fmt.Errorf("select: expected a mapping, got %s", describe(it.Value))
			}
			if err := validateSelector(sel, nil); err != nil {
				return a, fmt.Errorf("select: %w", err)
			}
			a.Select = sel
		case "expect":
			exp, ok := it.Value.(Map)
			if !ok {
				return a, fmt.Errorf("expect: expected a mapping, got %s", describe(it.Value))
			}
			if err := validateExpect(exp); err != nil {
				return a, fmt.Errorf("expect: %w", err)
			}
			a.Expect = exp
		case "count":
			counts, err := parseCount(it.Value)
			if err != nil {
				return a, fmt.Errorf("count: %w", err)
			}
			a.Counts = counts
		default:
			return a, fmt.Errorf("unknown key %q (known: select, expect, count)", it.Key)
		}
	}
	if a.Select == nil {
		return a, fmt.Errorf("select is required")
	}
	return a, nil
}

func parseCount(v any) ([]int, error) {
	if alts, ok := anyOf(v); ok {
		var counts []int
		for _, x := range alts {
			n, err := nonNegativeInt(x)
			if err != nil {
				return nil, err
			}
			counts = append(counts, n)
		}
		return counts, nil
	}
	n, err := nonNegativeInt(v)
	if err != nil {
		return nil, err
	}
	return []int{n}, nil
}

func validateExpect(exp Map) error {
	for _, it := range exp {
		switch it.Key {
		case "parent":
			sel, ok := it.Value.(Map)
			if !ok {
				return fmt.Errorf("parent: expected a selector mapping, got %s", describe(it.Value))
			}
			if err := validateSelector(sel, parentSpecial); err != nil {
				return fmt.Errorf("parent: %w", err)
			}
		case "before", "after", "inside":
			sel, ok := it.Value.(Map)
			if !ok {
				return fmt.Errorf("%s: expected a selector mapping, got %s", it.Key, describe(it.Value))
			}
			if err := validateSelector(sel, relationSpecial); err != nil {
				return fmt.Errorf("%s: %w", it.Key, err)
			}
		case "links":
			lists := []any{it.Value}
			if alts, ok := anyOf(it.Value); ok {
				lists = alts
			}
			for _, l := range lists {
				items, ok := l.([]any)
				if !ok {
					return fmt.Errorf("links: expected a list or {$any_of: [lists]}, got %s", describe(l))
				}
				for i, x := range items {
					item, ok := x.(Map)
					if !ok {
						return fmt.Errorf("links[%d]: expected a selector mapping, got %s", i, describe(x))
					}
					if err := validateSelector(item, linkSpecial); err != nil {
						return fmt.Errorf("links[%d]: %w", i, err)
					}
				}
			}
		default:
			if !canonicalKeys[it.Key] {
				return fmt.Errorf("unknown span property %q", it.Key)
			}
		}
	}
	return nil
}

// anyOf reports whether v is {$any_of: [alternatives]}.
func anyOf(v any) ([]any, bool) {
	if mapLen(v) != 1 {
		return nil, false
	}
	alts, ok := mapGet(v, "$any_of")
	if !ok {
		return nil, false
	}
	l, ok := alts.([]any)
	return l, ok
}

// Attribute keys that carry an execution ARN, for the correlation check.
var arnAttributes = []string{"durable.execution.arn", "aws.lambda.durable_execution.arn", "durable_execution_arn"}

// CorrelatedSpans assembles the trace the assertions see (README §3.3): the
// primary trace, the one holding a span named Workflow whose
// durable.execution.arn is arn (else the first trace holding any span with
// that ARN), with all its spans; plus every span of other traces whose
// durable.execution.arn is arn or one of allowed. ok is false when no span
// carries arn.
func CorrelatedSpans(spans []Span, arn string, allowed []string) (trace []Span, ok bool) {
	primary := ""
	for _, s := range spans {
		if s.Name == "Workflow" && s.Attributes["durable.execution.arn"] == arn {
			primary = s.TraceID
			break
		}
	}
	if primary == "" {
		for _, s := range spans {
			if s.Attributes["durable.execution.arn"] == arn {
				primary = s.TraceID
				break
			}
		}
	}
	if primary == "" {
		return nil, false
	}
	inScope := map[string]bool{arn: true}
	for _, a := range allowed {
		inScope[a] = true
	}
	for _, s := range spans {
		a, _ := s.Attributes["durable.execution.arn"].(string)
		if s.TraceID == primary || inScope[a] {
			trace = append(trace, s)
		}
	}
	return trace, true
}

// CheckTelemetry assembles the trace of the execution from spans and
// evaluates the assertions once (README §3.4, §4.7 step 4). b must bind
// EXECUTION_ARN and SERVICE_NAME besides the Variables and the history
// placeholders; the assertions are substituted with it first.
func CheckTelemetry(ta *TelemetryAssertions, spans []Span, b *Bindings) []Failure {
	if ta == nil {
		return nil
	}
	arnValue, ok := b.Lookup("EXECUTION_ARN")
	if !ok {
		return []Failure{{Phase: PhaseTelemetry, Message: "EXECUTION_ARN is not bound"}}
	}
	arn := PythonStr(arnValue)
	sub := ta.substitute(b)
	trace, ok := CorrelatedSpans(spans, arn, sub.AllowedExecutionArns)
	if !ok {
		return []Failure{{Phase: PhaseTelemetry, Message: fmt.Sprintf("no span carries durable.execution.arn = %s (%d spans exported)", arn, len(spans))}}
	}
	v := newTraceValidator(sub, trace, arn)
	v.run()
	return v.failures
}

// substitute returns a copy of ta with placeholders substituted in every
// selector, expectation and ARN.
func (ta *TelemetryAssertions) substitute(b *Bindings) *TelemetryAssertions {
	out := *ta
	strs := func(l []string) []string {
		r := make([]string, len(l))
		for i, s := range l {
			r[i] = b.SubstituteString(s)
		}
		return r
	}
	maps := func(l []Map) []Map {
		if l == nil {
			return nil
		}
		r := make([]Map, len(l))
		for i, m := range l {
			r[i], _ = b.Substitute(m).(Map)
		}
		return r
	}
	out.AllowedExecutionArns = strs(ta.AllowedExecutionArns)
	out.ExactAttributePrefixes = strs(ta.ExactAttributePrefixes)
	out.SpanAssertionScope = maps(ta.SpanAssertionScope)
	out.SpanAssertions = make([]SpanAssertion, len(ta.SpanAssertions))
	for i, a := range ta.SpanAssertions {
		a.Select, _ = b.Substitute(a.Select).(Map)
		a.Expect, _ = b.Substitute(a.Expect).(Map)
		out.SpanAssertions[i] = a
	}
	return &out
}

type traceValidator struct {
	ta       *TelemetryAssertions
	spans    []Span
	canon    []map[string]any
	arn      string
	failures []Failure
}

func newTraceValidator(ta *TelemetryAssertions, spans []Span, arn string) *traceValidator {
	v := &traceValidator{ta: ta, spans: spans, arn: arn, canon: make([]map[string]any, len(spans))}
	for i, s := range spans {
		v.canon[i] = s.Canonical()
	}
	return v
}

func (v *traceValidator) fail(path, format string, args ...any) {
	v.failures = append(v.failures, Failure{Phase: PhaseTelemetry, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *traceValidator) run() {
	ta := v.ta
	if len(v.spans) < ta.MinimumSpans {
		v.fail("minimum_spans", "expected at least %d spans, got %d", ta.MinimumSpans, len(v.spans))
	}
	if ta.MinimumInvocations > 1 {
		n := 0
		for _, s := range v.spans {
			if _, ok := s.Attributes["durable.invocation.first"]; ok && strings.EqualFold(s.Name, "invocation") {
				n++
			}
		}
		if n < ta.MinimumInvocations {
			v.fail("minimum_invocations", "expected at least %d Invocation spans, got %d", ta.MinimumInvocations, n)
		}
	}
	if ta.RequireExecutionCorrelation {
		v.checkCorrelation()
	}
	if ta.RequireUniqueRootPerTrace {
		v.checkUniqueRoots()
	}
	for _, s := range v.spans {
		if s.Start.After(s.End) {
			v.fail("", "span %s ends before it starts", spanName(s))
		}
	}
	consumed := make([]bool, len(v.spans))
	for i, a := range ta.SpanAssertions {
		v.checkAssertion(i, a, consumed)
	}
	if ta.RequireAllSpans {
		scope := ta.SpanAssertionScope
		if scope == nil {
			scope = []Map{{}}
		}
		for j, s := range v.spans {
			if consumed[j] {
				continue
			}
			for _, sel := range scope {
				if primitiveMatch(sel, v.canon[j], "") == nil {
					v.fail("require_all_spans", "span %s is in scope but no assertion selects it", spanName(s))
					break
				}
			}
		}
	}
}

func spanName(s Span) string {
	return fmt.Sprintf("%q (span_id %s, trace_id %s)", s.Name, s.SpanID, s.TraceID)
}

func (v *traceValidator) checkCorrelation() {
	allowed := append([]string{v.arn}, v.ta.AllowedExecutionArns...)
	isAllowed := func(s string) bool {
		return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, s) })
	}
	found := false
	for _, s := range v.spans {
		for _, key := range arnAttributes {
			x, ok := s.Attributes[key]
			if !ok {
				continue
			}
			val := PythonStr(x)
			if strings.EqualFold(val, v.arn) {
				found = true
			}
			if !isAllowed(val) {
				v.fail("require_execution_correlation", "span %s carries %s = %q, outside the allowed execution ARNs", spanName(s), key, val)
			}
		}
	}
	if !found {
		v.fail("require_execution_correlation", "no span carries the execution ARN %s", v.arn)
	}
}

func (v *traceValidator) checkUniqueRoots() {
	roots := map[string][]string{}
	for _, s := range v.spans {
		if s.ParentSpanID != "" || slices.Contains(roots[s.TraceID], s.SpanID) {
			continue
		}
		roots[s.TraceID] = append(roots[s.TraceID], s.SpanID)
	}
	var traces []string
	for t, ids := range roots {
		if len(ids) > 1 {
			traces = append(traces, t)
		}
	}
	slices.Sort(traces)
	for _, t := range traces {
		var names []string
		for _, s := range v.spans {
			if s.TraceID == t && s.ParentSpanID == "" {
				names = append(names, strconv.Quote(s.Name)+" "+s.SpanID)
			}
		}
		v.fail("require_unique_root_per_trace", "trace %s has %d root spans: %s", t, len(roots[t]), strings.Join(names, ", "))
	}
}

func (v *traceValidator) checkAssertion(i int, a SpanAssertion, consumed []bool) {
	loc := fmt.Sprintf("span_assertions[%d]", i)
	var selected []int
	for j := range v.spans {
		if !consumed[j] && primitiveMatch(a.Select, v.canon[j], "") == nil {
			selected = append(selected, j)
		}
	}
	for _, j := range selected {
		consumed[j] = true
	}
	if !slices.Contains(a.Counts, len(selected)) {
		switch {
		case len(selected) == 0:
			v.fail(loc+".select", "%s matched no spans", describeFields(a.Select))
		case len(a.Counts) == 1 && a.Counts[0] == 1:
			v.fail(loc+".select", "%s must select exactly one span, selected %d: %s", describeFields(a.Select), len(selected), v.names(selected))
		default:
			v.fail(loc+".select", "%s selected %d spans, expected %s: %s", describeFields(a.Select), len(selected), describe(toAnySlice(a.Counts)), v.names(selected))
		}
		return
	}
	for _, j := range selected {
		v.checkExpect(loc+".expect", a.Expect, j)
	}
}

func (v *traceValidator) names(idx []int) string {
	parts := make([]string, len(idx))
	for i, j := range idx {
		parts[i] = spanName(v.spans[j])
	}
	return strings.Join(parts, ", ")
}

func (v *traceValidator) checkExpect(loc string, exp Map, j int) {
	s := v.spans[j]
	who := "span " + spanName(s)
	for _, it := range exp {
		path := loc + "." + it.Key
		switch it.Key {
		case "parent":
			v.checkParent(path, it.Value.(Map), j)
		case "links":
			v.checkLinks(path, it.Value, j)
		case "before", "after", "inside":
			v.checkRelation(path, it.Key, it.Value.(Map), j)
		default:
			actual, ok := v.canon[j][it.Key]
			if !ok {
				v.fail(path, "%s: property missing", who)
				continue
			}
			if m := primitiveMatch(it.Value, actual, ""); m != nil {
				v.fail(joinPath(path, m.path), "%s: %s", who, m.why)
			}
		}
	}
	if attrs, ok := exp.Get("attributes"); ok && isMapping(attrs) {
		for _, prefix := range v.ta.ExactAttributePrefixes {
			keys, _ := mapKeys(attrs)
			want := map[string]bool{}
			for _, k := range keys {
				if strings.HasPrefix(k, prefix) {
					want[k] = true
				}
			}
			var extra, missing []string
			for k := range s.Attributes {
				if strings.HasPrefix(k, prefix) && !want[k] {
					extra = append(extra, k)
				}
			}
			for k := range want {
				if _, ok := s.Attributes[k]; !ok {
					missing = append(missing, k)
				}
			}
			slices.Sort(extra)
			slices.Sort(missing)
			if len(extra) > 0 || len(missing) > 0 {
				v.fail(loc+".attributes", "%s: exact_attribute_prefixes %q: unexpected %v, missing %v", who, prefix, extra, missing)
			}
		}
	}
}

// withoutKeys returns m minus the special keys.
func withoutKeys(m Map, special map[string]bool) Map {
	out := make(Map, 0, len(m))
	for _, it := range m {
		if !special[it.Key] {
			out = append(out, it)
		}
	}
	return out
}

func (v *traceValidator) find(traceID, spanID string) []int {
	var idx []int
	for k, s := range v.spans {
		if s.TraceID == traceID && s.SpanID == spanID {
			idx = append(idx, k)
		}
	}
	return idx
}

func (v *traceValidator) checkParent(path string, sel Map, j int) {
	s := v.spans[j]
	who := "span " + spanName(s)
	if s.ParentSpanID == "" {
		v.fail(path, "%s has no parent", who)
		return
	}
	allowOutside, _ := mapGet(sel, "$allow_outside")
	props := withoutKeys(sel, parentSpecial)
	candidates := v.find(s.TraceID, s.ParentSpanID)
	if len(candidates) == 0 {
		v.fail(path, "%s: parent %s is not in the trace", who, s.ParentSpanID)
		return
	}
	var mismatch *mismatch
	for _, k := range candidates {
		if m := primitiveMatch(props, v.canon[k], ""); m != nil {
			mismatch = m
			continue
		}
		p := v.spans[k]
		if allowOutside != true && (s.Start.Before(p.Start) || p.End.Before(s.End)) {
			v.fail(path, "%s is not inside its parent %s (child %s..%s, parent %s..%s); use $allow_outside if it spans invocations", who, spanName(p), s.Start.Format(timeFmt), s.End.Format(timeFmt), p.Start.Format(timeFmt), p.End.Format(timeFmt))
		}
		return
	}
	v.fail(joinPath(path, mismatch.path), "%s: parent %s: %s", who, spanName(v.spans[candidates[0]]), mismatch.why)
}

const timeFmt = "15:04:05.000000000"

func (v *traceValidator) checkLinks(path string, spec any, j int) {
	if alts, ok := anyOf(spec); ok {
		var whys []string
		for _, alt := range alts {
			why := v.linksMismatch(alt.([]any), j)
			if why == "" {
				return
			}
			whys = append(whys, why)
		}
		v.fail(path, "span %s: no alternative matches: %s", spanName(v.spans[j]), strings.Join(whys, "; "))
		return
	}
	if why := v.linksMismatch(spec.([]any), j); why != "" {
		v.fail(path, "span %s: %s", spanName(v.spans[j]), why)
	}
}

// linksMismatch checks a span's links against a list of link items and
// explains the first mismatch; "" means they match.
func (v *traceValidator) linksMismatch(items []any, j int) string {
	links := v.spans[j].Links
	if len(links) != len(items) {
		return fmt.Sprintf("expected %d links, got %d", len(items), len(links))
	}
	for i, x := range items {
		item := x.(Map)
		link := links[i]
		props := withoutKeys(item, linkSpecial)
		want := 1
		if c, ok := item.Get("count"); ok {
			n, err := nonNegativeInt(c)
			if err != nil {
				return fmt.Sprintf("[%d].count: %v", i, err)
			}
			want = n
		}
		candidates := v.find(link.TraceID, link.SpanID)
		if len(candidates) == 0 {
			return fmt.Sprintf("[%d]: linked span %s/%s is not in the trace", i, link.TraceID, link.SpanID)
		}
		matched := 0
		var last *mismatch
		for _, k := range candidates {
			if m := primitiveMatch(props, v.canon[k], ""); m != nil {
				last = m
				continue
			}
			matched++
		}
		if matched != want {
			if matched == 0 {
				return fmt.Sprintf("[%d]: linked span %s: %s", i, spanName(v.spans[candidates[0]]), last)
			}
			return fmt.Sprintf("[%d]: %d exported spans with the linked ID match, expected %d", i, matched, want)
		}
		if occ, ok := item.Get("$occurrence"); ok {
			k, err := nonNegativeInt(occ)
			if err != nil || k == 0 {
				return fmt.Sprintf("[%d].$occurrence: expected a positive integer, got %s", i, describe(occ))
			}
			var all []int
			for n := range v.spans {
				if primitiveMatch(props, v.canon[n], "") == nil {
					all = append(all, n)
				}
			}
			slices.SortStableFunc(all, func(a, b int) int {
				sa, sb := v.spans[a], v.spans[b]
				return cmp.Or(sa.Start.Compare(sb.Start), sa.End.Compare(sb.End), strings.Compare(sa.TraceID, sb.TraceID), strings.Compare(sa.SpanID, sb.SpanID))
			})
			if len(all) < k {
				return fmt.Sprintf("[%d]: $occurrence %d, but only %d spans match %s", i, k, len(all), describeFields(props))
			}
			target := v.spans[all[k-1]]
			if target.TraceID != link.TraceID || target.SpanID != link.SpanID {
				pos := slices.IndexFunc(all, func(n int) bool {
					return v.spans[n].TraceID == link.TraceID && v.spans[n].SpanID == link.SpanID
				})
				return fmt.Sprintf("[%d]: links to occurrence %d of %s, expected occurrence %d, %s", i, pos+1, describeFields(props), k, spanName(target))
			}
		}
	}
	return ""
}

func (v *traceValidator) checkRelation(path, rel string, sel Map, j int) {
	s := v.spans[j]
	who := "span " + spanName(s)
	linked, _ := mapGet(sel, "$linked")
	props := withoutKeys(sel, relationSpecial)
	var matches []int
	for k := range v.spans {
		if k == j {
			continue
		}
		if linked == true && !slices.Contains(s.Links, SpanLink{TraceID: v.spans[k].TraceID, SpanID: v.spans[k].SpanID}) {
			continue
		}
		if primitiveMatch(props, v.canon[k], "") == nil {
			matches = append(matches, k)
		}
	}
	if len(matches) != 1 {
		v.fail(path, "%s: selector %s must match exactly one other span, matched %d", who, describeFields(sel), len(matches))
		return
	}
	o := v.spans[matches[0]]
	var ok bool
	var want string
	switch rel {
	case "before":
		ok, want = !s.End.After(o.Start), "end at or before the start of"
	case "after":
		ok, want = !s.Start.Before(o.End), "start at or after the end of"
	case "inside":
		ok, want = !s.Start.Before(o.Start) && !s.End.After(o.End), "lie inside"
	}
	if !ok {
		v.fail(path, "%s (%s..%s) must %s %s (%s..%s)", who, s.Start.Format(timeFmt), s.End.Format(timeFmt), want, spanName(o), o.Start.Format(timeFmt), o.End.Format(timeFmt))
	}
}

// mismatch explains why a primitive match failed, at a path inside the value.
type mismatch struct {
	path string
	why  string
}

func (m *mismatch) String() string {
	if m.path == "" {
		return m.why
	}
	return m.path + ": " + m.why
}

// primitiveMatch is the telemetry matcher (README §3.4): "*" accepts
// anything; "${/re/}" searches Python's str() of the value; {$any_of: [...]}
// accepts any alternative; a mapping is partial but its keys must exist; a
// sequence must have the same length and match in order; scalars use
// [Equal]. It returns nil on a match.
func primitiveMatch(expected, actual any, path string) *mismatch {
	if s, ok := expected.(string); ok {
		if s == "*" {
			return nil
		}
		if pattern, ok := regexPlaceholder(s); ok {
			re, err := compileRegex(pattern)
			if err != nil {
				return &mismatch{path, err.Error()}
			}
			if !re.MatchString(PythonStr(actual)) {
				return &mismatch{path, fmt.Sprintf("expected a match for /%s/, got %s", pattern, describe(actual))}
			}
			return nil
		}
	}
	if alts, ok := anyOf(expected); ok {
		for _, alt := range alts {
			if primitiveMatch(alt, actual, path) == nil {
				return nil
			}
		}
		return &mismatch{path, fmt.Sprintf("expected any of %s, got %s", describe(alts), describe(actual))}
	}
	if isMapping(expected) {
		if !isMapping(actual) {
			return &mismatch{path, fmt.Sprintf("expected a mapping, got %s", describe(actual))}
		}
		keys, _ := mapKeys(expected)
		for _, k := range keys {
			ev, _ := mapGet(expected, k)
			av, ok := mapGet(actual, k)
			if !ok {
				return &mismatch{joinPath(path, k), fmt.Sprintf("key missing (expected %s)", describe(ev))}
			}
			if m := primitiveMatch(ev, av, joinPath(path, k)); m != nil {
				return m
			}
		}
		return nil
	}
	if el, ok := expected.([]any); ok {
		al, ok := actual.([]any)
		if !ok {
			return &mismatch{path, fmt.Sprintf("expected a list, got %s", describe(actual))}
		}
		if len(el) != len(al) {
			return &mismatch{path, fmt.Sprintf("expected %d items, got %d", len(el), len(al))}
		}
		for i := range el {
			if m := primitiveMatch(el[i], al[i], path+"["+strconv.Itoa(i)+"]"); m != nil {
				return m
			}
		}
		return nil
	}
	if !Equal(expected, actual) {
		return &mismatch{path, fmt.Sprintf("expected %s, got %s", describe(expected), describe(actual))}
	}
	return nil
}
