package plugins

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"
)

// withInstance runs fn on an instance of p and returns the instance to the
// pool, or discards it when fn reports it unhealthy.
func withInstance(t *testing.T, p *Plugin, fn func(inst *instance) (healthy bool)) {
	t.Helper()
	inst, err := p.pool.take(ctx, p.done)
	if err != nil {
		t.Fatal(err)
	}
	if inst == nil {
		var f *Failure
		if inst, f = p.newInstance(ctx, ctx, "test"); f != nil {
			p.pool.free()
			t.Fatal(f)
		}
	}
	p.release(inst, fn(inst))
}

// callExport calls a test export and returns its i32 result, if any.
func callExport(inst *instance, name string, args ...uint64) (int32, error) {
	res, err := inst.module.ExportedFunction(name).Call(ctx, args...)
	if err != nil || len(res) == 0 {
		return 0, err
	}
	return api.DecodeI32(res[0]), nil
}

// Guest memory layout of the host call tests.
const (
	keyAt   = 2048
	valueAt = 4096
	dstAt   = 1024
)

func writeGuest(t *testing.T, inst *instance, at uint32, data []byte) {
	t.Helper()
	if !inst.memory.Write(at, data) {
		t.Fatalf("write %d bytes at %d: outside memory", len(data), at)
	}
}

func TestKVRoundTrip(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "hostcalls", nil, HookInspect)
	withInstance(t, p, func(inst *instance) bool {
		if _, ok := inst.memory.Grow(2); !ok { // room for a value over 64 KiB
			t.Fatal("grow memory")
		}
		tests := []struct {
			name  string
			call  string
			args  []uint64
			setup func()
			want  int32
		}{
			{"get absent", "t_kv_get", []uint64{keyAt, 1, dstAt, 16},
				func() { writeGuest(t, inst, keyAt, []byte("k")) }, -1},
			{"set", "t_kv_set", []uint64{keyAt, 1, valueAt, 5},
				func() { writeGuest(t, inst, valueAt, []byte("hello")) }, 0},
			{"get length only", "t_kv_get", []uint64{keyAt, 1, dstAt, 0}, nil, 5},
			{"get too small", "t_kv_get", []uint64{keyAt, 1, dstAt, 4}, nil, 5},
			{"get", "t_kv_get", []uint64{keyAt, 1, dstAt, 16}, nil, 5},
			{"delete", "t_kv_delete", []uint64{keyAt, 1}, nil, 0},
			{"get deleted", "t_kv_get", []uint64{keyAt, 1, dstAt, 16}, nil, -1},
			{"delete absent", "t_kv_delete", []uint64{keyAt, 1}, nil, 0},
			{"set empty key", "t_kv_set", []uint64{keyAt, 0, valueAt, 5}, nil, -1},
			{"set key of 256 bytes", "t_kv_set", []uint64{keyAt, MaxKeyBytes, valueAt, 5},
				nil, 0},
			{"set key of 257 bytes", "t_kv_set", []uint64{keyAt, MaxKeyBytes + 1, valueAt, 5},
				nil, -1},
			{"set value of 64 KiB", "t_kv_set", []uint64{keyAt, 1, valueAt, MaxValueBytes},
				nil, 0},
			{"set value over 64 KiB", "t_kv_set",
				[]uint64{keyAt, 1, valueAt, MaxValueBytes + 1}, nil, -1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.setup != nil {
					tt.setup()
				}
				writeGuest(t, inst, dstAt, make([]byte, 16))
				got, err := callExport(inst, tt.call, tt.args...)
				if err != nil {
					t.Fatalf("%s: %v", tt.call, err)
				}
				if got != tt.want {
					t.Errorf("%s = %d, want %d", tt.call, got, tt.want)
				}
			})
		}
		// Only the call with room copied the value.
		return true
	})
}

func TestKVGetCopiesOnlyWhenItFits(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "hostcalls", nil, HookInspect)
	withInstance(t, p, func(inst *instance) bool {
		writeGuest(t, inst, keyAt, []byte("k"))
		writeGuest(t, inst, valueAt, []byte("hello"))
		if got, _ := callExport(inst, "t_kv_set", keyAt, 1, valueAt, 5); got != 0 {
			t.Fatalf("kv_set = %d", got)
		}
		writeGuest(t, inst, dstAt, []byte("....."))
		if got, _ := callExport(inst, "t_kv_get", keyAt, 1, dstAt, 4); got != 5 {
			t.Fatalf("kv_get with a small buffer = %d, want 5", got)
		}
		if dst, _ := inst.memory.Read(dstAt, 5); string(dst) != "....." {
			t.Errorf("kv_get with a small buffer wrote %q", dst)
		}
		if got, _ := callExport(inst, "t_kv_get", keyAt, 1, dstAt, 5); got != 5 {
			t.Fatalf("kv_get = %d, want 5", got)
		}
		if dst, _ := inst.memory.Read(dstAt, 5); string(dst) != "hello" {
			t.Errorf("kv_get wrote %q, want hello", dst)
		}
		return true
	})
}

func TestKVIsolationAndPersistence(t *testing.T) {
	kv := NewMemoryKV()
	r := newTestRuntime(t, Config{KV: kv})
	wasm := fixture(t, "hostcalls")
	a, err := r.Load(ctx, wasm, testManifest("alpha", wasm, HookInspect))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Load(ctx, wasm, testManifest("beta", wasm, HookInspect))
	if err != nil {
		t.Fatal(err)
	}

	set := func(inst *instance) bool {
		writeGuest(t, inst, keyAt, []byte("secret"))
		writeGuest(t, inst, valueAt, []byte("alpha's"))
		if got, err := callExport(inst, "t_kv_set", keyAt, 6, valueAt, 7); got != 0 || err != nil {
			t.Fatalf("kv_set = %d, %v", got, err)
		}
		return false // discard, so the next instance is new
	}
	get := func(want int32) func(inst *instance) bool {
		return func(inst *instance) bool {
			writeGuest(t, inst, keyAt, []byte("secret"))
			if got, err := callExport(inst, "t_kv_get", keyAt, 6, dstAt, 16); got != want ||
				err != nil {
				t.Errorf("kv_get = %d, %v, want %d", got, err, want)
			}
			return true
		}
	}

	withInstance(t, a, set)
	withInstance(t, b, get(-1))
	withInstance(t, a, get(7)) // a new instance of alpha
	if v, ok, _ := kv.Get("alpha", "secret"); !ok || string(v) != "alpha's" {
		t.Errorf("store holds %q, %v under alpha", v, ok)
	}
}

func TestHostCallBadPointerTraps(t *testing.T) {
	const outside = 0xFFFFFF00
	tests := []struct {
		name    string
		call    string
		args    []uint64
		wantMsg string
	}{
		{"log", "t_log", []uint64{1, outside, 16},
			"podplug.log: pointer 4294967040 with length 16"},
		{"log length", "t_log", []uint64{1, 0, 70000},
			"podplug.log: pointer 0 with length 70000"},
		{"kv_get key", "t_kv_get", []uint64{outside, 4, dstAt, 16}, "podplug.kv_get: pointer"},
		{"kv_get value", "t_kv_get", []uint64{keyAt, 1, 65530, 16},
			"podplug.kv_get: pointer 65530"},
		{"kv_set key", "t_kv_set", []uint64{outside, 4, valueAt, 1}, "podplug.kv_set: pointer"},
		{"kv_set value", "t_kv_set", []uint64{keyAt, 1, 65000, 1000},
			"podplug.kv_set: pointer 65000"},
		{"kv_delete key", "t_kv_delete", []uint64{65535, 2}, "podplug.kv_delete: pointer 65535"},
	}
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "hostcalls", nil, HookInspect)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withInstance(t, p, func(inst *instance) bool {
				_, err := callExport(inst, tt.call, tt.args...)
				var trap *hostTrap
				if !errors.As(err, &trap) {
					t.Fatalf("%s error = %v, want a host trap", tt.call, err)
				}
				f := p.classify(ctx, ctx, inst.alloc, HookInspect, err)
				if f.Type != FailureTrap || !strings.Contains(f.Message, tt.wantMsg) {
					t.Errorf("failure = %v, want a trap containing %q", f, tt.wantMsg)
				}
				return false
			})
		})
	}
	if _, err := p.Call(ctx, HookInspect, []byte(`{}`)); err != nil {
		t.Errorf("call after the traps: %v", err)
	}
}

// failingKV fails every operation.
type failingKV struct{}

var errStoreDown = errors.New("store unavailable")

func (failingKV) Get(string, string) ([]byte, bool, error) { return nil, false, errStoreDown }
func (failingKV) Set(string, string, []byte) error         { return errStoreDown }
func (failingKV) Delete(string, string) error              { return errStoreDown }

func TestKVStoreFailure(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	r := newTestRuntime(t, Config{KV: failingKV{}, Logger: logger})
	p := loadFixture(t, r, "hostcalls", nil, HookInspect)
	withInstance(t, p, func(inst *instance) bool {
		writeGuest(t, inst, keyAt, []byte("k"))
		if got, _ := callExport(inst, "t_kv_set", keyAt, 1, valueAt, 1); got != -1 {
			t.Errorf("kv_set on a failing store = %d, want -1", got)
		}
		if got, _ := callExport(inst, "t_kv_delete", keyAt, 1); got != -1 {
			t.Errorf("kv_delete on a failing store = %d, want -1", got)
		}
		_, err := callExport(inst, "t_kv_get", keyAt, 1, dstAt, 16)
		f := p.classify(ctx, ctx, inst.alloc, HookInspect, err)
		if f.Type != FailureError || !strings.Contains(f.Message, "store unavailable") {
			t.Errorf("kv_get on a failing store: failure %v, want type error", f)
		}
		return false
	})
	for _, want := range []string{"plugin kv_set failed", "plugin kv_delete failed",
		"plugin=hostcalls", "store unavailable"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q does not contain %q", logs.String(), want)
		}
	}
}

// logRecorder collects plugin log lines from Config.OnLog.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) onLog(plugin string, level int, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, plugin+"|"+string(rune('0'+level))+"|"+msg)
}

func (l *logRecorder) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func TestLogFloodIsRateCapped(t *testing.T) {
	var rec logRecorder
	r := newTestRuntime(t, Config{OnLog: rec.onLog})
	p := loadFixture(t, r, "flood", nil, HookPreStart)
	// A fixed clock keeps all 10000 calls in one window on a slow machine.
	fixed := time.Now()
	p.logs.now = func() time.Time { return fixed }

	if _, err := p.Call(ctx, HookPreStart, []byte(`{}`)); err != nil {
		t.Fatalf("flooding call: %v", err)
	}
	if got := rec.count("flood|1|hello flood"); got != MaxLogsPerSecond {
		t.Errorf("kept %d log lines, want %d", got, MaxLogsPerSecond)
	}
	notice := "flood|2|dropped 9900 log messages over the limit of 100 per second"
	if got := rec.count(notice); got != 1 {
		t.Errorf("dropped-count lines = %d, want 1 reading %q", got, notice)
	}
	if got := p.Stats().LogLinesDropped; got != 9900 {
		t.Errorf("LogLinesDropped = %d, want 9900", got)
	}
}

func TestLogMessageIsCut(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newTestRuntime(t, Config{Logger: logger})
	p := loadFixture(t, r, "flood", nil, HookInspect)
	if _, err := p.Call(ctx, HookInspect, []byte(`{}`)); err != nil {
		t.Fatalf("Call: %v", err)
	}
	out := logs.String()
	for _, want := range []string{`"level":"WARN"`, `"msg":"plugin log"`, `"plugin":"flood"`,
		`"message":"hello flood`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s does not contain %s", out, want)
		}
	}
	// The message starts with 11 bytes of text; the input {} sits in it at
	// offset 768; the rest up to the 1 KiB cut is zeros.
	if got, want := strings.Count(out, `\u0000`), MaxLogMessageBytes-11-2; got != want {
		t.Errorf("logged %d zero bytes, want %d", got, want)
	}
}

func TestLogBadPointerTrapsCall(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "flood", nil, HookPostStop)
	_, err := p.Call(ctx, HookPostStop, []byte(`{}`))
	wantFailure(t, err, FailureTrap,
		"podplug.log: pointer 4294967040 with length 16 is outside guest memory of 65536 bytes")
}

func TestCutMessage(t *testing.T) {
	euro := "\u20ac" // three bytes in UTF-8
	tests := []struct {
		name    string
		msg     string
		wantLen int
	}{
		{"short", "hello", 5},
		{"exactly the limit", strings.Repeat("a", MaxLogMessageBytes), MaxLogMessageBytes},
		{"cut inside a character", strings.Repeat("a", MaxLogMessageBytes-1) + euro,
			MaxLogMessageBytes - 1},
		// A run of invalid bytes becomes one U+FFFD, three bytes.
		{"invalid bytes", strings.Repeat("\xff", MaxLogMessageBytes*2), 3},
		{"replacements past the limit", strings.Repeat("a\xff", MaxLogMessageBytes/2),
			MaxLogMessageBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutMessage([]byte(tt.msg))
			if len(got) != tt.wantLen {
				t.Errorf("length = %d, want %d", len(got), tt.wantLen)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result %q is not valid UTF-8", got)
			}
		})
	}
}
