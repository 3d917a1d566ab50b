package plugins

import (
	"testing"
	"time"
)

// wasiProbe runs fn on a fresh instance of the wasi fixture with grants.
func wasiProbe(t *testing.T, grants []string, fn func(inst *instance)) {
	t.Helper()
	r := newTestRuntime(t, Config{})
	p := loadFixture(t, r, "wasi", func(m *Manifest) {
		m.Grants = grants
		m.Isolation = "per-call"
	}, HookInspect)
	withInstance(t, p, func(inst *instance) bool {
		fn(inst)
		return true
	})
}

func callI64(t *testing.T, inst *instance, name string, args ...uint64) uint64 {
	t.Helper()
	res, err := inst.module.ExportedFunction(name).Call(ctx, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res[0]
}

func TestSandboxHasNoFileSystem(t *testing.T) {
	const errnoBadf = 8 // WASI errno for a file descriptor that is not open
	wasiProbe(t, nil, func(inst *instance) {
		if got, err := callExport(inst, "t_prestat"); err != nil || got != errnoBadf {
			t.Errorf("fd_prestat_get(3) = %d, %v, want EBADF (%d): nothing is preopened",
				got, err, errnoBadf)
		}
		if got, err := callExport(inst, "t_open"); err != nil || got == 0 {
			t.Errorf("path_open(3, etc/passwd) = %d, %v, want an errno", got, err)
		}
	})
}

func TestSandboxClock(t *testing.T) {
	// wazero's fake clock: 2022-01-01T00:00:00Z, 1 ms more per reading.
	fakeEpoch := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	const realtime, monotonic = 0, 1
	t.Run("fixed without grant", func(t *testing.T) {
		wasiProbe(t, nil, func(inst *instance) {
			first := time.Unix(0, int64(callI64(t, inst, "t_clock", realtime)))
			second := time.Unix(0, int64(callI64(t, inst, "t_clock", realtime)))
			if first.Before(fakeEpoch) || first.After(fakeEpoch.Add(time.Second)) {
				t.Errorf("realtime = %s, want the fake clock near %s", first.UTC(), fakeEpoch)
			}
			if d := second.Sub(first); d != time.Millisecond {
				t.Errorf("realtime advanced %s between readings, want 1ms", d)
			}
			if mono := callI64(t, inst, "t_clock", monotonic); mono > uint64(time.Second) {
				t.Errorf("monotonic = %d ns, want the fake clock near 0", mono)
			}
		})
	})
	t.Run("real with grant", func(t *testing.T) {
		wasiProbe(t, []string{"clock"}, func(inst *instance) {
			got := time.Unix(0, int64(callI64(t, inst, "t_clock", realtime)))
			if d := time.Since(got); d < -time.Minute || d > time.Minute {
				t.Errorf("realtime = %s, want close to now", got.UTC())
			}
		})
	})
}

func TestSandboxRandom(t *testing.T) {
	draw := func(grants []string) uint64 {
		var v uint64
		wasiProbe(t, grants, func(inst *instance) { v = callI64(t, inst, "t_random") })
		return v
	}
	if a, b := draw(nil), draw(nil); a != b {
		t.Errorf("random without grant: %x then %x, want the same fixed-seed bytes", a, b)
	}
	if a, b := draw([]string{"random"}), draw([]string{"random"}); a == b {
		t.Errorf("random with grant: %x twice, want real random bytes", a)
	}
}
