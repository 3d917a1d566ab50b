package jsonx

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

type rawMarshaler string

func (r rawMarshaler) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestEncoderValue(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  string
	}{
		{name: "nil", value: nil, want: `null`},
		{name: "bool", value: true, want: `true`},
		{name: "int", value: 3, want: `3`},
		{name: "negative int64", value: int64(-9), want: `-9`},
		{name: "max uint64", value: uint64(math.MaxUint64), want: `18446744073709551615`},
		{name: "whole float", value: 2.0, want: `2`},
		{name: "fraction", value: 0.25, want: `0.25`},
		{name: "small float", value: 1e-7, want: `1e-7`},
		{name: "large float", value: 1e21, want: `1e+21`},
		{name: "string escapes", value: "a\"\\\n\x01", want: `"a\"\\\n\u0001"`},
		{name: "line separator", value: "a\u2028b\u2029", want: `"a\u2028b\u2029"`},
		{name: "invalid utf8", value: "a\xffb", want: `"a\ufffdb"`},
		{name: "unicode kept", value: "é😀", want: `"é😀"`},
		{
			name:  "sorted map",
			value: map[string]any{"b": 1, "a": []any{"x", nil}},
			want:  `{"a":["x",null],"b":1}`,
		},
		{name: "string map", value: map[string]string{"k": "v"}, want: `{"k":"v"}`},
		{name: "int map", value: map[string]int{"web": 2, "db": 1}, want: `{"db":1,"web":2}`},
		{name: "nil slice", value: []string(nil), want: `null`},
		{name: "empty slice", value: []string{}, want: `[]`},
		{name: "slice of maps", value: []map[string]any{{"a": 1}, {}}, want: `[{"a":1},{}]`},
		{name: "marshaler", value: rawMarshaler(` {"x": [1]} `), want: ` {"x": [1]} `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder(nil)
			e.Value(tt.value)
			if err := e.Err(); err != nil {
				t.Fatalf("Value(%#v) error: %v", tt.value, err)
			}
			if got := string(e.Bytes()); got != tt.want {
				t.Errorf("Value(%#v) = %s, want %s", tt.value, got, tt.want)
			}
			if !json.Valid(e.Bytes()) {
				t.Errorf("Value(%#v) wrote invalid JSON %s", tt.value, e.Bytes())
			}
		})
	}
}

func TestEncoderUnsupported(t *testing.T) {
	tests := []struct {
		name  string
		value any
	}{
		{name: "struct", value: struct{ A int }{1}},
		{name: "NaN", value: math.NaN()},
		{name: "infinity", value: math.Inf(1)},
		{name: "invalid marshaler output", value: rawMarshaler(`{`)},
		{name: "nested in map", value: map[string]any{"a": make(chan int)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder(nil)
			e.Value(tt.value)
			if e.Err() == nil {
				t.Fatalf("Value(%T) error = nil, want one", tt.value)
			}
			if !json.Valid(e.Bytes()) {
				t.Errorf("Value(%T) wrote invalid JSON %s after the error", tt.value, e.Bytes())
			}
		})
	}
}

func TestEncoderUnsupportedType(t *testing.T) {
	e := NewEncoder(nil)
	e.Value(struct{}{})
	if !errors.Is(e.Err(), ErrUnsupportedValue) {
		t.Errorf("error = %v, want ErrUnsupportedValue", e.Err())
	}
}

func TestEncoderCommas(t *testing.T) {
	e := NewEncoder([]byte("prefix:"))
	e.ObjectStart()
	e.Key("status")
	e.String("ok")
	e.Key("list")
	e.ArrayStart()
	e.Int(1)
	e.ObjectStart()
	e.ObjectEnd()
	e.ArrayStart()
	e.ArrayEnd()
	e.Null()
	e.ArrayEnd()
	e.Key("raw")
	e.Raw([]byte(`{"a":1}`))
	e.Key("b")
	e.Bool(false)
	e.ObjectEnd()

	want := `prefix:{"status":"ok","list":[1,{},[],null],"raw":{"a":1},"b":false}`
	if got := string(e.Bytes()); got != want {
		t.Errorf("Bytes = %s, want %s", got, want)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	inputs := []string{"", "plain", "tab\there", "\x00\x1f\x7f", "<>&", "é\u2028", "\xc3"}
	for _, s := range inputs {
		got, err := Parse(AppendString(nil, s))
		if err != nil {
			t.Fatalf("Parse(AppendString(%q)): %v", s, err)
		}
		want, _ := json.Marshal(s)
		var wantString string
		if err := json.Unmarshal(want, &wantString); err != nil {
			t.Fatal(err)
		}
		if got != wantString {
			t.Errorf("AppendString(%q) decodes to %q, encoding/json gives %q", s, got, wantString)
		}
	}
}
