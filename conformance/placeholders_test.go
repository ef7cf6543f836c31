package conformance

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestNewBindingsResolvesVariablesInOrder(t *testing.T) {
	vars := []Variable{
		{"INPUT_1", "${GEN_STR:8}"},
		{"CB", "${GEN_STR:12}"},
		{"LONG_DELAY_SECONDS", 1},
		{"RATIO", 0.5},
		{"WHOLE", 2.0},
		{"FLAG", true},
		{"NOTHING", nil},
		{"LITERAL", "plain ${INPUT_1}"}, // literal: not substituted
	}
	b, err := NewBindings(vars, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"INPUT_1", "CB", "LONG_DELAY_SECONDS", "RATIO", "WHOLE", "FLAG", "NOTHING", "LITERAL"}; !reflect.DeepEqual(b.Names(), want) {
		t.Errorf("Names = %v", b.Names())
	}
	alnum := regexp.MustCompile(`^[a-z0-9]+$`)
	for name, n := range map[string]int{"INPUT_1": 8, "CB": 12} {
		v, _ := b.Lookup(name)
		if s, _ := v.(string); len(s) != n || !alnum.MatchString(s) {
			t.Errorf("%s = %#v, want %d chars of [a-z0-9]", name, v, n)
		}
	}
	for name, want := range map[string]string{"LONG_DELAY_SECONDS": "1", "RATIO": "0.5", "WHOLE": "2.0", "FLAG": "True", "NOTHING": "None", "LITERAL": "plain ${INPUT_1}"} {
		if v, _ := b.Lookup(name); v != want {
			t.Errorf("%s = %#v, want %q (Python str)", name, v, want)
		}
	}
	// The same seed gives the same strings: a run can be reproduced.
	again, _ := NewBindings(vars, rand.New(rand.NewPCG(1, 2)))
	if !reflect.DeepEqual(b.Snapshot(), again.Snapshot()) {
		t.Error("same seed, different bindings")
	}
}

func TestSubstitute(t *testing.T) {
	b, _ := NewBindings([]Variable{{"INPUT_1", "abc12345"}, {"N", 3}}, nil)
	if err := b.Bind("ID1", int64(7)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want any
	}{
		{`"${INPUT_1}"`, `"abc12345"`},
		{"Hello, ${INPUT_1}!", "Hello, abc12345!"},
		{"${N}", "3"},         // always a string, never a number
		{"id ${ID1}", "id 7"}, // bound values render with Python str()
		{"${UNBOUND}", "${UNBOUND}"},
		{"${/^${INPUT_1}$/}", "${/^abc12345$/}"}, // embedded names inside regexes are names too
		{"${/^x$/}", "${/^x$/}"},
		{"${GEN_STR:8}", "${GEN_STR:8}"},
		{"$INPUT_1 {INPUT_1}", "$INPUT_1 {INPUT_1}"},
		{42, 42},
		{nil, nil},
		{Map{{"${INPUT_1}", "${INPUT_1}"}, {"l", []any{"${N}", 1}}}, Map{{"${INPUT_1}", "abc12345"}, {"l", []any{"3", 1}}}},
		{map[string]any{"k": "${N}"}, map[string]any{"k": "3"}},
	}
	for _, tt := range tests {
		if got := b.Substitute(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Substitute(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	orig := Map{{"k", "${N}"}}
	b.Substitute(orig)
	if orig[0].Value != "${N}" {
		t.Error("Substitute modified its input")
	}
}

func TestBindRefusesRebinding(t *testing.T) {
	b, _ := NewBindings(nil, nil)
	if err := b.Bind("ID1", "abc"); err != nil {
		t.Fatal(err)
	}
	if err := b.Bind("ID1", "abc"); err != nil {
		t.Errorf("rebinding to an equal value: %v", err)
	}
	if err := b.Bind("N", 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Bind("N", 1.0); err != nil {
		t.Errorf("1 and 1.0 are equal: %v", err)
	}
	err := b.Bind("ID1", "xyz")
	if err == nil || !strings.Contains(err.Error(), `${ID1} is bound to "abc", cannot rebind it to "xyz"`) {
		t.Errorf("err = %v", err)
	}
	if v, _ := b.Lookup("ID1"); v != "abc" {
		t.Errorf("ID1 = %v after a refused rebind", v)
	}
	c := b.Clone()
	_ = c.Bind("OTHER", 1)
	if _, ok := b.Lookup("OTHER"); ok {
		t.Error("Clone shares state")
	}
}

func TestNewBindingsRejectsDuplicateVariables(t *testing.T) {
	_, err := NewBindings([]Variable{{"A", "x"}, {"A", "y"}}, nil)
	if err == nil {
		t.Error("two different values for A accepted")
	}
}
