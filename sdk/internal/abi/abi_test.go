package abi

import (
	"strings"
	"testing"
)

func TestBufferReuse(t *testing.T) {
	input = nil
	small := Buffer(10)
	if len(small) < 10 {
		t.Fatalf("Buffer(10) has %d bytes", len(small))
	}
	if again := Buffer(100); &again[0] != &small[0] {
		t.Error("Buffer(100) allocated although the first buffer was large enough")
	}
	big := Buffer(minBuffer + 1)
	if len(big) < minBuffer+1 {
		t.Fatalf("Buffer(%d) has %d bytes", minBuffer+1, len(big))
	}
	if zero := Buffer(0); zero == nil {
		t.Error("Buffer(0) = nil, want a buffer")
	}
}

func TestBufferLimits(t *testing.T) {
	if Buffer(-1) != nil {
		t.Error("Buffer(-1) != nil")
	}
	if Buffer(MaxInput+1) != nil {
		t.Errorf("Buffer(%d) != nil", MaxInput+1)
	}
}

func TestCallInputOutOfRange(t *testing.T) {
	input = nil
	Buffer(8)
	got := string(Call("pre_start", int32(len(input)+1), func(in, out []byte) []byte {
		t.Error("handle called with an out-of-range input length")
		return out
	}))
	if !strings.Contains(got, `"status":"error"`) || !strings.Contains(got, "is beyond the") {
		t.Errorf("Call = %s, want an error result about the length", got)
	}
}

func TestCallRecoversError(t *testing.T) {
	Buffer(2)
	got := string(Call("inspect", 2, func(in, out []byte) []byte {
		var m map[string]int
		m["x"] = 1 // assignment to a nil map panics with a runtime.Error
		return out
	}))
	want := `{"status":"error","message":"inspect handler panicked: assignment to entry in nil map"}`
	if got != want {
		t.Errorf("Call = %s, want %s", got, want)
	}
}

func TestInvokeTooLarge(t *testing.T) {
	got := string(Invoke("pre_start", make([]byte, MaxInput+1), func(in, out []byte) []byte {
		t.Error("handle called with an oversized input")
		return out
	}))
	if !strings.Contains(got, "over the limit") {
		t.Errorf("Invoke = %s, want an error result about the size", got)
	}
}
