package conformance

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
)

// Variable is one entry of a requirement's Variables, in file order.
type Variable struct {
	Name  string
	Value any
}

// Bindings is the placeholder context of one requirement run (README §4.4):
// the Variables, then every ${NAME} bound while matching the history, then
// EXECUTION_ARN and SERVICE_NAME for the telemetry phase. Bindings persist
// for the whole run, across poll rounds; a name never changes value.
//
// A Bindings is not safe for concurrent use.
type Bindings struct {
	names  []string // in binding order, for reports
	values map[string]any
}

var (
	genStrPattern = regexp.MustCompile(`^\$\{GEN_STR:(\d+)\}$`)
	// placeholderPattern finds the ${NAME} occurrences that substitution
	// replaces; regex placeholders ${/re/} never match it.
	placeholderPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	// wholePlaceholder is the runner's binding pattern, ^\$\{(.+)\}$, minus
	// the regex form, which the matchers test first.
	wholePlaceholder = regexp.MustCompile(`^\$\{(.+)\}$`)
	wholeRegex       = regexp.MustCompile(`^\$\{/(.*)/\}$`)
)

const genStrAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewBindings resolves vars in order: ${GEN_STR:N} becomes N random
// characters from [a-z0-9]; any other value is bound as Python's str() of it,
// so LONG_DELAY_SECONDS: 1 binds "1". rnd drives GEN_STR; nil means a fresh
// random source.
func NewBindings(vars []Variable, rnd *rand.Rand) (*Bindings, error) {
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	b := &Bindings{values: map[string]any{}}
	for _, v := range vars {
		value := PythonStr(v.Value)
		if f, ok := v.Value.(float64); ok {
			// A YAML float is a Python float: 1.0 binds "1.0". The integral
			// rule of PythonStr is for JSON numbers, not for these.
			value = pythonFloatRepr(f)
		}
		if s, ok := v.Value.(string); ok {
			if m := genStrPattern.FindStringSubmatch(s); m != nil {
				n, err := strconv.Atoi(m[1])
				if err != nil || n > 1<<16 {
					return nil, fmt.Errorf("conformance: variable %s: GEN_STR length %q out of range", v.Name, m[1])
				}
				buf := make([]byte, n)
				for i := range buf {
					buf[i] = genStrAlphabet[rnd.IntN(len(genStrAlphabet))]
				}
				value = string(buf)
			}
		}
		if err := b.Bind(v.Name, value); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Lookup returns the value bound to name.
func (b *Bindings) Lookup(name string) (any, bool) {
	v, ok := b.values[name]
	return v, ok
}

// Bind binds name to v. Binding a bound name again is allowed only with an
// equal value ([Equal]); otherwise Bind returns an error and keeps the old
// value.
func (b *Bindings) Bind(name string, v any) error {
	if old, ok := b.values[name]; ok {
		if !Equal(old, v) {
			return fmt.Errorf("conformance: ${%s} is bound to %s, cannot rebind it to %s", name, describe(old), describe(v))
		}
		return nil
	}
	b.names = append(b.names, name)
	b.values[name] = v
	return nil
}

// Names returns the bound names in binding order.
func (b *Bindings) Names() []string {
	return append([]string(nil), b.names...)
}

// Snapshot returns a copy of the bindings for a report.
func (b *Bindings) Snapshot() map[string]any {
	m := make(map[string]any, len(b.values))
	for k, v := range b.values {
		m[k] = v
	}
	return m
}

// Clone returns an independent copy of b.
func (b *Bindings) Clone() *Bindings {
	return &Bindings{names: b.Names(), values: b.Snapshot()}
}

// SubstituteString replaces every ${NAME} whose NAME is bound with Python's
// str() of the bound value. Unbound names and ${/re/} are left as written.
func (b *Bindings) SubstituteString(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return placeholderPattern.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := b.values[m[2:len(m)-1]]; ok {
			return PythonStr(v)
		}
		return m
	})
}

// Substitute walks v (maps, lists, strings) and substitutes every string with
// [Bindings.SubstituteString]. The result of substituting a string is always
// a string: "${N}" with N bound to 3 gives "3", never the number. Keys are
// not substituted. v itself is not modified.
func (b *Bindings) Substitute(v any) any {
	switch v := v.(type) {
	case string:
		return b.SubstituteString(v)
	case Map:
		out := make(Map, len(v))
		for i, it := range v {
			out[i] = MapItem{Key: it.Key, Value: b.Substitute(it.Value)}
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = b.Substitute(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = b.Substitute(x)
		}
		return out
	}
	return v
}
