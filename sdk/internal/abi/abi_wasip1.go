//go:build wasip1

package abi

import "unsafe"

//go:wasmexport podplug_abi_version
func abiVersion() int32 { return Version }

//go:wasmexport podplug_buffer
func buffer(size int32) int32 {
	b := Buffer(size)
	if b == nil {
		return 0
	}
	return pointer(b)
}

// pointer returns the guest memory address of b's first byte. Wasm
// addresses fit in 32 bits, and Go's garbage collector does not move heap
// objects, so the address stays valid while b is referenced.
func pointer(b []byte) int32 {
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// Export runs a hook through Call and returns the location of its result
// as the ABI's (ptr << 32) | len.
func Export(hook string, n int32, handle func(in, out []byte) []byte) int64 {
	out := Call(hook, n, handle)
	return int64(uint64(uint32(pointer(out)))<<32 | uint64(uint32(len(out))))
}
