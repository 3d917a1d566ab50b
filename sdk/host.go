package sdk

import "strconv"

// MaxKeyLen and MaxValueLen are the host's limits on the plugin's
// key-value store, in bytes.
const (
	MaxKeyLen   = 256
	MaxValueLen = 64 << 10
)

// Level is the severity of a log message.
type Level int32

// Levels of Log, with the numbers the ABI's log import takes.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)

// String returns the level's lowercase name.
func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	case LevelError:
		return "error"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// Log sends a message to the daemon log and the event log. The host cuts
// messages at 1 KiB and keeps at most 100 calls per second per plugin,
// counting and dropping the rest. Outside a wasip1 build, Log writes to
// standard error, so plugin code can be tested on the host.
func Log(level Level, msg string) {
	hostLog(level, msg)
}

// KVGet returns a copy of the value of key in the plugin's own store, and
// whether the key is present. The store is kept by the daemon per plugin
// name: it survives instance replacement and daemon restarts.
//
// Outside a wasip1 build the KV functions use a process-wide in-memory map,
// so plugin code can be tested on the host.
func KVGet(key string) ([]byte, bool, error) {
	if len(key) > MaxKeyLen {
		return nil, false, ErrKeyTooLong
	}
	return hostKVGet(key)
}

// KVSet stores value under key. It returns ErrKeyTooLong or
// ErrValueTooLarge before calling the host, and ErrKVFailed when the host
// refuses the value, such as when the store is full.
func KVSet(key string, value []byte) error {
	if len(key) > MaxKeyLen {
		return ErrKeyTooLong
	}
	if len(value) > MaxValueLen {
		return ErrValueTooLarge
	}
	return hostKVSet(key, value)
}

// KVDelete deletes key; deleting an absent key is not an error.
func KVDelete(key string) error {
	if len(key) > MaxKeyLen {
		return ErrKeyTooLong
	}
	return hostKVDelete(key)
}
