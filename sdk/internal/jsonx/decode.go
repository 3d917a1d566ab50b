// Package jsonx is the SDK's JSON codec: a pull decoder over a byte slice
// and an appending encoder, neither using reflection. A Go plugin built for
// wasip1 decodes its hook input with it instead of encoding/json, which is
// several times slower in the guest and adds to the module's size.
//
// Decoder follows RFC 8259 as encoding/json reads it: invalid UTF-8 and
// unpaired surrogate escapes become U+FFFD, numbers decoded into an any are
// float64, and the last of duplicate object keys wins.
package jsonx

import (
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// MaxDepth is the deepest nesting of objects and arrays that Decoder
// accepts. It bounds the recursion of Skip and ReadValue.
const MaxDepth = 512

// ErrTooDeep is wrapped by the SyntaxError returned for input nested more
// than MaxDepth levels.
var ErrTooDeep = errors.New("nesting deeper than 512 levels")

// SyntaxError is a decoding failure at a byte offset of the input.
type SyntaxError struct {
	Offset int    // byte offset of the failure in the input
	Msg    string // description of the failure
	err    error  // category, such as ErrTooDeep, or nil
}

func (e *SyntaxError) Error() string {
	return "json: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

func (e *SyntaxError) Unwrap() error { return e.err }

// Kind is the type of the next value in the input.
type Kind uint8

// Kinds of JSON values. Invalid is returned at the end of the input and for
// a byte that cannot start a value.
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// Decoder reads one JSON document token by token. The typed methods consume
// one value each; after the first error every method is a no-op returning a
// zero value, and Err returns that error. A null is read as the zero value
// by ReadString, ReadInt, ReadUint, ReadFloat and ReadBool, and as an empty
// container by ObjectStart and ArrayStart.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	data      []byte
	pos       int
	err       error
	depth     int
	afterOpen bool   // the last token was '{' or '[', so no comma may follow
	scratch   []byte // decoded form of the last string that had escapes
	alias     bool   // strings without escapes share memory with data
}

// NewDecoder returns a Decoder reading data, which it does not copy or
// modify. Every string it returns is a copy.
func NewDecoder(data []byte) *Decoder {
	return &Decoder{data: data}
}

// NewAliasingDecoder returns a Decoder whose ReadString and ReadValue
// return strings that share memory with data when they had no escape to
// decode, which saves one allocation per string. The caller must never
// modify data afterwards, since those strings would change with it.
func NewAliasingDecoder(data []byte) *Decoder {
	return &Decoder{data: data, alias: true}
}

// string returns b as a string: a copy, or for an aliasing Decoder and b
// inside its input, a string sharing b's memory.
func (d *Decoder) string(b []byte) string {
	if !d.alias || len(b) == 0 {
		return string(b)
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(d.data)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if at < start || at >= start+uintptr(len(d.data)) {
		return string(b) // decoded into d.scratch
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Offset returns the byte offset of the next unread byte.
func (d *Decoder) Offset() int { return d.pos }

// Fail records a type error at the current offset, such as a string where a
// number was expected. It does nothing when an error is already recorded.
func (d *Decoder) Fail(msg string) { d.failAt(d.pos, msg, nil) }

func (d *Decoder) failAt(offset int, msg string, category error) {
	if d.err == nil {
		d.err = &SyntaxError{Offset: offset, Msg: msg, err: category}
	}
}

// End checks that only white space follows the value read so far and
// returns the first error met.
func (d *Decoder) End() error {
	d.skipSpace()
	if d.err == nil && d.pos < len(d.data) {
		d.failAt(d.pos, "invalid character "+quoteByte(d.data[d.pos])+" after top-level value", nil)
	}
	return d.err
}

func (d *Decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// Peek returns the kind of the next value without consuming it.
func (d *Decoder) Peek() Kind {
	if d.err != nil {
		return Invalid
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return Invalid
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return Object
	case c == '[':
		return Array
	case c == '"':
		return String
	case c == 't' || c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	}
	return Invalid
}

// ObjectStart consumes the '{' that opens an object and reports whether it
// did. It consumes a null and returns false, so the caller leaves the field
// at its zero value. Any other value is an error.
func (d *Decoder) ObjectStart() bool {
	return d.open('{', "object")
}

// ArrayStart consumes the '[' that opens an array, like ObjectStart.
func (d *Decoder) ArrayStart() bool {
	return d.open('[', "array")
}

func (d *Decoder) open(bracket byte, name string) bool {
	if d.readNull() {
		return false
	}
	if d.err != nil {
		return false
	}
	if d.pos >= len(d.data) {
		d.failAt(d.pos, "unexpected end of input, expected "+name, nil)
		return false
	}
	if d.data[d.pos] != bracket {
		d.failAt(d.pos, "expected "+name+", found "+quoteByte(d.data[d.pos]), nil)
		return false
	}
	if d.depth >= MaxDepth {
		d.failAt(d.pos, ErrTooDeep.Error(), ErrTooDeep)
		return false
	}
	d.depth++
	d.pos++
	d.afterOpen = true
	return true
}

// Key reads the next key of the object opened by ObjectStart and the ':'
// after it. It returns false when the object ends (consuming the '}') or on
// error. The key bytes are valid until the next call on d; the caller reads
// or skips the value before calling Key again.
func (d *Decoder) Key() ([]byte, bool) {
	if !d.next('}', "object") {
		return nil, false
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		d.failAt(d.pos, "expected string for object key", nil)
		return nil, false
	}
	key := d.readStringBytes()
	d.skipSpace()
	if d.err != nil {
		return nil, false
	}
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		d.failAt(d.pos, "expected ':' after object key", nil)
		return nil, false
	}
	d.pos++
	return key, true
}

// Object returns an iterator over the keys of the object that is the next
// value, for a loop such as
//
//	for obj := d.Object(); obj.Next(); {
//		switch string(obj.Key()) { ... }
//	}
//
// whose body reads or skips each key's value. A null yields no keys.
func (d *Decoder) Object() ObjectIter {
	return ObjectIter{d: d}
}

// ObjectIter iterates over the keys of one object; see Decoder.Object.
type ObjectIter struct {
	d       *Decoder
	key     []byte
	started bool
}

// Next advances to the next key, opening the object on the first call. It
// returns false at the end of the object and on error.
func (o *ObjectIter) Next() bool {
	if !o.started {
		o.started = true
		if !o.d.ObjectStart() {
			return false
		}
	}
	var ok bool
	o.key, ok = o.d.Key()
	return ok
}

// Key returns the current key. It is valid until the value is read.
func (o *ObjectIter) Key() []byte { return o.key }

// KeyString returns the current key as a string, sharing memory with the
// input for an aliasing Decoder.
func (o *ObjectIter) KeyString() string { return o.d.string(o.key) }

// Next reports whether the array opened by ArrayStart has another element,
// which the caller then reads or skips. It returns false when the array ends
// (consuming the ']') or on error.
func (d *Decoder) Next() bool {
	return d.next(']', "array")
}

// next consumes the separator before the next member of a container, or the
// closing bracket, and reports whether a member follows.
func (d *Decoder) next(closing byte, name string) bool {
	if d.err != nil {
		return false
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		d.failAt(d.pos, "unexpected end of input in "+name, nil)
		return false
	}
	c := d.data[d.pos]
	if c == closing {
		d.pos++
		d.depth--
		d.afterOpen = false
		return false
	}
	if d.afterOpen {
		d.afterOpen = false
		return true
	}
	if c != ',' {
		d.failAt(d.pos, "expected ',' or "+quoteByte(closing)+" in "+name+", found "+quoteByte(c), nil)
		return false
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == closing {
		d.failAt(d.pos, "trailing comma in "+name, nil)
		return false
	}
	return true
}

// readNull consumes a null and reports whether there was one.
func (d *Decoder) readNull() bool {
	if d.Peek() != Null {
		return false
	}
	d.literal("null")
	return d.err == nil
}

func (d *Decoder) literal(word string) {
	end := d.pos + len(word)
	if end > len(d.data) || string(d.data[d.pos:end]) != word {
		d.failAt(d.pos, "invalid literal, expected "+word, nil)
		return
	}
	d.pos = end
}

// ReadBool reads true, false or null (false).
func (d *Decoder) ReadBool() bool {
	switch d.Peek() {
	case Null:
		d.literal("null")
		return false
	case Bool:
		if d.data[d.pos] == 't' {
			d.literal("true")
			return d.err == nil
		}
		d.literal("false")
		return false
	}
	d.expected("boolean")
	return false
}

// expected records that the next value has the wrong type.
func (d *Decoder) expected(what string) {
	if d.err != nil {
		return
	}
	if d.pos >= len(d.data) {
		d.failAt(d.pos, "unexpected end of input, expected "+what, nil)
		return
	}
	d.failAt(d.pos, "expected "+what+", found "+quoteByte(d.data[d.pos]), nil)
}

// ReadString reads a string or null (""), decoding escapes.
func (d *Decoder) ReadString() string {
	if d.err == nil && d.pos < len(d.data) && d.data[d.pos] == '"' {
		return d.string(d.readStringBytes()) // compact input: no Peek call
	}
	switch d.Peek() {
	case Null:
		d.literal("null")
		return ""
	case String:
		return d.string(d.readStringBytes())
	}
	d.expected("string")
	return ""
}

// readStringBytes consumes the string starting at d.pos, which is '"'. The
// result aliases the input when the string has no escapes and is valid UTF-8,
// and d.scratch otherwise.
func (d *Decoder) readStringBytes() []byte {
	start := d.pos + 1
	ascii := true
	i := skipPlainBytes(d.data, start)
	for ; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			s := d.data[start:i]
			if !ascii && !utf8.Valid(s) {
				d.scratch = appendValidUTF8(d.scratch[:0], s)
				return d.scratch
			}
			return s
		case c == '\\':
			return d.readEscapedString(start)
		case c < 0x20:
			d.failAt(i, "invalid control character in string", nil)
			return nil
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	d.failAt(len(d.data), "unterminated string", nil)
	return nil
}

// Masks for testing the eight bytes of a little-endian word at once.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// skipPlainBytes returns the offset of the first 8-byte word at or after i
// that may hold a byte ending the fast path of a string: '"', '\\', a
// control character or a non-ASCII byte. The byte loop that follows
// finds which byte it is. Scanning a word per iteration matters in a Wasm
// guest, where the runtime's interruption check makes every loop
// iteration cost tens of nanoseconds.
func skipPlainBytes(data []byte, i int) int {
	for i+8 <= len(data) {
		w := *(*uint64)(unsafe.Pointer(&data[i])) // unaligned loads are allowed on wasm and amd64
		quote := w ^ (lowBits * '"')
		backslash := w ^ (lowBits * '\\')
		special := (quote-lowBits) & ^quote |
			(backslash-lowBits) & ^backslash |
			(w - lowBits*0x20) | // a byte below 0x20 borrows and sets its high bit
			w
		if special&highBits != 0 {
			return i
		}
		i += 8
	}
	return i
}

// readEscapedString decodes the string whose contents start at start into
// d.scratch. It is the slow path of readStringBytes.
func (d *Decoder) readEscapedString(start int) []byte {
	out := d.scratch[:0]
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.scratch = out
			return out
		case c == '\\':
			var ok bool
			out, i, ok = d.appendEscape(out, i)
			if !ok {
				return nil
			}
		case c < 0x20:
			d.failAt(i, "invalid control character in string", nil)
			return nil
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			out = utf8.AppendRune(out, r) // r is U+FFFD for an invalid byte
			i += size
		}
	}
	d.failAt(len(d.data), "unterminated string", nil)
	return nil
}

// appendEscape decodes the escape sequence at data[i] == '\\', appends its
// UTF-8 form to out and returns the offset after it.
func (d *Decoder) appendEscape(out []byte, i int) ([]byte, int, bool) {
	if i+1 >= len(d.data) {
		d.failAt(len(d.data), "unterminated string", nil)
		return out, i, false
	}
	switch d.data[i+1] {
	case '"', '\\', '/':
		return append(out, d.data[i+1]), i + 2, true
	case 'b':
		return append(out, '\b'), i + 2, true
	case 'f':
		return append(out, '\f'), i + 2, true
	case 'n':
		return append(out, '\n'), i + 2, true
	case 'r':
		return append(out, '\r'), i + 2, true
	case 't':
		return append(out, '\t'), i + 2, true
	case 'u':
		return d.appendUnicodeEscape(out, i)
	}
	d.failAt(i, "invalid escape sequence in string", nil)
	return out, i, false
}

// appendUnicodeEscape decodes \uXXXX at data[i], joining a UTF-16 surrogate
// pair written as two escapes. An unpaired surrogate becomes U+FFFD.
func (d *Decoder) appendUnicodeEscape(out []byte, i int) ([]byte, int, bool) {
	r, ok := hex4(d.data, i+2)
	if !ok {
		d.failAt(i, "invalid \\u escape in string", nil)
		return out, i, false
	}
	i += 6
	switch {
	case r < 0xD800 || r > 0xDFFF:
		return utf8.AppendRune(out, r), i, true
	case r >= 0xDC00:
		return utf8.AppendRune(out, utf8.RuneError), i, true
	}
	if i+1 < len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
		low, ok := hex4(d.data, i+2)
		if ok && low >= 0xDC00 && low <= 0xDFFF {
			r = 0x10000 + (r-0xD800)<<10 + (low - 0xDC00)
			return utf8.AppendRune(out, r), i + 6, true
		}
	}
	return utf8.AppendRune(out, utf8.RuneError), i, true
}

func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendValidUTF8 appends s with each invalid byte replaced by U+FFFD.
func appendValidUTF8(out, s []byte) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		out = utf8.AppendRune(out, r)
		s = s[size:]
	}
	return out
}

// Skip consumes the next value, whatever its type.
func (d *Decoder) Skip() {
	switch d.Peek() {
	case Object:
		d.ObjectStart()
		for {
			if _, ok := d.Key(); !ok {
				return
			}
			d.Skip()
		}
	case Array:
		d.ArrayStart()
		for d.Next() {
			d.Skip()
		}
	case String:
		d.readStringBytes()
	case Number:
		d.scanNumber()
	case Bool:
		d.ReadBool()
	case Null:
		d.literal("null")
	default:
		d.expected("value")
	}
}

// ReadRaw consumes the next value and returns its bytes as they appear in
// the input, without leading white space. The result aliases the input.
func (d *Decoder) ReadRaw() []byte {
	d.skipSpace()
	start := d.pos
	d.Skip()
	if d.err != nil {
		return nil
	}
	return d.data[start:d.pos]
}

// ReadValue reads the next value into a generic tree: nil, bool, float64,
// string, []any or map[string]any.
func (d *Decoder) ReadValue() any {
	switch d.Peek() {
	case Object:
		m := map[string]any{}
		d.ObjectStart()
		for {
			key, ok := d.Key()
			if !ok {
				break
			}
			name := d.string(key) // taken before the value overwrites d.scratch
			m[name] = d.ReadValue()
		}
		return d.result(m)
	case Array:
		s := []any{}
		d.ArrayStart()
		for d.Next() {
			s = append(s, d.ReadValue())
		}
		return d.result(s)
	case String:
		return d.string(d.readStringBytes())
	case Number:
		return d.ReadFloat()
	case Bool:
		return d.ReadBool()
	case Null:
		d.literal("null")
		return nil
	}
	d.expected("value")
	return nil
}

// result returns v, or nil once an error is recorded, so that a failed
// ReadValue never returns a partial tree.
func (d *Decoder) result(v any) any {
	if d.err != nil {
		return nil
	}
	return v
}

// quoteByte formats c for an error message.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

// Parse decodes a whole document into a generic tree, as ReadValue does.
func Parse(data []byte) (any, error) {
	d := Decoder{data: data}
	v := d.ReadValue()
	if err := d.End(); err != nil {
		return nil, err
	}
	return v, nil
}

// Valid reports whether data is one well-formed JSON document.
func Valid(data []byte) bool {
	d := Decoder{data: data}
	d.Skip()
	return d.End() == nil
}
