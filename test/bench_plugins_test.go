package test

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkPodStartPlugins measures `pod start` of a pod with infra and 3
// containers on two daemons side by side: one without plugins and one with
// the three Go-built example plugins installed (stamp and imagegate run at
// each container's pre-start, exitaudit at post-stop and inspect). In every
// op both daemons start their pod in turn, alternating which goes first.
// It reports each median and their ratio as with/without:
//
//	go test -run '^$' -bench PodStartPlugins -benchtime 10x ./test
func BenchmarkPodStartPlugins(b *testing.B) {
	if skipReason != "" {
		b.Skip(skipReason)
	}
	without := newStartBenchEngine(b, serveFlags{})
	with := newStartBenchEngine(b, serveFlags{})
	dir := examplePlugins(b)
	for _, name := range []string{"stamp", "imagegate", "exitaudit"} {
		with.mustRun(b, "plugin", "install", filepath.Join(dir, name+".wasm"),
			"--manifest", filepath.Join(dir, name+".yaml"))
	}
	// Warm both: the first start loads plugin instances and page caches.
	with.timePodStart(b)
	without.timePodStart(b)

	b.ResetTimer()
	var withoutSamples, withSamples []time.Duration
	for i := range b.N {
		if i%2 == 0 {
			withoutSamples = append(withoutSamples, without.timePodStart(b))
			withSamples = append(withSamples, with.timePodStart(b))
		} else {
			withSamples = append(withSamples, with.timePodStart(b))
			withoutSamples = append(withoutSamples, without.timePodStart(b))
		}
	}
	b.StopTimer()
	p50Without, p50With := median(withoutSamples), median(withSamples)
	b.ReportMetric(float64(p50Without.Nanoseconds()), "without-p50-ns")
	b.ReportMetric(float64(p50With.Nanoseconds()), "with-p50-ns")
	b.ReportMetric(float64(p50With)/float64(p50Without), "with/without")
}
