package plugins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

func TestCallResults(t *testing.T) {
	// A high threshold keeps the breaker closed through the bad results.
	r := newTestRuntime(t, Config{Breaker: BreakerConfig{Threshold: 100}})
	p := loadFixture(t, r, "echo", func(m *Manifest) {
		m.AllowedChanges = []string{"env", "labels"}
	}, HookPreStart, HookPostStop)
	big := `{"status":"ok","pad":"` + strings.Repeat("x", 70000) + `"}`

	tests := []struct {
		name     string
		hook     string
		result   string
		wantType FailureType // "" means success
		wantMsg  string
	}{
		{"ok", HookPreStart, `{"status":"ok"}`, "", ""},
		{"changes allowed", HookPreStart,
			`{"status":"ok","changes":{"env":{"A":"1"},"labels":{"x":"y"}}}`, "", ""},
		{"null change ignored", HookPreStart, `{"status":"ok","changes":{"mounts":null}}`, "", ""},
		{"post-stop ok", HookPostStop, `{"status":"ok","changes":{}}`, "", ""},
		{"deny", HookPreStart, `{"status":"deny","message":"image not allowed"}`,
			FailureDenied, "image not allowed"},
		{"error", HookPreStart, `{"status":"error","message":"config key missing"}`,
			FailureError, "config key missing"},
		{"change not allowed", HookPreStart, `{"status":"ok","changes":{"mounts":[]}}`,
			FailureBadOutput, "allowedChanges"},
		{"unknown change kind", HookPreStart, `{"status":"ok","changes":{"devices":[]}}`,
			FailureBadOutput, "not a kind of change"},
		{"changes from post-stop", HookPostStop, `{"status":"ok","changes":{"env":{}}}`,
			FailureBadOutput, "only pre-start"},
		{"garbage", HookPreStart, `%%garbage%%`, FailureBadOutput, "not a valid JSON"},
		{"array", HookPreStart, `[1,2]`, FailureBadOutput, "not a valid JSON"},
		{"null", HookPreStart, `null`, FailureBadOutput, "no status"},
		{"no status", HookPreStart, `{"message":"hi"}`, FailureBadOutput, "no status"},
		{"unknown status", HookPreStart, `{"status":"maybe"}`, FailureBadOutput, `"maybe"`},
		{"empty", HookPreStart, ``, FailureBadOutput, "result is empty"},
		{"oversized", HookPreStart, big, FailureBadOutput, "over maxOutputBytes 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.Call(ctx, tt.hook, []byte(tt.result))
			if tt.wantType == "" {
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
				if string(out) != tt.result {
					t.Errorf("result = %s, want %s", out, tt.result)
				}
				return
			}
			if out != nil {
				t.Errorf("result = %s, want nil on failure", out)
			}
			f := wantFailure(t, err, tt.wantType, tt.wantMsg)
			if f.Plugin != "echo" || f.Hook != tt.hook {
				t.Errorf("failure names plugin %q hook %q", f.Plugin, f.Hook)
			}
		})
	}
	if got := p.Stats().InstancesReplaced; got != 0 {
		t.Errorf("InstancesReplaced = %d, want 0: bad results keep the instance", got)
	}
}

func TestFailureError(t *testing.T) {
	f := &Failure{Plugin: "stamp", Hook: HookPreStart, Type: FailureTimeout,
		Message: "exceeded 100ms", Err: context.DeadlineExceeded}
	if got, want := f.Error(), "plugin stamp: pre-start: timeout: exceeded 100ms"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(f, context.DeadlineExceeded) {
		t.Error("errors.Is(failure, DeadlineExceeded) = false")
	}
	if got := FailureTypeOf(fmt.Errorf("hooks: %w", f)); got != FailureTimeout {
		t.Errorf("FailureTypeOf = %q, want timeout", got)
	}
}

func TestCallRejectsBeforeGuest(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "echo", nil, HookPreStart)
	before := p.Stats()

	_, err := p.Call(ctx, HookPreStart, make([]byte, MaxInputBytes+1))
	f := wantFailure(t, err, FailureError, "over the limit of 1048576")
	if !errors.Is(f, ErrInputTooLarge) {
		t.Errorf("failure does not wrap ErrInputTooLarge: %v", f)
	}
	_, err = p.Call(ctx, HookInspect, []byte(`{}`))
	if f := wantFailure(t, err, FailureError); !errors.Is(f, ErrNotSubscribed) {
		t.Errorf("failure does not wrap ErrNotSubscribed: %v", f)
	}

	after := p.Stats()
	if after.Calls != before.Calls {
		t.Errorf("Calls went from %d to %d: rejected calls must not reach the guest",
			before.Calls, after.Calls)
	}
}

func TestCallInputAtLimit(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "echo", func(m *Manifest) {
		m.MaxOutputBytes = MaxOutputBytesLimit
	}, HookPreStart)
	input := []byte(`{"status":"ok","pad":"` + strings.Repeat("x", MaxInputBytes-24) + `"}`)
	if len(input) != MaxInputBytes {
		t.Fatalf("input is %d bytes, want %d", len(input), MaxInputBytes)
	}
	if _, err := p.Call(ctx, HookPreStart, input); err != nil {
		t.Fatalf("Call with a 1 MiB input: %v", err)
	}
}

func TestTimeoutReplacesInstance(t *testing.T) {
	r := newTestRuntime(t, Config{})
	const timeout = 100 * time.Millisecond
	p := loadFixture(t, r, "loop", func(m *Manifest) {
		m.Timeout = Duration{timeout}
	}, HookPreStart, HookInspect)

	start := time.Now()
	_, err := p.Call(ctx, HookPreStart, []byte(`{}`))
	elapsed := time.Since(start)
	f := wantFailure(t, err, FailureTimeout, "plugin loop: pre-start: timeout: exceeded 100ms")
	if !errors.Is(f, context.DeadlineExceeded) {
		t.Errorf("timeout does not wrap context.DeadlineExceeded: %v", f.Err)
	}
	if elapsed >= 2*timeout {
		t.Errorf("timed-out call took %s, want under %s", elapsed, 2*timeout)
	}

	if _, err := p.Call(ctx, HookInspect, []byte(`{}`)); err != nil {
		t.Fatalf("call after the timeout: %v", err)
	}
	s := p.Stats()
	if s.InstancesReplaced != 1 || s.InstancesCreated != 2 {
		t.Errorf("instances replaced %d created %d, want 1 and 2",
			s.InstancesReplaced, s.InstancesCreated)
	}
	if s.Failures[FailureTimeout] != 1 || s.LastFailure == nil ||
		s.LastFailure.Type != FailureTimeout {
		t.Errorf("stats failures %v last %v, want one timeout", s.Failures, s.LastFailure)
	}
}

func TestHookTimeoutOverridesDefault(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "loop", func(m *Manifest) {
		m.Timeout = Duration{10 * time.Second}
		m.HookTimeouts = map[string]Duration{HookPreStart: {50 * time.Millisecond}}
	}, HookPreStart)
	start := time.Now()
	_, err := p.Call(ctx, HookPreStart, []byte(`{}`))
	wantFailure(t, err, FailureTimeout, "exceeded 50ms")
	if elapsed := time.Since(start); elapsed >= time.Second {
		t.Errorf("call took %s: the pre-start timeout of 50ms was not used", elapsed)
	}
}

func TestCallerCancelIsNotATimeout(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "loop", func(m *Manifest) {
		m.Timeout = Duration{10 * time.Second}
	}, HookPreStart)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := p.Call(cctx, HookPreStart, []byte(`{}`))
	f := wantFailure(t, err, FailureError, "call cancelled")
	if !errors.Is(f, context.DeadlineExceeded) {
		t.Errorf("failure does not wrap the caller's context error: %v", f.Err)
	}
	if s := p.Stats(); s.Breaker != BreakerClosed {
		t.Errorf("breaker = %s, want closed", s.Breaker)
	}
}

func TestOutOfMemory(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "grow", func(m *Manifest) {
		m.MemoryLimitPages = 8
		m.MemoryHighWaterPages = 8
	}, HookPreStart, HookPostStop)

	_, err := p.Call(ctx, HookPreStart, []byte(`{}`))
	wantFailure(t, err, FailureOutOfMemory, "memoryLimitPages 8 (512 KiB)")
	if _, err := p.Call(ctx, HookPostStop, []byte(`{}`)); err != nil {
		t.Fatalf("call after out_of_memory: %v", err)
	}
	if s := p.Stats(); s.InstancesReplaced != 1 {
		t.Errorf("InstancesReplaced = %d, want 1", s.InstancesReplaced)
	}
}

func TestLoadRejectsMemoryMinimumOverLimit(t *testing.T) {
	r := newTestRuntime(t, Config{})
	wasm := fixture(t, "big_memory")
	_, err := r.Load(ctx, wasm, testManifest("big", wasm, HookPreStart))
	wantFailure(t, err, FailureOutOfMemory, "600 memory pages", "memoryLimitPages 512")
}

func TestHighWaterReplacesInstance(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "grow", func(m *Manifest) {
		m.MemoryLimitPages = 64
		m.MemoryHighWaterPages = 4
	}, HookInspect, HookPostStop)

	if _, err := p.Call(ctx, HookInspect, []byte(`{}`)); err != nil {
		t.Fatalf("inspect: %v", err)
	}
	if _, err := p.Call(ctx, HookPostStop, []byte(`{}`)); err != nil {
		t.Fatalf("post-stop: %v", err)
	}
	s := p.Stats()
	if s.InstancesReplaced != 1 || s.InstancesCreated != 2 {
		t.Errorf("instances replaced %d created %d, want 1 and 2 after growing past "+
			"the high-water mark", s.InstancesReplaced, s.InstancesCreated)
	}
}

func TestTrapReplacesInstance(t *testing.T) {
	var logs []string
	var mu sync.Mutex
	r := newTestRuntime(t, Config{OnLog: func(_ string, _ int, msg string) {
		mu.Lock()
		logs = append(logs, msg)
		mu.Unlock()
	}})
	p := loadFixture(t, r, "trap", nil, HookPreStart, HookPostStop, HookInspect)

	tests := []struct {
		name    string
		hook    string
		wantMsg string
	}{
		{"unreachable", HookPreStart, "unreachable"},
		{"out of bounds load", HookPostStop, "out of bounds memory access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Call(ctx, tt.hook, []byte(`{}`))
			f := wantFailure(t, err, FailureTrap, tt.wantMsg)
			if strings.Contains(f.Message, "\n") {
				t.Errorf("message %q has more than one line", f.Message)
			}
			if _, err := p.Call(ctx, HookInspect, []byte(`{}`)); err != nil {
				t.Fatalf("inspect after the trap: %v", err)
			}
		})
	}
	if s := p.Stats(); s.InstancesReplaced != 2 {
		t.Errorf("InstancesReplaced = %d, want 2", s.InstancesReplaced)
	}
}

func TestBadResultPointers(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "badptr", nil, HookPreStart, HookPostStop, HookInspect)
	tests := []struct {
		hook    string
		wantMsg string
	}{
		{HookPreStart, "pointer 4294901760 with length 16 is outside guest memory"},
		{HookPostStop, "pointer 65530 with length 100 is outside guest memory of 65536 bytes"},
		{HookInspect, "result is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.hook, func(t *testing.T) {
			_, err := p.Call(ctx, tt.hook, []byte(`{}`))
			wantFailure(t, err, FailureBadOutput, tt.wantMsg)
		})
	}
}

func TestBadBuffer(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "badbuffer", nil, HookPreStart)
	tests := []struct {
		name     string
		input    []byte
		wantType FailureType
		wantMsg  string
	}{
		{"pointer out of range", []byte(`{}`), FailureBadOutput, "returned pointer 4294967280"},
		{"cannot allocate", make([]byte, 200), FailureOutOfMemory,
			"podplug_buffer(200) returned 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Call(ctx, HookPreStart, tt.input)
			wantFailure(t, err, tt.wantType, tt.wantMsg)
		})
	}
}

func TestLoadABIMismatch(t *testing.T) {
	tests := []struct {
		fixture string
		wantMsg string
	}{
		{"abi_missing_version", "module does not export podplug_abi_version"},
		{"abi_wrong_version", "podplug_abi_version returned 2; this host implements version 1"},
		{"abi_missing_buffer", "module does not export podplug_buffer"},
		{"abi_missing_memory", `module does not export its memory as "memory"`},
		{"abi_hook_signature", "export podplug_pre_start has type (i32) -> (i32), " +
			"want (i32) -> (i64)"},
		{"abi_unknown_import", "module imports env.now"},
		{"abi_import_signature", "import podplug.log has type (i32, i32) -> (), " +
			"want (i32, i32, i32) -> ()"},
	}
	r := newTestRuntime(t, Config{})
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			wasm := fixture(t, tt.fixture)
			_, err := r.Load(ctx, wasm, testManifest("bad", wasm, HookPreStart))
			f := wantFailure(t, err, FailureABIMismatch, tt.wantMsg)
			if f.Hook != "load" {
				t.Errorf("failure hook = %q, want load", f.Hook)
			}
		})
	}
}

func TestLoadHookNotExported(t *testing.T) {
	r := newTestRuntime(t, Config{})
	wasm := fixture(t, "loop")
	_, err := r.Load(ctx, wasm, testManifest("loop", wasm, HookPreStart, HookPostStop))
	if !errors.Is(err, ErrHookNotExported) {
		t.Fatalf("Load error = %v, want ErrHookNotExported", err)
	}
	if !strings.Contains(err.Error(), "podplug_post_stop") {
		t.Errorf("error %q does not name the missing export", err)
	}
}

func TestLoadSHA256Mismatch(t *testing.T) {
	r := newTestRuntime(t, Config{})
	echo := fixture(t, "echo")
	m := testManifest("echo", echo, HookPreStart)
	// Bytes that would not compile: the pin must reject them first.
	garbage := []byte("not a wasm module")
	_, err := r.Load(ctx, garbage, m)
	if !errors.Is(err, ErrSHA256Mismatch) {
		t.Fatalf("Load error = %v, want ErrSHA256Mismatch", err)
	}
	if !strings.Contains(err.Error(), m.SHA256) {
		t.Errorf("error %q does not name the expected digest", err)
	}
	if !strings.Contains(err.Error(), "module is ") {
		t.Errorf("error %q does not name the actual digest", err)
	}
}

func TestLoadValidatesConfig(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		wantType FailureType
	}{
		{"accepted", `{"team":"blue"}`, ""},
		{"no config", ``, ""},
		{"denied", `{"mode":"reject"}`, FailureDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRuntime(t, Config{})
			wasm := fixture(t, "echo")
			m := testManifest("echo", wasm, HookPreStart)
			m.Config = []byte(tt.config)
			p, err := r.Load(ctx, wasm, m)
			if tt.wantType == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if err := p.ValidateConfig(ctx, []byte(`{"x":"reject"}`)); err == nil {
					t.Error("ValidateConfig of a rejected config returned nil")
				}
				return
			}
			f := wantFailure(t, err, tt.wantType, "validate-config", "config rejected")
			if f.Plugin != "echo" {
				t.Errorf("failure plugin = %q", f.Plugin)
			}
		})
	}
}

func TestExportedHooks(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "echo", nil, HookPreStart)
	got := strings.Join(p.ExportedHooks(), ",")
	if want := "pre-start,post-stop,inspect"; got != want {
		t.Errorf("ExportedHooks = %s, want %s", got, want)
	}
	if p.Manifest().Name != "echo" {
		t.Errorf("Manifest().Name = %q", p.Manifest().Name)
	}
}

func TestPerCallIsolation(t *testing.T) {
	tests := []struct {
		isolation string
		want      []string // the instance's inspect count in each result
	}{
		{"pooled", []string{"1", "2", "3"}},
		{"per-call", []string{"1", "1", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.isolation, func(t *testing.T) {
			r := newTestRuntime(t, Config{PoolSize: 1})
			p := loadFixture(t, r, "echo", func(m *Manifest) {
				m.Isolation = tt.isolation
			}, HookInspect)
			for i, want := range tt.want {
				out, err := p.Call(ctx, HookInspect, []byte(`{}`))
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if got := `{"status":"ok","data":` + want + `}`; string(out) != got {
					t.Errorf("call %d result = %s, want %s", i, out, got)
				}
			}
			if got := p.Stats().InstancesReplaced; got != 0 {
				t.Errorf("InstancesReplaced = %d, want 0", got)
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	r := newTestRuntime(t, Config{PoolSize: 2})
	p := loadFixture(t, r, "echo", nil, HookPreStart)
	const callers, calls = 8, 50

	var wg sync.WaitGroup
	errs := make(chan error, callers*calls)
	for c := range callers {
		wg.Go(func() {
			for i := range calls {
				input := fmt.Sprintf(`{"status":"ok","caller":%d,"call":%d}`, c, i)
				out, err := p.Call(ctx, HookPreStart, []byte(input))
				if err != nil {
					errs <- err
				} else if string(out) != input {
					errs <- fmt.Errorf("result %s, want %s", out, input)
				}
			}
		})
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		t.Error(err)
	}
	s := p.Stats()
	if s.InstancesCreated > 2 {
		t.Errorf("InstancesCreated = %d, want at most the pool size 2", s.InstancesCreated)
	}
	if s.Calls != callers*calls+1 { // Load's validate-config call counts
		t.Errorf("Calls = %d, want %d", s.Calls, callers*calls+1)
	}
}

func TestPoolWaitIsBoundedByCaller(t *testing.T) {
	r := newTestRuntime(t, Config{PoolSize: 1})
	p := loadFixture(t, r, "loop", func(m *Manifest) {
		m.Timeout = Duration{300 * time.Millisecond}
	}, HookPreStart, HookInspect)

	done := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, HookPreStart, []byte(`{}`)) // holds the only instance
		done <- err
	}()
	waitFor(t, "the looping call to take the instance", func() bool {
		return len(p.pool.idle) == 0
	})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := p.Call(cctx, HookInspect, []byte(`{}`))
	wantFailure(t, err, FailureError, "waiting for a free instance (pool size 1)")
	wantFailure(t, <-done, FailureTimeout)

	if _, err := p.Call(ctx, HookInspect, []byte(`{}`)); err != nil {
		t.Errorf("call after the pool freed up: %v", err)
	}
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCloseStopsRunningCall(t *testing.T) {
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "loop", func(m *Manifest) {
		m.Timeout = Duration{30 * time.Second}
	}, HookPreStart)

	done := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, HookPreStart, []byte(`{}`))
		done <- err
	}()
	waitFor(t, "the looping call to take the instance", func() bool {
		return len(p.pool.idle) == 0
	})
	start := time.Now()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Close took %s, want the running call stopped at once", elapsed)
	}
	if f := wantFailure(t, <-done, FailureError, "plugin closed"); !errors.Is(f, ErrClosed) {
		t.Errorf("failure does not wrap ErrClosed: %v", f)
	}
	_, err := p.Call(ctx, HookPreStart, []byte(`{}`))
	wantFailure(t, err, FailureError, "plugin closed")
	if err := p.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRuntimeCloseClosesPlugins(t *testing.T) {
	r, err := NewRuntime(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := loadFixture(t, r, "echo", nil, HookPreStart)
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = p.Call(ctx, HookPreStart, []byte(`{"status":"ok"}`))
	wantFailure(t, err, FailureError, "plugin closed")
	wasm := fixture(t, "echo")
	if _, err := r.Load(ctx, wasm, testManifest("echo", wasm, HookPreStart)); !errors.Is(err,
		ErrClosed) {
		t.Errorf("Load after Close = %v, want ErrClosed", err)
	}
}

func TestCacheDirSkipsCompile(t *testing.T) {
	dir := t.TempDir()
	wasm := fixture(t, "echo")
	load := func() {
		r, err := NewRuntime(ctx, Config{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close(ctx)
		if _, err := r.Load(ctx, wasm, testManifest("echo", wasm, HookPreStart)); err != nil {
			t.Fatalf("Load: %v", err)
		}
	}
	load()
	first := cacheFiles(t, dir)
	if len(first) == 0 {
		t.Fatalf("no compiled module in %s after Load", dir)
	}
	load()
	second := cacheFiles(t, dir)
	for path, mod := range first {
		if second[path] != mod {
			t.Errorf("%s was rewritten (mtime %v, then %v): the second Runtime compiled again",
				path, mod, second[path])
		}
	}
	if len(second) != len(first) {
		t.Errorf("cache has %d files, then %d", len(first), len(second))
	}
}

// cacheFiles returns the modification time of each file under dir.
func cacheFiles(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	files := map[string]time.Time{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files[path] = info.ModTime()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestLoadAppliesDefaultsToACopy(t *testing.T) {
	r := newTestRuntime(t, Config{})
	wasm := fixture(t, "echo")
	sum := testManifest("echo", wasm).SHA256
	m := &Manifest{Name: "echo", Version: "1", SHA256: strings.ToUpper(sum),
		Hooks: []string{HookPreStart}}
	p, err := r.Load(ctx, wasm, m)
	if err != nil {
		t.Fatalf("Load of a manifest without defaults: %v", err)
	}
	if got := p.Manifest(); got.Timeout.Duration != DefaultTimeout ||
		got.MemoryLimitPages != DefaultMemoryLimitPages || got.SHA256 != sum {
		t.Errorf("effective manifest %+v lacks the defaults", got)
	}
	if m.Timeout.Duration != 0 || m.SHA256 != strings.ToUpper(sum) {
		t.Errorf("Load changed the caller's manifest: %+v", m)
	}
}
