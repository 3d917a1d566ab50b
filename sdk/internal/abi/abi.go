// Package abi is the guest side of the podplug plugin ABI that every hook
// package shares: the input buffer handed out by podplug_buffer, the result
// buffer and error results. The exports themselves are in the wasip1-only
// file; everything here also builds on the host so it can be tested there.
package abi

import (
	"strconv"

	"github.com/podplug/podplug/sdk/internal/jsonx"
)

// Version is the plugin ABI version the SDK implements.
const Version = 1

// MaxInput is the largest input buffer the guest allocates, in bytes. The
// host caps inputs at 1 MiB; the margin lets a later host raise its cap a
// little without breaking plugins built now.
const MaxInput = 16 << 20

// minBuffer is the smallest input buffer allocated, so that the small
// inputs of most calls reuse one buffer.
const minBuffer = 16 << 10

var (
	input  []byte // the buffer the last podplug_buffer call returned
	output []byte // the last result, kept until the next call overwrites it
)

// Buffer returns a buffer of at least size bytes for the host to write the
// next input into, reusing the previous one when it is large enough. It
// returns nil for a negative size or one over MaxInput.
func Buffer(size int32) []byte {
	if size < 0 || size > MaxInput {
		return nil
	}
	if int(size) <= len(input) {
		return input
	}
	input = make([]byte, max(int(size), minBuffer))
	return input
}

// Input returns the first n bytes of the input buffer, and false when n
// does not fit in it.
func Input(n int32) ([]byte, bool) {
	if n < 0 || int(n) > len(input) {
		return nil, false
	}
	return input[:n], true
}

// Call runs a hook: it hands the first n bytes of the input buffer and an
// empty output buffer to handle, and returns the result handle appended.
// It returns an error result when n is out of range or handle panics, so
// that a Go panic reaches the host as a typed error with its message
// rather than as a trap with none.
func Call(hook string, n int32, handle func(in, out []byte) []byte) (result []byte) {
	in, ok := Input(n)
	if !ok {
		output = ErrorResult(output[:0], hook+" input length "+strconv.Itoa(int(n))+
			" is beyond the "+strconv.Itoa(len(input))+"-byte buffer")
		return output
	}
	defer func() {
		if v := recover(); v != nil {
			output = ErrorResult(output[:0], hook+" handler panicked: "+panicMessage(v))
			result = output
		}
	}()
	output = handle(in, output[:0])
	return output
}

func panicMessage(v any) string {
	switch v := v.(type) {
	case error:
		return v.Error()
	case string:
		return v
	case interface{ String() string }:
		return v.String()
	}
	return "panic value of a type without a message"
}

// ErrorResult appends a result with status error and message to dst.
func ErrorResult(dst []byte, message string) []byte {
	e := jsonx.NewEncoder(dst)
	e.ObjectStart()
	e.Key("status")
	e.String("error")
	e.Key("message")
	e.String(message)
	e.ObjectEnd()
	return e.Bytes()
}

// OKResult appends {"status":"ok"} to dst.
func OKResult(dst []byte) []byte {
	return append(dst, `{"status":"ok"}`...)
}

// Invoke runs handle on input the way the exports do, through Buffer and
// Call, and returns a copy of the result. It lets host-side tests run a
// plugin's handlers without a Wasm runtime. It is not safe for concurrent
// use, as the exports are not.
func Invoke(hook string, input []byte, handle func(in, out []byte) []byte) []byte {
	buf := Buffer(int32(min(len(input), MaxInput+1)))
	if buf == nil {
		return ErrorResult(nil, hook+" input of "+strconv.Itoa(len(input))+" bytes is over the limit")
	}
	n := copy(buf, input)
	return append([]byte(nil), Call(hook, int32(n), handle)...)
}
