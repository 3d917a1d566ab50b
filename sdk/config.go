package sdk

import (
	"math"
	"slices"
	"strconv"

	"github.com/podplug/podplug/sdk/internal/jsonx"
)

// Config is the plugin's config from its manifest, decoded into a generic
// tree of nil, bool, float64, string, []any and map[string]any. The zero
// Config is an empty config.
//
// The accessors take a key of the top-level object. They return the zero
// value and a nil error when the key is absent (use Has or Require to tell
// absence apart), and an error wrapping ErrConfigType when the value has
// another type, naming the key. A Config is read-only and safe for
// concurrent use; Value exposes the tree itself, which the caller must not
// modify.
type Config struct {
	value any
}

// ParseConfig decodes a JSON config, for tests that build a Config by hand.
func ParseConfig(data []byte) (Config, error) {
	v, err := jsonx.Parse(data)
	if err != nil {
		return Config{}, err
	}
	return Config{value: v}, nil
}

// Value returns the whole config tree, nil when there is no config.
func (c Config) Value() any { return c.value }

// MarshalJSON encodes the config tree.
func (c Config) MarshalJSON() ([]byte, error) {
	e := jsonx.NewEncoder(nil)
	e.Value(c.value)
	return e.Bytes(), e.Err()
}

func (c Config) object() map[string]any {
	m, _ := c.value.(map[string]any)
	return m
}

// Keys returns the keys of the top-level object in sorted order.
func (c Config) Keys() []string {
	m := c.object()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Has reports whether key is present, even with a null value.
func (c Config) Has(key string) bool {
	_, ok := c.object()[key]
	return ok
}

// Lookup returns the value of key and whether it is present.
func (c Config) Lookup(key string) (any, bool) {
	v, ok := c.object()[key]
	return v, ok
}

// Require returns an error naming the first of keys that is absent.
func (c Config) Require(keys ...string) error {
	for _, k := range keys {
		if !c.Has(k) {
			return &ConfigError{Path: k, Msg: "is missing"}
		}
	}
	return nil
}

// String returns the string at key.
func (c Config) String(key string) (string, error) {
	v, ok := c.Lookup(key)
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", typeError(key, v, "string")
	}
	return s, nil
}

// Bool returns the boolean at key.
func (c Config) Bool(key string) (bool, error) {
	v, ok := c.Lookup(key)
	if !ok || v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, typeError(key, v, "boolean")
	}
	return b, nil
}

// Float returns the number at key.
func (c Config) Float(key string) (float64, error) {
	v, ok := c.Lookup(key)
	if !ok || v == nil {
		return 0, nil
	}
	f, ok := v.(float64)
	if !ok {
		return 0, typeError(key, v, "number")
	}
	return f, nil
}

// Int returns the number at key, which must be a whole number in the int64
// range.
func (c Config) Int(key string) (int64, error) {
	f, err := c.Float(key)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, &ConfigError{Path: key, Msg: "is " + strconv.FormatFloat(f, 'g', -1, 64) +
			", want a whole number", Err: ErrConfigType}
	}
	return int64(f), nil
}

// Object returns the object at key as a Config.
func (c Config) Object(key string) (Config, error) {
	v, ok := c.Lookup(key)
	if !ok || v == nil {
		return Config{}, nil
	}
	if _, ok := v.(map[string]any); !ok {
		return Config{}, typeError(key, v, "object")
	}
	return Config{value: v}, nil
}

// StringSlice returns the array of strings at key as a new slice.
func (c Config) StringSlice(key string) ([]string, error) {
	v, ok := c.Lookup(key)
	if !ok || v == nil {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, typeError(key, v, "array of strings")
	}
	out := make([]string, len(items))
	for i, item := range items {
		s, ok := item.(string)
		if !ok {
			return nil, typeError(key+"["+strconv.Itoa(i)+"]", item, "string")
		}
		out[i] = s
	}
	return out, nil
}

// StringMap returns the object of strings at key as a new map.
func (c Config) StringMap(key string) (map[string]string, error) {
	v, ok := c.Lookup(key)
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, typeError(key, v, "object of strings")
	}
	out := make(map[string]string, len(m))
	for k, item := range m {
		s, ok := item.(string)
		if !ok {
			return nil, typeError(key+"."+k, item, "string")
		}
		out[k] = s
	}
	return out, nil
}

// ConfigError is an invalid or missing config value.
type ConfigError struct {
	Path string // the key, with ".name" or "[index]" for nested values
	Msg  string // what is wrong, such as "is a number, want string"
	Err  error  // ErrConfigType for a type mismatch, else nil
}

func (e *ConfigError) Error() string {
	return "config key " + strconv.Quote(e.Path) + " " + e.Msg
}

func (e *ConfigError) Unwrap() error { return e.Err }

func typeError(path string, v any, want string) error {
	return &ConfigError{Path: path, Msg: "is " + jsonType(v) + ", want " + want, Err: ErrConfigType}
}

// jsonType names the JSON type of a value of the generic tree.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unknown type"
}
