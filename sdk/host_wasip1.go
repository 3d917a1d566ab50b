//go:build wasip1

package sdk

import "unsafe"

//go:wasmimport podplug log
func podplugLog(level int32, ptr unsafe.Pointer, size int32)

//go:wasmimport podplug kv_get
func podplugKVGet(keyPtr unsafe.Pointer, keyLen int32, valPtr unsafe.Pointer, valCap int32) int32

//go:wasmimport podplug kv_set
func podplugKVSet(keyPtr unsafe.Pointer, keyLen int32, valPtr unsafe.Pointer, valLen int32) int32

//go:wasmimport podplug kv_delete
func podplugKVDelete(keyPtr unsafe.Pointer, keyLen int32) int32

func stringPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

func bytesPtr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func hostLog(level Level, msg string) {
	podplugLog(int32(level), stringPtr(msg), int32(len(msg)))
}

// kvScratch receives values from kv_get; it grows to the largest value read.
var kvScratch = make([]byte, 1024)

// kvGetAttempts bounds the retries of kv_get when the value grows between
// the call that reports its length and the call that copies it, which can
// happen when another instance of the plugin writes the key meanwhile.
const kvGetAttempts = 3

func hostKVGet(key string) ([]byte, bool, error) {
	for range kvGetAttempts {
		n := podplugKVGet(stringPtr(key), int32(len(key)), bytesPtr(kvScratch), int32(len(kvScratch)))
		switch {
		case n == -1:
			return nil, false, nil
		case n < 0:
			return nil, false, ErrKVFailed
		case int(n) <= len(kvScratch):
			return append([]byte(nil), kvScratch[:n]...), true, nil
		}
		kvScratch = make([]byte, n)
	}
	return nil, false, ErrKVFailed
}

func hostKVSet(key string, value []byte) error {
	if podplugKVSet(stringPtr(key), int32(len(key)), bytesPtr(value), int32(len(value))) != 0 {
		return ErrKVFailed
	}
	return nil
}

func hostKVDelete(key string) error {
	if podplugKVDelete(stringPtr(key), int32(len(key))) != 0 {
		return ErrKVFailed
	}
	return nil
}
