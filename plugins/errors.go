package plugins

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidManifest is returned by ParseManifest and Load when a
	// manifest has an unknown field or an invalid value.
	ErrInvalidManifest = errors.New("invalid manifest")

	// ErrSHA256Mismatch is returned by Load when the module's digest differs
	// from the manifest's sha256 pin. Load checks it before compiling.
	ErrSHA256Mismatch = errors.New("sha256 mismatch")

	// ErrHookNotExported is returned by Load when the manifest's hooks name a
	// hook whose export the module lacks.
	ErrHookNotExported = errors.New("hook not exported")

	// ErrClosed is returned, wrapped in a Failure or as is, by calls on a
	// closed Plugin or Runtime.
	ErrClosed = errors.New("closed")

	// ErrInputTooLarge is wrapped in the Failure of a call whose input is
	// over MaxInputBytes. The guest is not called.
	ErrInputTooLarge = errors.New("input too large")

	// ErrNotSubscribed is wrapped in the Failure of a call for a hook that
	// the manifest's hooks do not list.
	ErrNotSubscribed = errors.New("not subscribed")
)

// FailureType is the kind of a plugin failure, as shown in events and in
// `podplug plugin inspect`.
type FailureType string

// The failure types of the plugin ABI.
const (
	// FailureTimeout means the per-hook deadline passed.
	FailureTimeout FailureType = "timeout"
	// FailureTrap means the guest trapped (unreachable, a bad memory access,
	// a bad pointer passed to a host function) or exited.
	FailureTrap FailureType = "trap"
	// FailureOutOfMemory means the guest tried to grow its memory past the
	// manifest's memoryLimitPages, or podplug_buffer returned 0.
	FailureOutOfMemory FailureType = "out_of_memory"
	// FailureDenied means the plugin returned status deny. It is a decision,
	// not a malfunction: it does not count toward the circuit breaker.
	FailureDenied FailureType = "denied"
	// FailureBadOutput means the result was empty, out of range, oversized,
	// not JSON, without a valid status, or carried a change not allowed.
	FailureBadOutput FailureType = "bad_output"
	// FailureABIMismatch means the module does not implement ABI version 1.
	FailureABIMismatch FailureType = "abi_mismatch"
	// FailureError means the plugin returned status error, or the call
	// failed on the host side (input too large, store failure, closed).
	FailureError FailureType = "error"
	// FailureCircuitOpen means the call was rejected without running guest
	// code because the plugin's circuit breaker is open.
	FailureCircuitOpen FailureType = "circuit_open"
)

// Failure is the error of a failed hook call or of a failed ABI check. Its
// Message is the plugin's own message for denied and error, and a host
// description for the other types.
type Failure struct {
	Plugin  string
	Hook    string // pre-start, post-stop, inspect, validate-config or load
	Type    FailureType
	Message string
	Err     error `json:"-"` // the underlying cause, such as context.DeadlineExceeded; may be nil
}

// Error formats the failure as `plugin stamp: pre-start: timeout: exceeded 100ms`.
func (f *Failure) Error() string {
	msg := fmt.Sprintf("plugin %s: %s: %s", f.Plugin, f.Hook, f.Type)
	if f.Message != "" {
		msg += ": " + f.Message
	}
	return msg
}

// Unwrap returns the underlying cause.
func (f *Failure) Unwrap() error { return f.Err }

// FailureTypeOf returns the type of the Failure in err's chain, or "" when
// err is nil or holds no Failure.
func FailureTypeOf(err error) FailureType {
	var f *Failure
	if errors.As(err, &f) {
		return f.Type
	}
	return ""
}
