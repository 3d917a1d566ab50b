package plugins

import (
	"context"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

// BenchmarkPreStartCall measures a warm pre-start call with a three-container
// pod payload, deadline enforcement on, and reports the p50 and p99 latency.
func BenchmarkPreStartCall(b *testing.B) {
	b.Run("wat", func(b *testing.B) {
		r := newTestRuntime(b, Config{})
		p := loadFixture(b, r, "stampwat", func(m *Manifest) {
			m.AllowedChanges = []string{"env", "labels"}
		}, HookPreStart)
		benchmarkCalls(b, p, payloadFor("stampwat"))
	})
	b.Run("go-stamp", func(b *testing.B) {
		r := newTestRuntime(b, goCacheConfig(b))
		p := loadStamp(b, r)
		benchmarkCalls(b, p, payloadFor("stamp"))
	})
	b.Run("go-encoding-json", func(b *testing.B) {
		r := newTestRuntime(b, goCacheConfig(b))
		wasm := buildGoPlugin(b, "testdata/goguest")
		m := testManifest("goguest", wasm, HookPreStart)
		m.AllowedChanges = []string{"env", "labels"}
		p, err := r.Load(ctx, wasm, m)
		if err != nil {
			b.Fatal(err)
		}
		benchmarkCalls(b, p, payloadFor("goguest"))
	})
}

func benchmarkCalls(b *testing.B, p *Plugin, input []byte) {
	if _, err := p.Call(ctx, HookPreStart, input); err != nil { // warm the pool
		b.Fatal(err)
	}
	latencies := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := p.Call(ctx, HookPreStart, input); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, latencies)
}

func reportPercentiles(b *testing.B, latencies []time.Duration) {
	slices.Sort(latencies)
	at := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Nanoseconds())
	}
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
}

// BenchmarkParallelCalls measures pre-start calls per second with 8
// concurrent callers on the default pool of 4 instances.
func BenchmarkParallelCalls(b *testing.B) {
	r := newTestRuntime(b, Config{})
	p := loadFixture(b, r, "stampwat", func(m *Manifest) {
		m.AllowedChanges = []string{"env", "labels"}
		// Generous, so that a loaded machine does not fail the benchmark.
		m.Timeout = Duration{10 * time.Second}
	}, HookPreStart)
	input := payloadFor("stampwat")
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Call(ctx, HookPreStart, input); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkLoad measures Load of the Go-built stamp plugin on a new Runtime.
// The cold case compiles into an empty cache directory. The cached case
// reads the compiled code that an earlier Runtime wrote to the same directory.
func BenchmarkLoad(b *testing.B) {
	wasm := buildGoPlugin(b, "../examples/plugins/stamp")
	m := testManifest("stamp", wasm, HookPreStart)
	load := func(b *testing.B, dir string) {
		r, err := NewRuntime(ctx, Config{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close(context.Background())
		if _, err := r.Load(ctx, wasm, m); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			dir, err := os.MkdirTemp("", "podplug-cache")
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			load(b, dir)
			b.StopTimer()
			_ = os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		load(b, dir)
		b.ResetTimer()
		for range b.N {
			load(b, dir)
		}
	})
}

// BenchmarkPerCallIsolation measures a per-call isolated call, which creates
// and closes an instance each time.
func BenchmarkPerCallIsolation(b *testing.B) {
	r := newTestRuntime(b, Config{})
	p := loadFixture(b, r, "stampwat", func(m *Manifest) {
		m.AllowedChanges = []string{"env", "labels"}
		m.Isolation = "per-call"
	}, HookPreStart)
	benchmarkCalls(b, p, payloadFor("stampwat"))
}
