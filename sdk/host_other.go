//go:build !wasip1

package sdk

import (
	"os"
	"sync"
)

// hostStore replaces the daemon's key-value store outside wasip1.
var hostStore = struct {
	sync.Mutex
	values map[string][]byte
}{values: map[string][]byte{}}

func hostLog(level Level, msg string) {
	os.Stderr.WriteString("plugin log " + level.String() + ": " + msg + "\n")
}

func hostKVGet(key string) ([]byte, bool, error) {
	hostStore.Lock()
	defer hostStore.Unlock()
	v, ok := hostStore.values[key]
	if !ok {
		return nil, false, nil
	}
	return append([]byte{}, v...), true, nil
}

func hostKVSet(key string, value []byte) error {
	hostStore.Lock()
	defer hostStore.Unlock()
	hostStore.values[key] = append([]byte{}, value...)
	return nil
}

func hostKVDelete(key string) error {
	hostStore.Lock()
	defer hostStore.Unlock()
	delete(hostStore.values, key)
	return nil
}
