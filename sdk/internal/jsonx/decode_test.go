package jsonx

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseValues(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  any
	}{
		{name: "null", input: "null", want: nil},
		{name: "true", input: " true ", want: true},
		{name: "false", input: "false", want: false},
		{name: "integer", input: "137", want: 137.0},
		{name: "negative zero", input: "-0", want: math.Copysign(0, -1)},
		{name: "fraction and exponent", input: "-1.25e+2", want: -125.0},
		{name: "tiny number underflows to zero", input: "1e-400", want: 0.0},
		{name: "empty string", input: `""`, want: ""},
		{name: "simple escapes", input: `"a\"b\\c\/d\b\f\n\r\t"`, want: "a\"b\\c/d\b\f\n\r\t"},
		{name: "unicode escape", input: `"caf\u00e9 \u20AC"`, want: "café €"},
		{name: "surrogate pair", input: `"\ud83d\ude00"`, want: "😀"},
		{name: "lone high surrogate", input: `"\ud83dx"`, want: "\ufffdx"},
		{name: "lone low surrogate", input: `"\ude00"`, want: "\ufffd"},
		{name: "high surrogate then escape", input: `"\ud83d\n"`, want: "\ufffd\n"},
		{name: "two high surrogates", input: `"\ud83d\ud83d\ude00"`, want: "\ufffd😀"},
		{name: "raw utf8", input: `"日本"`, want: "日本"},
		{name: "invalid utf8 replaced", input: "\"a\xffb\"", want: "a\ufffdb"},
		{name: "invalid utf8 after escape", input: "\"\\n\xff\"", want: "\n\ufffd"},
		{name: "empty object", input: "{}", want: map[string]any{}},
		{name: "empty array", input: "[ ]", want: []any{}},
		{
			name:  "nested",
			input: `{"a": [1, "x", {"b": null}], "c": {"d": true}}`,
			want: map[string]any{
				"a": []any{1.0, "x", map[string]any{"b": nil}},
				"c": map[string]any{"d": true},
			},
		},
		{name: "duplicate key last wins", input: `{"a":1,"a":2}`, want: map[string]any{"a": 2.0}},
		{name: "escaped key", input: `{"\u0061b":1}`, want: map[string]any{"ab": 1.0}},
		{
			name:  "escaped key then escaped value",
			input: `{"k\n":"v\t"}`,
			want:  map[string]any{"k\n": "v\t"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.input))
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.input, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %#v, want %#v", tt.input, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		offset int
	}{
		{name: "empty input", input: "", offset: 0},
		{name: "only space", input: "  ", offset: 2},
		{name: "trailing garbage", input: "1 2", offset: 2},
		{name: "trailing comma in object", input: `{"a":1,}`, offset: 7},
		{name: "trailing comma in array", input: `[1,]`, offset: 3},
		{name: "leading comma in array", input: `[,1]`, offset: 1},
		{name: "leading comma in object", input: `{,"a":1}`, offset: 1},
		{name: "missing comma", input: `[1 2]`, offset: 3},
		{name: "missing colon", input: `{"a" 1}`, offset: 5},
		{name: "unquoted key", input: `{a:1}`, offset: 1},
		{name: "unterminated string", input: `"abc`, offset: 4},
		{name: "unterminated object", input: `{"a":1`, offset: 6},
		{name: "control character", input: "\"a\nb\"", offset: 2},
		{name: "bad escape", input: `"\x"`, offset: 1},
		{name: "short unicode escape", input: `"\u12"`, offset: 1},
		{name: "leading zero", input: `01`, offset: 1},
		{name: "bare minus", input: `-`, offset: 1},
		{name: "dot without digits", input: `1.`, offset: 2},
		{name: "exponent without digits", input: `1e+`, offset: 3},
		{name: "plus sign", input: `+1`, offset: 0},
		{name: "number overflow", input: `1e400`, offset: 0},
		{name: "misspelled literal", input: `nul`, offset: 0},
		{name: "capitalized literal", input: `True`, offset: 0},
		{name: "single quotes", input: `'a'`, offset: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.input))
			var syntaxErr *SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Fatalf("Parse(%q) error = %v, want *SyntaxError", tt.input, err)
			}
			if syntaxErr.Offset != tt.offset {
				t.Errorf("Parse(%q) offset = %d, want %d (%v)", tt.input, syntaxErr.Offset, tt.offset, err)
			}
			if json.Valid([]byte(tt.input)) && tt.name != "number overflow" {
				t.Errorf("encoding/json accepts %q, the case is wrong", tt.input)
			}
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse([]byte(deep)); err != nil {
		t.Fatalf("Parse of %d nested arrays: %v", MaxDepth, err)
	}

	tooDeep := "[" + deep + "]"
	_, err := Parse([]byte(tooDeep))
	if !errors.Is(err, ErrTooDeep) {
		t.Errorf("Parse of %d nested arrays error = %v, want ErrTooDeep", MaxDepth+1, err)
	}
}

func TestReadInt(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    int64
		wantErr bool
	}{
		{name: "plain", input: "42", want: 42},
		{name: "negative", input: "-7", want: -7},
		{name: "null is zero", input: "null", want: 0},
		{name: "whole exponent", input: "3e2", want: 300},
		{name: "whole fraction", input: "2.0", want: 2},
		{name: "max", input: "9223372036854775807", want: math.MaxInt64},
		{name: "min", input: "-9223372036854775808", want: math.MinInt64},
		{name: "overflow", input: "9223372036854775808", wantErr: true},
		{name: "fraction", input: "1.5", wantErr: true},
		{name: "string", input: `"1"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder([]byte(tt.input))
			got := d.ReadInt()
			err := d.End()
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadInt(%s) error = %v, want error %v", tt.input, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("ReadInt(%s) = %d, want %d", tt.input, got, tt.want)
			}
		})
	}
}

func TestReadUint(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    uint64
		wantErr bool
	}{
		{name: "plain", input: "1024", want: 1024},
		{name: "max", input: "18446744073709551615", want: math.MaxUint64},
		{name: "negative zero", input: "-0", want: 0},
		{name: "negative", input: "-1", wantErr: true},
		{name: "overflow", input: "18446744073709551616", wantErr: true},
		{name: "negative exponent form", input: "-1e1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder([]byte(tt.input))
			got := d.ReadUint()
			err := d.End()
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadUint(%s) error = %v, want error %v", tt.input, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("ReadUint(%s) = %d, want %d", tt.input, got, tt.want)
			}
		})
	}
}

func TestDecoderTypedObject(t *testing.T) {
	input := `{"name":"web","skip":{"x":[1,{"y":"\u0041"}]},"n":3,"tags":["a","b"],"ok":true}`
	d := NewDecoder([]byte(input))
	var name string
	var n int64
	var tags []string
	var ok bool
	if !d.ObjectStart() {
		t.Fatalf("ObjectStart: %v", d.Err())
	}
	for {
		key, more := d.Key()
		if !more {
			break
		}
		switch string(key) {
		case "name":
			name = d.ReadString()
		case "n":
			n = d.ReadInt()
		case "tags":
			for d.ArrayStart(); d.Next(); {
				tags = append(tags, d.ReadString())
			}
		case "ok":
			ok = d.ReadBool()
		default:
			d.Skip()
		}
	}
	if err := d.End(); err != nil {
		t.Fatalf("End: %v", err)
	}
	if name != "web" {
		t.Errorf("name = %q, want web", name)
	}
	if n != 3 {
		t.Errorf("n = %d, want 3", n)
	}
	if !reflect.DeepEqual(tags, []string{"a", "b"}) {
		t.Errorf("tags = %q, want [a b]", tags)
	}
	if !ok {
		t.Error("ok = false, want true")
	}
}

func TestDecoderTypeMismatch(t *testing.T) {
	d := NewDecoder([]byte(`{"a": 1}`))
	d.ObjectStart()
	d.Key()
	if got := d.ReadString(); got != "" {
		t.Errorf("ReadString of a number = %q, want empty", got)
	}
	err := d.Err()
	if err == nil || !strings.Contains(err.Error(), "expected string") {
		t.Fatalf("error = %v, want one saying a string was expected", err)
	}
	if _, more := d.Key(); more {
		t.Error("Key after an error returned true")
	}
}

func TestDecoderNullContainers(t *testing.T) {
	d := NewDecoder([]byte(`[null, null]`))
	d.ArrayStart()
	d.Next()
	if d.ObjectStart() {
		t.Error("ObjectStart on null = true, want false")
	}
	d.Next()
	if d.ArrayStart() {
		t.Error("ArrayStart on null = true, want false")
	}
	if d.Next() {
		t.Error("Next at the closing bracket = true")
	}
	if err := d.End(); err != nil {
		t.Errorf("End: %v", err)
	}
}

func TestReadRaw(t *testing.T) {
	d := NewDecoder([]byte(`{"config": {"a": [1, 2]} , "b": 1}`))
	d.ObjectStart()
	d.Key()
	raw := d.ReadRaw()
	if string(raw) != `{"a": [1, 2]}` {
		t.Errorf("ReadRaw = %q", raw)
	}
	d.Key()
	d.Skip()
	if d.Key(); d.End() != nil {
		t.Errorf("End: %v", d.Err())
	}
}

// FuzzDecode checks the decoder against encoding/json: both accept the same
// documents and build the same tree, and the encoder writes that tree back
// as JSON that decodes to the same tree again.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"hook":"pre_start","plugin":{"name":"stamp","config":{"env":{"A":"1"}}}}`,
		`{"container":{"env":["PATH=/bin"],"mounts":[{"read_only":true}]},"n":-1.5e-3}`,
		`"\ud83d\ude00\u00e9\\\"\/"`, `[1, 2.5, true, false, null]`, `{}`, `[]`,
		`"\ud800"`, "\"\xff\"", `1e400`, `[1,]`, `{"a" 1}`, `-0`, `0.1e+2`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data)
		var want any
		wantErr := json.Unmarshal(data, &want)
		if errors.Is(err, ErrTooDeep) {
			return // encoding/json allows deeper nesting
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("Parse(%q) error = %v, encoding/json error = %v", data, err, wantErr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %#v, encoding/json = %#v", data, got, want)
		}

		e := NewEncoder(nil)
		e.Value(got)
		if e.Err() != nil {
			t.Fatalf("encode %#v: %v", got, e.Err())
		}
		again, err := Parse(e.Bytes())
		if err != nil {
			t.Fatalf("Parse of re-encoded %q: %v", e.Bytes(), err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %q gave %#v, want %#v", data, again, got)
		}
	})
}
