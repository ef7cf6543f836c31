package conformance

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestPythonStr(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"text", "text"},
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{42, "42"},
		{int64(-7), "-7"},
		{uint64(42), "42"},
		{3.0, "3"}, // integral floats render as ints: JSON numbers decode to float64
		{2.5, "2.5"},
		{0.1, "0.1"},
		{1e-5, "1e-05"},
		{1234567.5, "1234567.5"},
		{1.5e20, "1.5e+20"},
		{1e16, "1e+16"},
		{json.Number("12"), "12"},
		{math.NaN(), "nan"},
		{math.Inf(-1), "-inf"},
		{[]any{1, "a", nil, true}, "[1, 'a', None, True]"},
		{Map{{"k", "it's"}, {"n", 2}}, `{'k': "it's", 'n': 2}`},
		{map[string]any{"b": 1, "a": "x"}, "{'a': 'x', 'b': 1}"},
	}
	for _, tt := range tests {
		if got := PythonStr(tt.in); got != tt.want {
			t.Errorf("PythonStr(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPythonJSON(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "null"},
		{"approved", `"approved"`},
		{42, "42"},
		{1.0, "1.0"}, // a YAML float is a Python float
		{2.5, "2.5"},
		{Map{{"status", "approved"}}, `{"status": "approved"}`},
		{Map{{"b", 1}, {"a", []any{true, nil}}}, `{"b": 1, "a": [true, null]}`},
		{"caf\u00e9 \U0001F600 \"q\" \\ /\n\x7f", `"caf\u00e9 \ud83d\ude00 \"q\" \\ /\n\u007f"`},
		{map[string]any{"z": 1, "a": 2}, `{"a": 2, "z": 1}`},
	}
	for _, tt := range tests {
		got, err := PythonJSON(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("PythonJSON(%#v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := PythonJSON(struct{}{}); err == nil {
		t.Error("PythonJSON(struct{}{}) succeeded")
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b any
		want bool
	}{
		{1, 1.0, true},
		{1, int64(1), true},
		{json.Number("1"), 1, true},
		{"1", 1, false},
		{true, 1, false},
		{true, true, true},
		{nil, nil, true},
		{nil, "", false},
		{Map{{"a", 1}, {"b", 2}}, map[string]any{"b": 2.0, "a": int64(1)}, true},
		{Map{{"a", 1}}, map[string]any{"a": 1, "b": 2}, false},
		{[]any{1, 2}, []any{2, 1}, false},
		{[]any{1, Map{{"x", "y"}}}, []any{1.0, map[string]any{"x": "y"}}, true},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestMapMarshalJSONKeepsOrder(t *testing.T) {
	got, err := json.Marshal(Map{{"z", "v"}, {"a", Map{{"y", 1}, {"x", []any{nil}}}}})
	if want := `{"z":"v","a":{"y":1,"x":[null]}}`; err != nil || string(got) != want {
		t.Errorf("Marshal = %s, %v; want %s", got, err, want)
	}
	if got := describe(Map{{"k", "<v>"}}); got != `{"k":"<v>"}` {
		t.Errorf("describe = %s", got)
	}
}

func TestDecodeJSONKeepsIntegers(t *testing.T) {
	got, err := DecodeJSON([]byte(`{"i": 3, "f": 3.0, "e": 1e2, "big": 123456789012345678901, "l": [1, "x", null, false]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": int64(3), "f": 3.0, "e": 100.0, "big": 123456789012345678901.0, "l": []any{int64(1), "x", nil, false}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeJSON = %#v, want %#v", got, want)
	}
	if _, err := DecodeJSON([]byte(`1 2`)); err == nil {
		t.Error("trailing data accepted")
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"Events": [{"EventId": 1}]}`))
	f.Add([]byte(`[1.5, "x", null]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		if err != nil {
			return
		}
		// Whatever decodes must render without panicking.
		_ = PythonStr(v)
		_, _ = PythonJSON(v)
	})
}
