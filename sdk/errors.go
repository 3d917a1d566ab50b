package sdk

import "errors"

// ErrKeyTooLong is returned by KVGet, KVSet and KVDelete for a key over
// MaxKeyLen bytes, without calling the host.
var ErrKeyTooLong = errors.New("kv key longer than 256 bytes")

// ErrValueTooLarge is returned by KVSet for a value over MaxValueLen bytes,
// without calling the host.
var ErrValueTooLarge = errors.New("kv value larger than 64 KiB")

// ErrKVFailed is returned when the host reports a key-value call as failed,
// such as a full store.
var ErrKVFailed = errors.New("kv call failed in the host")

// ErrConfigType is wrapped by the Config accessors' errors when a config
// value has another JSON type than the one asked for.
var ErrConfigType = errors.New("wrong type")

// InputError is a hook input that could not be decoded. The SDK turns it
// into a result with status error, so the handler is not called.
type InputError struct {
	Hook string // "pre_start", "post_stop", "inspect" or "validate_config"
	Err  error  // the decoding failure, with its byte offset
}

func (e *InputError) Error() string {
	return "decode " + e.Hook + " input: " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }
