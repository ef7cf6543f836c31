package conformance

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
)

// regexCache holds compiled ${/re/} and /re/ patterns; the same few dozen
// patterns are matched against every event of every poll round.
var regexCache sync.Map // string -> *regexp.Regexp

// compileRegex compiles a pattern of the catalogue. Every pattern there is
// RE2-compatible; Python's re.search semantics (unanchored unless the pattern
// says ^ or $) are regexp.MatchString's.
func compileRegex(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid regex /%s/: %v", pattern, err)
	}
	regexCache.Store(pattern, re)
	return re, nil
}

// regexPlaceholder reports whether s is a whole ${/P/} and returns P.
func regexPlaceholder(s string) (string, bool) {
	m := wholeRegex.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// namePlaceholder reports whether s is a whole ${NAME} and returns NAME.
func namePlaceholder(s string) (string, bool) {
	if _, ok := regexPlaceholder(s); ok {
		return "", false
	}
	m := wholePlaceholder.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// MatchValue matches an actual value against an expected pattern with the
// history rules (README §4.5), binding placeholders in b. It returns one
// [Failure] per mismatch; none means a match. loc names where the pattern
// sits in the requirement, e.g. "EventId=5"; the failures carry loc plus the
// dotted path inside the value.
//
// The rules, first fit wins:
//  1. an empty mapping matches anything;
//  2. "*" matches anything, null included;
//  3. "${/P/}" searches P (unanchored) in Python's str() of the actual value;
//  4. "${NAME}": if bound, the actual value must equal the binding ([Equal]);
//     otherwise NAME is bound to it;
//  5. mappings: every expected key must be present (even with value {} or
//     "*"), and matches recursively; extra actual keys are ignored;
//  6. lists: equal lengths, element by element;
//  7. literals: expected strings get placeholders substituted, then [Equal].
func MatchValue(expected, actual any, loc string, b *Bindings) []Failure {
	m := matcher{b: b, loc: loc}
	m.match(expected, actual, "")
	return m.failures
}

type matcher struct {
	b        *Bindings
	loc      string
	failures []Failure
}

func (m *matcher) fail(path, format string, args ...any) {
	m.failures = append(m.failures, Failure{Phase: PhaseHistory, Path: joinLoc(m.loc, path), Message: fmt.Sprintf(format, args...)})
}

func (m *matcher) match(expected, actual any, path string) {
	if isMapping(expected) && mapLen(expected) == 0 {
		return
	}
	if s, ok := expected.(string); ok {
		if s == "*" {
			return
		}
		if pattern, ok := regexPlaceholder(s); ok {
			re, err := compileRegex(pattern)
			if err != nil {
				m.fail(path, "%v", err)
				return
			}
			if str := PythonStr(actual); !re.MatchString(str) {
				m.fail(path, "expected a match for /%s/, got %s (searched %q)", pattern, describe(actual), str)
			}
			return
		}
		if name, ok := namePlaceholder(s); ok {
			if bound, ok := m.b.Lookup(name); ok {
				if !Equal(bound, actual) {
					m.fail(path, "${%s} is bound to %s, got %s", name, describe(bound), describe(actual))
				}
				return
			}
			if err := m.b.Bind(name, actual); err != nil {
				m.fail(path, "%v", err)
			}
			return
		}
	}
	if isMapping(expected) {
		if !isMapping(actual) {
			m.fail(path, "expected a mapping, got %s", describe(actual))
			return
		}
		keys, _ := mapKeys(expected)
		for _, k := range keys {
			ev, _ := mapGet(expected, k)
			av, ok := mapGet(actual, k)
			if !ok {
				m.fail(joinPath(path, k), "key missing (expected %s)", describe(ev))
				continue
			}
			m.match(ev, av, joinPath(path, k))
		}
		return
	}
	if el, ok := expected.([]any); ok {
		al, ok := actual.([]any)
		if !ok {
			m.fail(path, "expected a list, got %s", describe(actual))
			return
		}
		if len(el) != len(al) {
			m.fail(path, "expected %d items, got %d", len(el), len(al))
			return
		}
		for i := range el {
			m.match(el[i], al[i], path+"["+strconv.Itoa(i)+"]")
		}
		return
	}
	if s, ok := expected.(string); ok {
		expected = m.b.SubstituteString(s)
	}
	if !Equal(expected, actual) {
		m.fail(path, "expected %s, got %s", describe(expected), describe(actual))
	}
}

func joinPath(path, key string) string {
	switch {
	case path == "":
		return key
	case key == "":
		return path
	}
	return path + "." + key
}

func joinLoc(loc, path string) string {
	switch {
	case loc == "":
		return path
	case path == "":
		return loc
	}
	return loc + ": " + path
}
