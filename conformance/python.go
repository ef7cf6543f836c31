package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The official runner is written in Python, and several of its decisions
// depend on how Python renders values: regexes search str(actual), Variables
// bind str(value), callback results are json.dumps(payload). This file holds
// those renderings and the value model shared by every check.

// PythonStr renders v the way Python's str() renders the equivalent value:
// True/False, None, integers without a decimal point, floats in shortest
// form, strings as they are, lists and dicts as their repr.
//
// A float with an integral value renders without a decimal point ("3", not
// Python's "3.0"): JSON decoded by encoding/json carries every number as a
// float64, so an integer from the service must not turn into "3.0" (README
// §4.5). [DecodeJSON] keeps integers as int64, which renders the same way.
func PythonStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pythonRepr(v)
}

// pythonRepr renders v as Python's repr() would; numbers follow the integral
// rule of [PythonStr].
func pythonRepr(v any) string {
	switch v := v.(type) {
	case string:
		return pythonStringRepr(v)
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = pythonRepr(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	if n, ok := toNumber(v); ok {
		if n.isInt {
			return strconv.FormatInt(n.i, 10)
		}
		if n.f == math.Trunc(n.f) && math.Abs(n.f) < 1e16 {
			return strconv.FormatInt(int64(n.f), 10)
		}
		return pythonFloatRepr(n.f)
	}
	if keys, ok := mapKeys(v); ok {
		parts := make([]string, len(keys))
		for i, k := range keys {
			x, _ := mapGet(v, k)
			parts[i] = pythonStringRepr(k) + ": " + pythonRepr(x)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func pythonStringRepr(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pythonFloatRepr is Python's repr(float): the shortest round-tripping digits,
// positional for exponents in [-4, 16), scientific otherwise, and ".0" on
// integral values.
func pythonFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e // Go's shortest 'e' form matches Python's: 1e+16, 1.5e-05
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// PythonJSON encodes v as Python's json.dumps(v) does with its defaults:
// separators ", " and ": ", non-ASCII characters as \uXXXX escapes, floats
// as repr(), [Map] keys in order and map[string]any keys sorted.
func PythonJSON(v any) (string, error) {
	var b strings.Builder
	if err := writePythonJSON(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writePythonJSON(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(v))
		return nil
	case string:
		writePythonJSONString(b, v)
		return nil
	case json.Number:
		b.WriteString(v.String())
		return nil
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writePythonJSON(b, x); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	}
	if keys, ok := mapKeys(v); ok {
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writePythonJSONString(b, k)
			b.WriteString(": ")
			x, _ := mapGet(v, k)
			if err := writePythonJSON(b, x); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	if n, ok := toNumber(v); ok {
		switch {
		case n.isInt:
			b.WriteString(strconv.FormatInt(n.i, 10))
		case math.IsNaN(n.f):
			b.WriteString("NaN")
		case math.IsInf(n.f, 1):
			b.WriteString("Infinity")
		case math.IsInf(n.f, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(pythonFloatRepr(n.f))
		}
		return nil
	}
	return fmt.Errorf("conformance: cannot encode %T as JSON", v)
}

func writePythonJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

// number is a JSON or YAML number with its integer-ness kept, so that 1 and
// 1.0 compare equal while large integers stay exact.
type number struct {
	isInt bool
	i     int64
	f     float64
}

func (n number) float() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

// toNumber reports whether v is a number (booleans are not) and normalizes it.
func toNumber(v any) (number, bool) {
	switch v := v.(type) {
	case int:
		return number{isInt: true, i: int64(v)}, true
	case int8:
		return number{isInt: true, i: int64(v)}, true
	case int16:
		return number{isInt: true, i: int64(v)}, true
	case int32:
		return number{isInt: true, i: int64(v)}, true
	case int64:
		return number{isInt: true, i: v}, true
	case uint:
		return uintNumber(uint64(v)), true
	case uint8:
		return number{isInt: true, i: int64(v)}, true
	case uint16:
		return number{isInt: true, i: int64(v)}, true
	case uint32:
		return number{isInt: true, i: int64(v)}, true
	case uint64:
		return uintNumber(v), true
	case float32:
		return number{f: float64(v)}, true
	case float64:
		return number{f: v}, true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return number{isInt: true, i: i}, true
		}
		if f, err := v.Float64(); err == nil {
			return number{f: f}, true
		}
	}
	return number{}, false
}

func uintNumber(u uint64) number {
	if u > math.MaxInt64 {
		return number{f: float64(u)}
	}
	return number{isInt: true, i: int64(u)}
}

func numbersEqual(a, b number) bool {
	if a.isInt && b.isInt {
		return a.i == b.i
	}
	return a.float() == b.float()
}

// mapKeys returns the keys of a mapping value: a [Map] in order, a
// map[string]any sorted. ok is false for anything else.
func mapKeys(v any) (keys []string, ok bool) {
	switch v := v.(type) {
	case Map:
		return v.Keys(), true
	case map[string]any:
		keys = make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys, true
	}
	return nil, false
}

func isMapping(v any) bool {
	switch v.(type) {
	case Map, map[string]any:
		return true
	}
	return false
}

// mapGet looks key up in a mapping value.
func mapGet(v any, key string) (any, bool) {
	switch v := v.(type) {
	case Map:
		return v.Get(key)
	case map[string]any:
		x, ok := v[key]
		return x, ok
	}
	return nil, false
}

func mapLen(v any) int {
	switch v := v.(type) {
	case Map:
		return len(v)
	case map[string]any:
		return len(v)
	}
	return 0
}

// Equal is the deep equality of the result check and of bound placeholders:
// mappings ignore key order, lists are ordered, numbers compare by value (1
// equals 1.0), and strings, booleans and null compare by type and value. A
// boolean never equals a number.
func Equal(a, b any) bool {
	if isMapping(a) || isMapping(b) {
		ka, oka := mapKeys(a)
		kb, okb := mapKeys(b)
		if !oka || !okb || len(ka) != len(kb) {
			return false
		}
		for _, k := range ka {
			y, ok := mapGet(b, k)
			if !ok {
				return false
			}
			x, _ := mapGet(a, k)
			if !Equal(x, y) {
				return false
			}
		}
		return true
	}
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !Equal(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	if na, ok := toNumber(a); ok {
		nb, ok := toNumber(b)
		return ok && numbersEqual(na, nb)
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		s, ok := b.(string)
		return ok && s == a
	case bool:
		x, ok := b.(bool)
		return ok && x == a
	}
	return false
}

// describe renders a value for an error message: strings quoted Go-style,
// everything else as compact JSON.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// DecodeJSON decodes JSON text into nil, bool, string, int64 (integers that
// fit), float64, []any and map[string]any. Unlike encoding/json's default it
// keeps integers apart from floats, as Python's json.loads does.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("conformance: trailing data after JSON value")
	}
	return normalizeJSON(v), nil
}

func normalizeJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			if i, err := v.Int64(); err == nil {
				return i
			}
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = normalizeJSON(x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalizeJSON(x)
		}
	}
	return v
}
