package plugins

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Limits of the podplug host functions (sdk/ABI.md).
const (
	MaxLogMessageBytes = 1 << 10
	MaxLogsPerSecond   = 100
	MaxKeyBytes        = 256
	MaxValueBytes      = 64 << 10
)

// hostTrap is the panic value of a host function called with a pointer
// outside guest memory. wazero recovers it and fails the guest call, which
// podplug reports as a trap.
type hostTrap struct{ msg string }

func (t *hostTrap) Error() string { return t.msg }

// hostError is the panic value of a host function whose store failed. The
// guest call fails with a Failure of type error: the plugin is not at fault.
type hostError struct{ msg string }

func (e *hostError) Error() string { return e.msg }

// instantiateHostModules instantiates wasi_snapshot_preview1 and podplug in
// the plugin's runtime. The podplug functions act for this plugin alone.
func (p *Plugin) instantiateHostModules(ctx context.Context) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, p.wr); err != nil {
		return err
	}
	b := p.wr.NewHostModuleBuilder(hostModule)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(p.hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").Export("log")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(p.hostKVGet),
			[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).
		WithParameterNames("key_ptr", "key_len", "val_ptr", "val_cap").Export("kv_get")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(p.hostKVSet),
			[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).
		WithParameterNames("key_ptr", "key_len", "val_ptr", "val_len").Export("kv_set")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(p.hostKVDelete),
			[]api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("key_ptr", "key_len").Export("kv_delete")
	_, err := b.Instantiate(ctx)
	return err
}

// guestBytes returns the guest memory at [ptr, ptr+n) without copying, or
// fails the guest call with a trap when the range is outside memory.
func guestBytes(mod api.Module, fn string, ptr, n uint32) []byte {
	mem := mod.Memory()
	if mem == nil {
		panic(&hostTrap{msg: fmt.Sprintf("%s.%s: the module has no memory", hostModule, fn)})
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		panic(&hostTrap{msg: fmt.Sprintf(
			"%s.%s: pointer %d with length %d is outside guest memory of %d bytes",
			hostModule, fn, ptr, n, mem.Size())})
	}
	return b
}

// hostLog implements podplug.log(level, ptr, len). A level outside 0 to 3
// is clamped into that range.
func (p *Plugin) hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level := min(max(api.DecodeI32(stack[0]), 0), 3)
	msg := guestBytes(mod, "log", api.DecodeU32(stack[1]), api.DecodeU32(stack[2]))
	if !p.logs.allow() {
		return
	}
	p.emitLog(ctx, int(level), cutMessage(msg))
}

// cutMessage returns msg as valid UTF-8 of at most MaxLogMessageBytes
// bytes, cut at a character boundary, with invalid bytes replaced by U+FFFD.
func cutMessage(msg []byte) string {
	if len(msg) > MaxLogMessageBytes {
		end := MaxLogMessageBytes
		for end > MaxLogMessageBytes-utf8.UTFMax && !utf8.RuneStart(msg[end]) {
			end--
		}
		msg = msg[:end]
	}
	valid := strings.ToValidUTF8(string(msg), "\uFFFD")
	for len(valid) > MaxLogMessageBytes { // replacements can lengthen it
		_, size := utf8.DecodeLastRuneInString(valid)
		valid = valid[:len(valid)-size]
	}
	return valid
}

// hostKVGet implements podplug.kv_get(key_ptr, key_len, val_ptr, val_cap).
func (p *Plugin) hostKVGet(ctx context.Context, mod api.Module, stack []uint64) {
	key := guestBytes(mod, "kv_get", api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	valPtr, valCap := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	dst := guestBytes(mod, "kv_get", valPtr, valCap)
	if len(key) == 0 || len(key) > MaxKeyBytes {
		stack[0] = api.EncodeI32(-1) // no such key can have been stored
		return
	}
	value, ok, err := p.kvFor(ctx).Get(p.manifest.Name, string(key))
	if err != nil {
		panic(&hostError{msg: fmt.Sprintf("%s.kv_get %q: %v", hostModule, key, err)})
	}
	if !ok {
		stack[0] = api.EncodeI32(-1)
		return
	}
	if len(value) <= len(dst) {
		copy(dst, value)
	}
	stack[0] = api.EncodeI32(int32(len(value)))
}

// hostKVSet implements podplug.kv_set(key_ptr, key_len, val_ptr, val_len).
func (p *Plugin) hostKVSet(ctx context.Context, mod api.Module, stack []uint64) {
	key := guestBytes(mod, "kv_set", api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	value := guestBytes(mod, "kv_set", api.DecodeU32(stack[2]), api.DecodeU32(stack[3]))
	if len(key) == 0 || len(key) > MaxKeyBytes || len(value) > MaxValueBytes {
		stack[0] = api.EncodeI32(-1)
		return
	}
	if err := p.kvFor(ctx).Set(p.manifest.Name, string(key), bytes.Clone(value)); err != nil {
		p.rt.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "plugin kv_set failed",
			slog.String("plugin", p.manifest.Name), slog.Any("error", err))
		stack[0] = api.EncodeI32(-1)
		return
	}
	stack[0] = 0
}

// hostKVDelete implements podplug.kv_delete(key_ptr, key_len).
func (p *Plugin) hostKVDelete(ctx context.Context, mod api.Module, stack []uint64) {
	key := guestBytes(mod, "kv_delete", api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if len(key) == 0 || len(key) > MaxKeyBytes {
		stack[0] = 0 // absent: no such key can have been stored
		return
	}
	if err := p.kvFor(ctx).Delete(p.manifest.Name, string(key)); err != nil {
		p.rt.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "plugin kv_delete failed",
			slog.String("plugin", p.manifest.Name), slog.Any("error", err))
		stack[0] = api.EncodeI32(-1)
		return
	}
	stack[0] = 0
}

// emitLog sends one plugin log line to Config.OnLog, or to Config.Logger
// when OnLog is nil.
func (p *Plugin) emitLog(ctx context.Context, level int, msg string) {
	if p.rt.cfg.OnLog != nil {
		p.rt.cfg.OnLog(p.manifest.Name, level, msg)
		return
	}
	levels := [...]slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	p.rt.cfg.Logger.LogAttrs(ctx, levels[level], "plugin log",
		slog.String("plugin", p.manifest.Name), slog.String("message", msg))
}

// flushDroppedLogs reports, as one warn line, the log calls dropped by the
// rate limit since the last report.
func (p *Plugin) flushDroppedLogs() {
	if n := p.logs.takeDropped(); n > 0 {
		p.emitLog(context.Background(), 2, fmt.Sprintf(
			"dropped %d log messages over the limit of %d per second", n, MaxLogsPerSecond))
	}
}

// logLimiter passes at most MaxLogsPerSecond log calls of one plugin per
// one-second window, across its instances, and counts the dropped ones.
type logLimiter struct {
	now func() time.Time // nil means time.Now; tests set a fixed clock

	mu          sync.Mutex
	windowStart time.Time
	passed      int    // log calls passed in the current window
	dropped     uint64 // since the last takeDropped
	total       uint64 // since the plugin was loaded
}

func (l *logLimiter) allow() bool {
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.windowStart) >= time.Second {
		l.windowStart, l.passed = now, 0
	}
	if l.passed < MaxLogsPerSecond {
		l.passed++
		return true
	}
	l.dropped++
	l.total++
	return false
}

func (l *logLimiter) takeDropped() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.dropped
	l.dropped = 0
	return n
}

func (l *logLimiter) totalDropped() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
