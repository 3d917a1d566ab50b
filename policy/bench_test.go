package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
)

// processCPU returns the user and system CPU time the test process has used,
// GC workers included.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatal(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// reportLatency adds p50 and p99 of the recorded durations to the benchmark
// result, in nanoseconds, and the process CPU time per op since cpuStart.
// Wall-clock percentiles grow when other processes compete for the CPUs;
// cpu-ns/op much less so, which makes it the better figure on a busy host.
func reportLatency(b *testing.B, samples []time.Duration, cpuStart time.Duration) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	b.ReportMetric(float64((processCPU(b)-cpuStart).Nanoseconds())/float64(len(samples)), "cpu-ns/op")
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkDecide decides with every shipped policy loaded. The pod.create
// of a 5-container pod that every policy allows is the most expensive case:
// each deny rule walks every container and nothing stops early.
func BenchmarkDecide(b *testing.B) {
	cases := []struct {
		name  string
		input Input
	}{
		{name: "create-5-containers", input: createInput(5, nil)},
		{name: "create-5-containers-denied", input: createInput(5, func(in *Input) {
			for i := range in.Spec.Containers {
				in.Spec.Containers[i].Privileged = true
			}
		})},
		{name: "start-own-pod", input: Input{Operation: OpPodStart, Subject: alice(),
			Target: pod("web", "blue")}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e := loadEngine(b, Options{Dir: shippedDir})
			ctx := context.Background()
			samples := make([]time.Duration, 0, b.N)

			b.ReportAllocs()
			cpuStart := processCPU(b)
			for b.Loop() {
				start := time.Now()
				e.Decide(ctx, c.input)
				samples = append(samples, time.Since(start))
			}
			reportLatency(b, samples, cpuStart)
		})
	}
}

// BenchmarkDecideJSONInput evaluates the same query as Decide, but hands OPA
// the Input struct, which it converts through a JSON round trip. It measures
// what building the AST value by hand saves.
func BenchmarkDecideJSONInput(b *testing.B) {
	e := loadEngine(b, Options{Dir: shippedDir})
	set := e.current.Load()
	input := createInput(5, nil)
	ctx := context.Background()

	b.ReportAllocs()
	for b.Loop() {
		if _, err := set.decision.Eval(ctx, rego.EvalInput(input)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideWithLog adds a decision log line per decision, with and
// without the input.
func BenchmarkDecideWithLog(b *testing.B) {
	for _, logInput := range []bool{false, true} {
		b.Run(fmt.Sprintf("input=%v", logInput), func(b *testing.B) {
			e := loadEngine(b, Options{Dir: shippedDir, DecisionLog: discard{}, LogInput: logInput})
			input := createInput(5, nil)
			ctx := context.Background()

			b.ReportAllocs()
			for b.Loop() {
				e.Decide(ctx, input)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkVisible500 filters a listing of 500 pods, half of them another
// tenant's, with every shipped policy loaded. One op is the whole listing.
func BenchmarkVisible500(b *testing.B) {
	e := loadEngine(b, Options{Dir: shippedDir})
	targets := make([]Target, 500)
	for i := range targets {
		tenant := "blue"
		if i%2 == 1 {
			tenant = "red"
		}
		targets[i] = *pod(fmt.Sprintf("pod-%03d", i), tenant)
		targets[i].Labels = map[string]string{"app": "web", "tier": "front"}
	}
	input := Input{Operation: OpPodList, Subject: alice()}
	ctx := context.Background()
	samples := make([]time.Duration, 0, b.N)

	b.ReportAllocs()
	cpuStart := processCPU(b)
	for b.Loop() {
		start := time.Now()
		visible, err := e.Visible(ctx, input, targets)
		samples = append(samples, time.Since(start))
		if err != nil || !visible[0] || visible[1] {
			b.Fatalf("visible[0:2] = %v, err %v", visible[:2], err)
		}
	}
	reportLatency(b, samples, cpuStart)
	if len(samples) > 0 {
		b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds())/500, "p50-ns/item")
	}
}

// BenchmarkDecidePerPolicy loads base.rego alone and then with one shipped
// policy at a time, to show what each policy adds to a 5-container
// pod.create.
func BenchmarkDecidePerPolicy(b *testing.B) {
	sets := [][]string{
		{},
		{"tenant_isolation.rego"},
		{"no_privileged.rego"},
		{"quotas.rego"},
		{"image_allowlist.rego"},
		{"tenant_isolation.rego", "no_privileged.rego", "quotas.rego", "image_allowlist.rego"},
	}
	input := createInput(5, nil)
	for _, set := range sets {
		name := "base"
		for _, file := range set {
			name += "+" + strings.TrimSuffix(file, ".rego")
		}
		b.Run(name, func(b *testing.B) {
			dir := copyFiles(b, shippedDir, append([]string{"base.rego", "data.yaml"}, set...)...)
			e := loadEngine(b, Options{Dir: dir})
			ctx := context.Background()
			samples := make([]time.Duration, 0, b.N)

			cpuStart := processCPU(b)
			for b.Loop() {
				start := time.Now()
				e.Decide(ctx, input)
				samples = append(samples, time.Since(start))
			}
			reportLatency(b, samples, cpuStart)
		})
	}
}
