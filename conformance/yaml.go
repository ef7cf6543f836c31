package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Map is a YAML mapping with its keys in file order.
//
// Requirement values use Map rather than map[string]any because key order
// reaches the wire: a callback payload is sent as Python's json.dumps text and
// compared as a raw string, so {"a": 1, "b": 2} and {"b": 2, "a": 1} differ.
// Values decoded from actual JSON (histories, results, log records, spans)
// are plain map[string]any; every function of this package accepts both.
type Map []MapItem

// MapItem is one key of a [Map].
type MapItem struct {
	Key   string
	Value any
}

// Get returns the value of key and whether the key is present.
func (m Map) Get(key string) (any, bool) {
	for _, it := range m {
		if it.Key == key {
			return it.Value, true
		}
	}
	return nil, false
}

// Keys returns the keys in file order.
func (m Map) Keys() []string {
	keys := make([]string, len(m))
	for i, it := range m {
		keys[i] = it.Key
	}
	return keys
}

// MarshalJSON encodes m as a JSON object with its keys in order.
func (m Map) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, it := range m {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(it.Key); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(it.Value); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Plain converts requirement values to the shape encoding/json produces:
// every [Map] becomes a map[string]any. Other values are returned as they are.
func Plain(v any) any {
	switch v := v.(type) {
	case Map:
		m := make(map[string]any, len(v))
		for _, it := range v {
			m[it.Key] = Plain(it.Value)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = Plain(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = Plain(x)
		}
		return l
	}
	return v
}

// decodeYAML parses one YAML document the way the Python runner sees it
// (PyYAML safe_load, YAML 1.1 scalars): plain scalars resolve to nil, bool,
// int or float64; quoted and block scalars stay strings; mappings become Map.
// Blank input gives nil.
func decodeYAML(data []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, fmt.Errorf("line %d: more than one YAML document", extra.Line)
	case !errors.Is(err, io.EOF):
		return nil, err
	}
	d := &yamlDecoder{budget: maxYAMLValues, expanding: map[*yaml.Node]bool{}}
	return d.value(&doc)
}

// maxYAMLValues bounds alias expansion: a requirement has a few thousand
// values, a "billion laughs" document many more.
const maxYAMLValues = 1 << 20

type yamlDecoder struct {
	budget    int
	expanding map[*yaml.Node]bool // aliases being expanded, to refuse cycles
}

func (d *yamlDecoder) value(n *yaml.Node) (any, error) {
	if d.budget--; d.budget < 0 {
		return nil, fmt.Errorf("line %d: document too large after alias expansion", n.Line)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.value(n.Content[0])
	case yaml.AliasNode:
		if d.expanding[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s refers to itself", n.Line, n.Value)
		}
		d.expanding[n.Alias] = true
		defer delete(d.expanding, n.Alias)
		return d.value(n.Alias)
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.value(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.MappingNode:
		m := make(Map, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind != yaml.ScalarNode || kn.Value == "<<" {
				return nil, fmt.Errorf("line %d: unsupported mapping key (merge keys and complex keys are not part of the requirement format)", kn.Line)
			}
			k, err := scalarValue(kn)
			if err != nil {
				return nil, err
			}
			key, ok := k.(string)
			if !ok {
				// PyYAML would make this a non-string dict key, which never
				// equals a JSON key; quote it in the file.
				return nil, fmt.Errorf("line %d: mapping key %q is not a string in YAML 1.1; quote it", kn.Line, kn.Value)
			}
			if _, dup := m.Get(key); dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", kn.Line, key)
			}
			v, err := d.value(vn)
			if err != nil {
				return nil, err
			}
			m = append(m, MapItem{Key: key, Value: v})
		}
		return m, nil
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// YAML 1.1 implicit resolvers, as PyYAML's SafeLoader applies them.
var (
	yaml11Bool = map[string]bool{
		"yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true, "on": true, "On": true, "ON": true,
		"no": false, "No": false, "NO": false, "false": false, "False": false, "FALSE": false, "off": false, "Off": false, "OFF": false,
	}
	yaml11Null  = map[string]bool{"": true, "~": true, "null": true, "Null": true, "NULL": true}
	yaml11Int   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yaml11Float = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yaml11Time  = regexp.MustCompile(`^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$`)
)

func scalarValue(n *yaml.Node) (any, error) {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value, nil
	}
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.ShortTag() {
		case "!!str":
			return n.Value, nil
		case "!!null", "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			return v, nil
		}
		return nil, fmt.Errorf("line %d: unsupported tag %s", n.Line, n.Tag)
	}
	s := n.Value
	if yaml11Null[s] {
		return nil, nil
	}
	if b, ok := yaml11Bool[s]; ok {
		return b, nil
	}
	if yaml11Int.MatchString(s) {
		i, err := parseYAML11Int(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return i, nil
	}
	if yaml11Float.MatchString(s) {
		return parseYAML11Float(s), nil
	}
	if yaml11Time.MatchString(s) {
		return nil, fmt.Errorf("line %d: %q is a YAML 1.1 timestamp; quote it", n.Line, s)
	}
	return s, nil
}

func parseYAML11Int(s string) (int, error) {
	s = strings.ReplaceAll(s, "_", "")
	sign := 1
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	var (
		v   int64
		err error
	)
	switch {
	case s == "0":
	case strings.HasPrefix(s, "0b"):
		v, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case strings.HasPrefix(s, "0"):
		v, err = strconv.ParseInt(s[1:], 8, 64)
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			d, perr := strconv.ParseInt(part, 10, 64)
			if perr != nil {
				return 0, perr
			}
			v = v*60 + d
		}
	default:
		v, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil {
		return 0, fmt.Errorf("integer %q: %w", s, err)
	}
	return sign * int(v), nil
}

func parseYAML11Float(s string) float64 {
	s = strings.ReplaceAll(s, "_", "")
	sign := 1.0
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	switch strings.ToLower(s) {
	case ".inf":
		return sign * math.Inf(1)
	case ".nan":
		return math.NaN()
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		v := 0.0
		for _, p := range parts {
			d, _ := strconv.ParseFloat(p, 64)
			v = v*60 + d
		}
		return sign * v
	}
	v, _ := strconv.ParseFloat(s, 64) // the regexp admits only valid forms
	return sign * v
}
