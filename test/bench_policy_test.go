package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchEngine is an engine with a daemon started for a benchmark.
type benchEngine struct {
	root    string
	runRoot string
}

// newBenchEngine starts a daemon with flags in a new directory, imports
// busybox as localhost/busybox, and tears everything down when b ends.
func newBenchEngine(b *testing.B, flags serveFlags) *benchEngine {
	b.Helper()
	base, err := os.MkdirTemp("/tmp", "ppb")
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEngine{root: filepath.Join(base, "root"), runRoot: filepath.Join(base, "run")}
	serve := launchServe(b, e.root, e.runRoot, flags)
	b.Cleanup(func() {
		if !serve.exited() {
			e.run(b, "pod", "rm", "--all", "--force", "--time", "0")
		}
		serve.stop()
		unmountUnder(base)
		_ = os.RemoveAll(base)
	})
	serve.waitReady(b)
	e.mustRun(b, "image", "import", busyboxTar, "localhost/busybox")
	return e
}

// run runs podplug as root and returns its exit code and standard error.
func (e *benchEngine) run(b *testing.B, args ...string) (int, string) {
	b.Helper()
	full := append([]string{"--root", e.root, "--run-root", e.runRoot}, args...)
	cmd := exec.Command(filepath.Join(binDir, "podplug"), full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return exitErr.ExitCode(), stderr.String()
	}
	if err != nil {
		b.Fatalf("run podplug %s: %v", strings.Join(args, " "), err)
	}
	return 0, stderr.String()
}

func (e *benchEngine) mustRun(b *testing.B, args ...string) {
	b.Helper()
	if code, stderr := e.run(b, args...); code != 0 {
		b.Fatalf("podplug %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
}

// BenchmarkPodStartPolicy measures `pod start` of a pod with infra and 3
// containers, run as root, on two daemons that run side by side: one
// without policies and one with the shipped policies, which decide
// pod.start once and container.start once per container. A start is one
// `pod start` command, from the fork of the CLI to its exit; the `pod stop
// -t 0` after each start is not timed.
//
// The sub-benchmarks policy=off and policy=on time one daemon each, and
// report the median as p50-ns besides ns/op. Because -count repeats each
// sub-benchmark back to back, load from other processes can fall on one of
// them alone. The sub-benchmark interleaved therefore starts the pod on
// both daemons in turn, in every op. It reports the median of each as
// off-p50-ns and on-p50-ns, and their ratio as on/off. Its ns/op covers
// both starts. Run it with a fixed number of starts:
//
//	go test -run '^$' -bench PodStartPolicy -benchtime 10x -count 3 ./test
func BenchmarkPodStartPolicy(b *testing.B) {
	if skipReason != "" {
		b.Skip(skipReason)
	}
	policyDir, err := filepath.Abs("../examples/policies")
	if err != nil {
		b.Fatal(err)
	}
	off := newStartBenchEngine(b, serveFlags{})
	on := newStartBenchEngine(b, serveFlags{PolicyDir: policyDir})

	b.Run("policy=off", func(b *testing.B) { benchmarkPodStart(b, off) })
	b.Run("policy=on", func(b *testing.B) { benchmarkPodStart(b, on) })
	b.Run("interleaved", func(b *testing.B) {
		var offSamples, onSamples []time.Duration
		for i := range b.N {
			// Alternate which daemon goes first, so neither always runs
			// right after the other's stop.
			if i%2 == 0 {
				offSamples = append(offSamples, off.timePodStart(b))
				onSamples = append(onSamples, on.timePodStart(b))
			} else {
				onSamples = append(onSamples, on.timePodStart(b))
				offSamples = append(offSamples, off.timePodStart(b))
			}
		}
		b.StopTimer()
		offP50, onP50 := median(offSamples), median(onSamples)
		b.ReportMetric(float64(offP50.Nanoseconds()), "off-p50-ns")
		b.ReportMetric(float64(onP50.Nanoseconds()), "on-p50-ns")
		b.ReportMetric(float64(onP50)/float64(offP50), "on/off")
	})
}

// newStartBenchEngine starts a daemon with flags and creates the pod bench
// with infra and the containers c1, c2 and c3, which sleep until stopped.
func newStartBenchEngine(b *testing.B, flags serveFlags) *benchEngine {
	b.Helper()
	e := newBenchEngine(b, flags)
	e.mustRun(b, "pod", "create", "--name", "bench", "--network", "none")
	for _, name := range []string{"c1", "c2", "c3"} {
		e.mustRun(b, "create", "--pod", "bench", "--name", name, "localhost/busybox", "sleep", "1000")
	}
	return e
}

func benchmarkPodStart(b *testing.B, e *benchEngine) {
	samples := make([]time.Duration, 0, b.N)
	for range b.N {
		samples = append(samples, e.timePodStart(b))
	}
	b.StopTimer()
	b.ReportMetric(float64(median(samples).Nanoseconds()), "p50-ns")
}

// timePodStart starts the pod bench and returns how long `pod start` took,
// then stops the pod with the benchmark timer stopped.
func (e *benchEngine) timePodStart(b *testing.B) time.Duration {
	b.Helper()
	start := time.Now()
	e.mustRun(b, "pod", "start", "bench")
	took := time.Since(start)

	b.StopTimer()
	e.mustRun(b, "pod", "stop", "-t", "0", "bench")
	b.StartTimer()
	return took
}

func median(samples []time.Duration) time.Duration {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}
