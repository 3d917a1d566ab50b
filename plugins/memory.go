package plugins

import (
	"fmt"

	"github.com/tetratelabs/wazero/experimental"
)

const pageSize = 64 << 10 // bytes in a Wasm page

// cappedMemory backs one instance's linear memory and enforces the
// manifest's memoryLimitPages. A memory.grow past the limit returns -1 to
// the guest, as the Wasm spec allows, and is recorded, so a call that then
// fails is reported as out_of_memory.
//
// RuntimeConfig.WithMemoryLimitPages of the plugin's own wazero runtime
// could cap memory too, but wazero rejects such a grow before calling any
// allocator, so podplug could not tell an out-of-memory guest from one that
// trapped for another reason. The allocator is the experimental
// MemoryAllocator API of wazero v1.12.0.
type cappedMemory struct {
	limit        uint64 // bytes
	buf          []byte
	growRejected bool // set by a grow past limit; read after the call returns
}

func (m *cappedMemory) allocate(capacity, _ uint64) experimental.LinearMemory {
	m.buf = make([]byte, 0, min(capacity, m.limit))
	return m
}

// Reallocate grows the memory to size bytes, or returns nil past the limit.
// Bytes past the old length are zero because Wasm memory never shrinks, so
// they were never written.
func (m *cappedMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.growRejected = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	grown := make([]byte, size, min(max(size, 2*uint64(cap(m.buf))), m.limit))
	copy(grown, m.buf)
	m.buf = grown
	return m.buf
}

// Free drops the memory.
func (m *cappedMemory) Free() { m.buf = nil }

// formatPages formats a number of Wasm pages with its size, as in
// "512 (32 MiB)" or "8 (512 KiB)".
func formatPages(pages uint32) string {
	if pages%16 == 0 {
		return fmt.Sprintf("%d (%d MiB)", pages, pages/16)
	}
	return fmt.Sprintf("%d (%d KiB)", pages, pages*64)
}
