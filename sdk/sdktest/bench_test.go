package sdktest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/podplug/podplug/plugins"
)

// BenchmarkStampPreStart measures a warm pre-start call of the stamp
// example through Plugin.Call: a pooled instance, a 3-container pod
// payload, the result checked by the host. Besides ns/op it reports the
// median and 99th percentile of the single calls.
func BenchmarkStampPreStart(b *testing.B) {
	wasm, m := examplePlugin(b, "stamp")
	p := newHarness(b, nil).load(b, wasm, m)
	input := preStart(b, m, testContainer("httpd", "localhost/busybox"))
	ctx := context.Background()
	if _, err := p.Call(ctx, plugins.HookPreStart, input); err != nil {
		b.Fatal(err) // also warms the instance
	}

	durations := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if _, err := p.Call(ctx, plugins.HookPreStart, input); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()

	slices.Sort(durations)
	percentile := func(q float64) float64 {
		return float64(durations[int(q*float64(len(durations)-1))].Nanoseconds())
	}
	b.ReportMetric(percentile(0.50), "p50-ns")
	b.ReportMetric(percentile(0.99), "p99-ns")
	b.ReportMetric(float64(len(input)), "input-bytes")
}
