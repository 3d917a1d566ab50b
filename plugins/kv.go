package plugins

import (
	"bytes"
	"sync"
)

// MemoryKV is a KV kept in memory, for tests and for a Runtime without a
// store: its keys do not survive the process. It is safe for concurrent use.
type MemoryKV struct {
	mu   sync.Mutex
	data map[string]map[string][]byte // plugin, key, value
}

// NewMemoryKV returns an empty MemoryKV.
func NewMemoryKV() *MemoryKV { return &MemoryKV{data: map[string]map[string][]byte{}} }

// Get returns a copy of the value of key in plugin's scope.
func (kv *MemoryKV) Get(plugin, key string) ([]byte, bool, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	v, ok := kv.data[plugin][key]
	return bytes.Clone(v), ok, nil
}

// Set stores a copy of value under key in plugin's scope.
func (kv *MemoryKV) Set(plugin, key string, value []byte) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	if kv.data[plugin] == nil {
		kv.data[plugin] = map[string][]byte{}
	}
	kv.data[plugin][key] = bytes.Clone(value)
	return nil
}

// Delete removes key from plugin's scope.
func (kv *MemoryKV) Delete(plugin, key string) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	delete(kv.data[plugin], key)
	return nil
}
