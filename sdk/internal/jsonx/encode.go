package jsonx

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// ErrUnsupportedValue is returned by Encoder.Value for a Go value that has
// no JSON form here: a type it does not know, or a NaN or infinite float.
var ErrUnsupportedValue = errors.New("unsupported value")

// Marshaler is a value that encodes itself, with the method of the same
// name that encoding/json uses.
type Marshaler interface {
	MarshalJSON() ([]byte, error)
}

// Encoder appends one JSON document to a byte slice. It writes the commas
// between members itself; the caller writes keys and values in order. The
// first error (see ErrUnsupportedValue) is kept and returned by Err.
type Encoder struct {
	buf   []byte
	comma bool // a value was written, so the next member needs a comma
	err   error
}

// NewEncoder returns an Encoder appending to buf.
func NewEncoder(buf []byte) *Encoder {
	return &Encoder{buf: buf}
}

// Bytes returns the encoded document appended to the buffer given to
// NewEncoder.
func (e *Encoder) Bytes() []byte { return e.buf }

// Err returns the first error met, or nil.
func (e *Encoder) Err() error { return e.err }

func (e *Encoder) separate() {
	if e.comma {
		e.buf = append(e.buf, ',')
	}
}

// ObjectStart writes '{'.
func (e *Encoder) ObjectStart() {
	e.separate()
	e.buf = append(e.buf, '{')
	e.comma = false
}

// ObjectEnd writes '}'.
func (e *Encoder) ObjectEnd() {
	e.buf = append(e.buf, '}')
	e.comma = true
}

// ArrayStart writes '['.
func (e *Encoder) ArrayStart() {
	e.separate()
	e.buf = append(e.buf, '[')
	e.comma = false
}

// ArrayEnd writes ']'.
func (e *Encoder) ArrayEnd() {
	e.buf = append(e.buf, ']')
	e.comma = true
}

// Key writes an object key and the ':' after it.
func (e *Encoder) Key(name string) {
	e.separate()
	e.buf = AppendString(e.buf, name)
	e.buf = append(e.buf, ':')
	e.comma = false
}

// String writes s as a JSON string.
func (e *Encoder) String(s string) {
	e.separate()
	e.buf = AppendString(e.buf, s)
	e.comma = true
}

// Int writes n.
func (e *Encoder) Int(n int64) {
	e.separate()
	e.buf = strconv.AppendInt(e.buf, n, 10)
	e.comma = true
}

// Uint writes n.
func (e *Encoder) Uint(n uint64) {
	e.separate()
	e.buf = strconv.AppendUint(e.buf, n, 10)
	e.comma = true
}

// Float writes f in the shortest form that reads back as the same float64,
// as encoding/json does. NaN and the infinities have no JSON form: Float
// writes null for them and records ErrUnsupportedValue.
func (e *Encoder) Float(f float64) {
	e.separate()
	e.comma = true
	if math.IsNaN(f) || math.IsInf(f, 0) {
		e.fail(errors.New("jsonx: " + strconv.FormatFloat(f, 'g', -1, 64) + " is " +
			ErrUnsupportedValue.Error()))
		e.buf = append(e.buf, "null"...)
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	if format == 'e' {
		e.buf = trimExponent(e.buf, start)
	}
}

// trimExponent turns the exponent "e-07" that strconv writes into "e-7".
func trimExponent(b []byte, start int) []byte {
	n := len(b)
	if n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		return b[:n-1]
	}
	return b
}

// Bool writes true or false.
func (e *Encoder) Bool(v bool) {
	e.separate()
	e.buf = strconv.AppendBool(e.buf, v)
	e.comma = true
}

// Null writes null.
func (e *Encoder) Null() {
	e.separate()
	e.buf = append(e.buf, "null"...)
	e.comma = true
}

// Raw writes an already encoded value after checking that it is one
// well-formed JSON value. Invalid input writes null and records an error.
func (e *Encoder) Raw(value []byte) {
	e.separate()
	e.comma = true
	if !Valid(value) {
		e.fail(errors.New("jsonx: raw value is not valid JSON"))
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, value...)
}

func (e *Encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// Value writes a generic Go value: nil, bool, string, the integer and float
// types, a Marshaler, and slices and string-keyed maps of the common element
// types below. Maps are written with sorted keys. Any other type writes null
// and records ErrUnsupportedValue, since the encoder uses no reflection.
func (e *Encoder) Value(v any) {
	switch v := v.(type) {
	case nil:
		e.Null()
	case bool:
		e.Bool(v)
	case string:
		e.String(v)
	case float64:
		e.Float(v)
	case float32:
		e.Float(float64(v))
	case Marshaler:
		e.marshaler(v)
	case map[string]any:
		writeMap(e, v, (*Encoder).Value)
	case []any:
		writeSlice(e, v, (*Encoder).Value)
	default:
		if !e.number(v) && !e.container(v) {
			e.fail(ErrUnsupportedValue)
			e.Null()
		}
	}
}

// number writes v if it has an integer type.
func (e *Encoder) number(v any) bool {
	switch v := v.(type) {
	case int:
		e.Int(int64(v))
	case int8:
		e.Int(int64(v))
	case int16:
		e.Int(int64(v))
	case int32:
		e.Int(int64(v))
	case int64:
		e.Int(v)
	case uint:
		e.Uint(uint64(v))
	case uint8:
		e.Uint(uint64(v))
	case uint16:
		e.Uint(uint64(v))
	case uint32:
		e.Uint(uint64(v))
	case uint64:
		e.Uint(v)
	default:
		return false
	}
	return true
}

// container writes v if it is one of the typed slices or maps supported.
func (e *Encoder) container(v any) bool {
	switch v := v.(type) {
	case []string:
		writeSlice(e, v, (*Encoder).String)
	case []int:
		writeSlice(e, v, func(e *Encoder, n int) { e.Int(int64(n)) })
	case []int64:
		writeSlice(e, v, (*Encoder).Int)
	case []float64:
		writeSlice(e, v, (*Encoder).Float)
	case []map[string]any:
		writeSlice(e, v, func(e *Encoder, m map[string]any) { writeMap(e, m, (*Encoder).Value) })
	case map[string]string:
		writeMap(e, v, (*Encoder).String)
	case map[string]int:
		writeMap(e, v, func(e *Encoder, n int) { e.Int(int64(n)) })
	case map[string]int64:
		writeMap(e, v, (*Encoder).Int)
	case map[string]float64:
		writeMap(e, v, (*Encoder).Float)
	case map[string]bool:
		writeMap(e, v, (*Encoder).Bool)
	case map[string][]string:
		writeMap(e, v, func(e *Encoder, s []string) { writeSlice(e, s, (*Encoder).String) })
	default:
		return false
	}
	return true
}

func (e *Encoder) marshaler(m Marshaler) {
	raw, err := m.MarshalJSON()
	if err != nil {
		e.fail(err)
		e.Null()
		return
	}
	e.Raw(raw)
}

// writeSlice writes s as an array; a nil slice is written as null, as
// encoding/json does.
func writeSlice[T any](e *Encoder, s []T, write func(*Encoder, T)) {
	if s == nil {
		e.Null()
		return
	}
	e.ArrayStart()
	for _, v := range s {
		write(e, v)
	}
	e.ArrayEnd()
}

// writeMap writes m as an object with its keys in sorted order; a nil map is
// written as null.
func writeMap[T any](e *Encoder, m map[string]T, write func(*Encoder, T)) {
	if m == nil {
		e.Null()
		return
	}
	if len(m) <= 1 { // nothing to sort, so no key slice to allocate
		e.ObjectStart()
		for k, v := range m {
			e.Key(k)
			write(e, v)
		}
		e.ObjectEnd()
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.ObjectStart()
	for _, k := range keys {
		e.Key(k)
		write(e, m[k])
	}
	e.ObjectEnd()
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 is written as
// U+FFFD; control characters, U+2028 and U+2029 are escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0 // first byte of s not yet copied to b
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			b = appendEscapedByte(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscapedByte(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
