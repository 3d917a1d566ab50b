package jsonx

import (
	"math"
	"strconv"
)

// scanNumber consumes a number at d.pos, checking the RFC 8259 grammar, and
// returns its bytes. integer is true when it has no fraction or exponent.
func (d *Decoder) scanNumber() (span []byte, integer bool) {
	start := d.pos
	i := start
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && d.data[i] >= '1' && d.data[i] <= '9':
		i = skipDigits(d.data, i)
	default:
		d.failAt(i, "invalid number", nil)
		return nil, false
	}
	integer = true
	if i < len(d.data) && d.data[i] == '.' {
		integer = false
		i++
		if !isDigit(d.data, i) {
			d.failAt(i, "invalid number, expected digit after '.'", nil)
			return nil, false
		}
		i = skipDigits(d.data, i)
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		integer = false
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if !isDigit(d.data, i) {
			d.failAt(i, "invalid number, expected digit in exponent", nil)
			return nil, false
		}
		i = skipDigits(d.data, i)
	}
	d.pos = i
	return d.data[start:i], integer
}

func isDigit(data []byte, i int) bool {
	return i < len(data) && data[i] >= '0' && data[i] <= '9'
}

func skipDigits(data []byte, i int) int {
	for isDigit(data, i) {
		i++
	}
	return i
}

// number checks that the next value is a number and consumes it. It
// consumes a null and returns nil. The offset is where the number starts.
func (d *Decoder) number() (span []byte, integer bool, offset int) {
	switch d.Peek() {
	case Null:
		d.literal("null")
		return nil, false, d.pos
	case Number:
		offset = d.pos
		span, integer = d.scanNumber()
		return span, integer, offset
	}
	d.expected("number")
	return nil, false, d.pos
}

// ReadNumber reads a number and returns its bytes as written, or nil for a
// null. Callers parse it themselves when ReadInt, ReadUint and ReadFloat do
// not fit, such as a field that uses -1 for "unlimited".
func (d *Decoder) ReadNumber() []byte {
	span, _, _ := d.number()
	return span
}

// ReadFloat reads a number or null (0) as a float64. A number beyond the
// float64 range is an error.
func (d *Decoder) ReadFloat() float64 {
	span, _, offset := d.number()
	if span == nil {
		return 0
	}
	f, err := strconv.ParseFloat(string(span), 64)
	if err != nil {
		d.failAt(offset, "number "+string(span)+" out of range for float64", nil)
		return 0
	}
	return f
}

// ReadInt reads a number or null (0) as an int64. A number with a fraction
// or exponent is accepted when its value is a whole number in range, so 3e2
// reads as 300; 1.5 is an error.
func (d *Decoder) ReadInt() int64 {
	span, integer, offset := d.number()
	if span == nil {
		return 0
	}
	if integer {
		n, err := strconv.ParseInt(string(span), 10, 64)
		if err != nil {
			d.failAt(offset, "number "+string(span)+" out of range for int64", nil)
		}
		return n
	}
	f, err := strconv.ParseFloat(string(span), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		d.failAt(offset, "number "+string(span)+" is not an int64", nil)
		return 0
	}
	return int64(f)
}

// ReadUint reads a number or null (0) as a uint64, like ReadInt. A negative
// number is an error.
func (d *Decoder) ReadUint() uint64 {
	span, integer, offset := d.number()
	if span == nil {
		return 0
	}
	if integer && span[0] == '-' {
		if !allZeroDigits(span[1:]) {
			d.failAt(offset, "number "+string(span)+" is negative, expected uint64", nil)
		}
		return 0
	}
	if integer {
		n, err := strconv.ParseUint(string(span), 10, 64)
		if err != nil {
			d.failAt(offset, "number "+string(span)+" out of range for uint64", nil)
		}
		return n
	}
	f, err := strconv.ParseFloat(string(span), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= math.MaxUint64 {
		d.failAt(offset, "number "+string(span)+" is not a uint64", nil)
		return 0
	}
	return uint64(f)
}

func allZeroDigits(digits []byte) bool {
	for _, c := range digits {
		if c != '0' {
			return false
		}
	}
	return true
}
