package sdk

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func mustConfig(t *testing.T, data string) Config {
	t.Helper()
	c, err := ParseConfig([]byte(data))
	if err != nil {
		t.Fatalf("ParseConfig(%s): %v", data, err)
	}
	return c
}

const testConfig = `{"name": "web", "on": true, "n": 3, "ratio": 0.5, "tags": ["a", "b"],
	"env": {"A": "1"}, "nested": {"x": "y"}, "none": null, "mixed": ["a", 1], "bad": {"k": false}}`

func TestConfigAccessors(t *testing.T) {
	c := mustConfig(t, testConfig)
	tests := []struct {
		name string
		get  func() (any, error)
		want any
	}{
		{name: "string", get: func() (any, error) { return c.String("name") }, want: "web"},
		{name: "absent string", get: func() (any, error) { return c.String("missing") }, want: ""},
		{name: "null string", get: func() (any, error) { return c.String("none") }, want: ""},
		{name: "bool", get: func() (any, error) { return c.Bool("on") }, want: true},
		{name: "float", get: func() (any, error) { return c.Float("ratio") }, want: 0.5},
		{name: "int", get: func() (any, error) { return c.Int("n") }, want: int64(3)},
		{
			name: "string slice",
			get:  func() (any, error) { return c.StringSlice("tags") },
			want: []string{"a", "b"},
		},
		{
			name: "absent slice",
			get:  func() (any, error) { return c.StringSlice("missing") },
			want: []string(nil),
		},
		{
			name: "string map",
			get:  func() (any, error) { return c.StringMap("env") },
			want: map[string]string{"A": "1"},
		},
		{
			name: "absent map",
			get:  func() (any, error) { return c.StringMap("missing") },
			want: map[string]string(nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestConfigTypeErrors(t *testing.T) {
	c := mustConfig(t, testConfig)
	tests := []struct {
		name string
		get  func() error
		want string
	}{
		{
			name: "string of number",
			get:  func() error { _, err := c.String("n"); return err },
			want: `config key "n" is a number, want string`,
		},
		{
			name: "bool of string",
			get:  func() error { _, err := c.Bool("name"); return err },
			want: `config key "name" is a string, want boolean`,
		},
		{
			name: "int of fraction",
			get:  func() error { _, err := c.Int("ratio"); return err },
			want: `config key "ratio" is 0.5, want a whole number`,
		},
		{
			name: "slice element",
			get:  func() error { _, err := c.StringSlice("mixed"); return err },
			want: `config key "mixed[1]" is a number, want string`,
		},
		{
			name: "slice of object",
			get:  func() error { _, err := c.StringSlice("env"); return err },
			want: `config key "env" is an object, want array of strings`,
		},
		{
			name: "map value",
			get:  func() error { _, err := c.StringMap("bad"); return err },
			want: `config key "bad.k" is a boolean, want string`,
		},
		{
			name: "object of array",
			get:  func() error { _, err := c.Object("tags"); return err },
			want: `config key "tags" is an array, want object`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.get()
			if err == nil {
				t.Fatal("error = nil")
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrConfigType) {
				t.Errorf("error %v does not wrap ErrConfigType", err)
			}
		})
	}
}

func TestConfigKeysAndPresence(t *testing.T) {
	c := mustConfig(t, `{"b": 1, "a": null}`)
	if got := c.Keys(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Keys = %v, want [a b]", got)
	}
	if !c.Has("a") {
		t.Error(`Has("a") = false for a null value`)
	}
	if c.Has("c") {
		t.Error(`Has("c") = true for an absent key`)
	}
	err := c.Require("a", "b", "c")
	if err == nil || err.Error() != `config key "c" is missing` {
		t.Errorf("Require error = %v, want the missing key c", err)
	}
}

func TestConfigNested(t *testing.T) {
	c := mustConfig(t, testConfig)
	nested, err := c.Object("nested")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := nested.String("x"); got != "y" {
		t.Errorf("nested x = %q, want y", got)
	}
	absent, err := c.Object("missing")
	if err != nil || absent.Value() != nil {
		t.Errorf("Object of an absent key = %#v, %v; want an empty config", absent, err)
	}
}

func TestConfigZeroAndNonObject(t *testing.T) {
	var zero Config
	if zero.Has("a") || len(zero.Keys()) != 0 {
		t.Error("zero Config has keys")
	}
	if s, err := zero.String("a"); s != "" || err != nil {
		t.Errorf("zero Config String = %q, %v", s, err)
	}
	list := mustConfig(t, `[1, 2]`)
	if list.Has("0") {
		t.Error("array config has a key")
	}
	if !reflect.DeepEqual(list.Value(), []any{1.0, 2.0}) {
		t.Errorf("Value = %#v", list.Value())
	}
}

func TestConfigMarshalJSON(t *testing.T) {
	c := mustConfig(t, `{"b": [1, "x"], "a": {"k": null}}`)
	got, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"k":null},"b":[1,"x"]}`; string(got) != want {
		t.Errorf("MarshalJSON = %s, want %s", got, want)
	}
}

func ExampleConfig() {
	cfg, err := ParseConfig([]byte(`{"env": {"TEAM": "blue"}, "allow": ["localhost/"]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	env, err := cfg.StringMap("env")
	fmt.Println(env, err)
	_, err = cfg.StringMap("allow")
	fmt.Println(err)
	// Output:
	// map[TEAM:blue] <nil>
	// config key "allow" is an array, want object of strings
}
