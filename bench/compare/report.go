package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// machineInfo describes the host the benchmark ran on.
type machineInfo struct {
	cpus      int
	cpuModel  string
	memory    string
	kernel    string
	os        string
	cgroups   string
	loadStart string // /proc/loadavg when the scenarios started
	loadEnd   string // /proc/loadavg when they finished
}

func describeMachine() *machineInfo {
	return &machineInfo{
		cpus:      runtime.NumCPU(),
		cpuModel:  procField("/proc/cpuinfo", "model name"),
		memory:    formatMemory(procField("/proc/meminfo", "MemTotal")),
		kernel:    readTrimmed("/proc/sys/kernel/osrelease"),
		os:        strings.Trim(procField("/etc/os-release", "PRETTY_NAME"), `"`),
		cgroups:   cgroupMode(),
		loadStart: readTrimmed("/proc/loadavg"),
	}
}

func (m *machineInfo) finish() { m.loadEnd = readTrimmed("/proc/loadavg") }

// procField returns the value of the first "key: value" or "key=value" line
// of a file such as /proc/cpuinfo, or "unknown".
func procField(path, key string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			k, v, ok = strings.Cut(line, "=")
		}
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// formatMemory turns /proc/meminfo's "24683792 kB" into "23.5 GiB".
func formatMemory(meminfo string) string {
	var kib float64
	if _, err := fmt.Sscanf(meminfo, "%f kB", &kib); err != nil {
		return meminfo
	}
	return fmt.Sprintf("%.1f GiB", kib/(1<<20))
}

func readTrimmed(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// cgroupMode returns the cgroup layout: v2 (unified), v1 hybrid or v1 legacy.
func cgroupMode() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "v2 (unified)"
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.procs"); err == nil {
		return "v1 (hybrid)"
	}
	return "v1 (legacy)"
}

// versions returns name/version pairs of everything that was measured.
func (l *lab) versions(ctx context.Context) [][2]string {
	out := [][2]string{
		{"podplug", firstLine(runOutput(ctx, l.podplug.argv[0], "--version")) +
			", git " + firstLine(runOutput(ctx, "git", "describe", "--always", "--dirty", "--tags"))},
		{"podplug built with", binaryGoVersion(l.podplug.argv[0])},
		{"podman", firstLine(runOutput(ctx, l.cfg.podman, "--version"))},
	}
	podmanInfo, _ := l.podman.run(ctx, "version", "--format", "{{.Client.GoVersion}}")
	out = append(out, [2]string{"podman built with", firstLine(podmanInfo)})
	runtimes, _ := l.podman.run(ctx, "info", "--format",
		"{{.Host.OCIRuntime.Path}}|{{.Host.Conmon.Path}}")
	runcPath, conmonPath, _ := strings.Cut(strings.TrimSpace(runtimes), "|")
	out = append(out,
		[2]string{"runc", firstLine(runOutput(ctx, "runc", "--version")) +
			" (podplug: first runc on PATH; podman: " + runcPath + ")"},
		[2]string{"conmon", firstLine(runOutput(ctx, "conmon", "--version")) +
			" (podplug: first conmon on PATH; podman: " + conmonPath + ")"},
		[2]string{"this program built with", runtime.Version()})
	return out
}

func runOutput(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return string(out)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func binaryGoVersion(path string) string {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return info.GoVersion
}

// report is the Markdown page with every figure and the facts needed to
// reproduce them.
type report struct {
	cfg     *config
	lab     *lab
	machine *machineInfo
	results []*result
	scale   *scaleResult // nil when the scale scenario did not run
	started time.Time
	elapsed time.Duration
}

func (r *report) write(path string) error {
	var b bytes.Buffer
	r.writeIntro(&b)
	r.writeResults(&b)
	r.writeScale(&b)
	r.writeMethod(&b)
	r.writeMachine(&b)
	r.writePodman(&b)
	r.writeFailures(&b)
	r.writeSamples(&b)
	r.writeProfiles(&b)
	if err := r.writeGoBench(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func (r *report) writeIntro(w io.Writer) {
	fmt.Fprintf(w, "# Benchmarks: podplug and podman side by side\n\n")
	fmt.Fprintf(w, "Written by `go run ./bench/compare %s` (run by `make bench`) "+
		"on %s; the scenarios took %s.\n\n",
		strings.Join(r.cfg.args, " "), r.started.UTC().Format("2006-01-02 15:04 MST"),
		r.elapsed.Round(time.Second))
	fmt.Fprintf(w, "Both engines run the same pods and containers through the same CLI "+
		"commands. Each scenario runs %d times per engine, alternating podplug and podman "+
		"run by run, so that load from other processes falls on both. A time is the wall "+
		"time of the timed command alone, from the fork of the CLI to its exit; the set-up "+
		"of a run, the state check after it and the removal of its pod are not timed. "+
		"Figures are in seconds. The ratio is podplug's median over podman's, and a target "+
		"is met when the ratio is below it.", r.cfg.runs)
	if r.scale != nil {
		fmt.Fprintf(w, " The scale scenario runs once, on podplug alone.")
	}
	fmt.Fprintf(w, "\n\n")
}

func (r *report) writeResults(w io.Writer) {
	fmt.Fprintf(w, "## Results\n\n")
	fmt.Fprintf(w, "| Scenario | Timed command | podplug: median (min-max) | "+
		"podman: median (min-max) | podplug/podman | Target | |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|\n")
	for _, res := range r.results {
		pp := summarize(res.samples["podplug"])
		pm := summarize(res.samples["podman"])
		ratio, mark := judge(pp, pm, res.step.target).text()
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | < %.2f | %s |\n",
			res.scenario.title, res.step.label, formatSummary(pp), formatSummary(pm),
			ratio, res.step.target, mark)
	}
	fmt.Fprintln(w)
	r.writeMisses(w)
	r.writeStopDefault(w)
}

// missReasons explain targets podplug is known to miss, from profiles of
// the daemon (podplug serve --cpu-profile) and per-step timings.
var missReasons = map[string]string{
	"start1": "Starting infra + 1 container is two runc creates in sequence, because " +
		"the container joins the namespaces the infra container's process holds: " +
		"conmon plus `runc create` takes about 25-50 ms each and `runc start` about 8 ms " +
		"on this machine, and the daemon's own CPU time per pod start is under 10 ms " +
		"(CPU profile: forking runc, JSON decoding of records, Badger writes). Timed by " +
		"hand on a quiet machine, an infra-only `pod start` takes about 45 ms and each " +
		"container about 30 ms more, the CLI's start included. What is left to gain is " +
		"overlapping the container's create with the infra container's `runc start`, " +
		"about 10 ms.",
}

// writeMisses writes by how much each missed target is missed and why.
func (r *report) writeMisses(w io.Writer) {
	var lines []string
	for _, res := range r.results {
		pp, pm := summarize(res.samples["podplug"]), summarize(res.samples["podman"])
		ratio, mark := judge(pp, pm, res.step.target).text()
		if mark != "not met" {
			continue
		}
		reason, ok := missReasons[res.scenario.key]
		if !ok {
			reason = "No profile explains this miss yet; rerun on a quiet machine to rule out load."
		}
		lines = append(lines, fmt.Sprintf("- **%s** (`%s`): ratio %s against a target below %.2f. %s",
			res.scenario.title, res.step.label, ratio, res.step.target, reason))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "### Targets not met\n\n%s\n\n", strings.Join(lines, "\n"))
}

// writeStopDefault states the stop-timeout scenario in seconds: both
// engines must wait for the 2 s timeout, so the absolute times show how
// close each comes to that floor.
func (r *report) writeStopDefault(w io.Writer) {
	for _, res := range r.results {
		if res.scenario.key != "stopdefault20" {
			continue
		}
		pp := summarize(res.samples["podplug"])
		pm := summarize(res.samples["podman"])
		if pp.ok == 0 || pm.ok == 0 {
			return
		}
		fmt.Fprintf(w, "Stop with the containers' own 2 s timeout, 20 containers that ignore "+
			"SIGTERM: podplug takes %.2f s and podman %.2f s (medians). Neither engine can "+
			"finish in less than 2 s, so the ratio shows how much each adds to that floor "+
			"and whether it waits for all containers at once.\n\n", pp.median.Seconds(), pm.median.Seconds())
	}
}

func formatSummary(s summary) string {
	if s.ok == 0 {
		return fmt.Sprintf("all %d runs failed", s.failed)
	}
	text := fmt.Sprintf("%.3f (%.3f-%.3f)", s.median.Seconds(), s.min.Seconds(), s.max.Seconds())
	if s.failed > 0 {
		text += fmt.Sprintf(", %d of %d runs failed", s.failed, s.failed+s.ok)
	}
	return text
}

func (r *report) writeMethod(w io.Writer) {
	fmt.Fprintf(w, "## What runs\n\n")
	fmt.Fprintf(w, "In the commands below, `podplug` and `podman` stand for:\n\n```\n")
	fmt.Fprintf(w, "podplug = %s\n", strings.Join(r.lab.podplug.argv, " "))
	fmt.Fprintf(w, "podman  = %s %s\n```\n\n", strings.Join(r.lab.podman.env, " "),
		strings.Join(r.lab.podman.argv, " "))
	fmt.Fprintf(w, "`$POD` is a fresh pod per run and engine, removed afterwards with "+
		"`pod rm --force --time 0 $POD`. Every container runs `%s` in the image `%s`, "+
		"which both engines imported from the same tarball that scripts/busybox-rootfs.sh "+
		"writes (Debian's static busybox). Both engines create pods with `--network none`, "+
		"so neither pays for bridge set-up (podplug's default is bridge when the CNI "+
		"plugins are installed, podman's is its own bridge network through netavark). After "+
		"each timed command an untimed `pod inspect` checks "+
		"that every container, infra included, is in the expected state; a run that fails "+
		"the check counts as failed. The podplug daemon, started with `podplug serve` "+
		"before each scenario and stopped after it, serves every podplug command; podman "+
		"has no daemon.\n\n",
		strings.Join(busyboxSleep[1:], " "), benchImage)

	seen := map[string]bool{}
	for _, res := range r.results {
		sc := res.scenario
		if seen[sc.key] {
			continue
		}
		seen[sc.key] = true
		fmt.Fprintf(w, "**%s** (`%s`)\n\n```\n", sc.title, sc.key)
		for _, line := range setUpLines(sc) {
			fmt.Fprintf(w, "%s\n", line)
		}
		for _, st := range sc.steps {
			fmt.Fprintf(w, "timed:   ENGINE %s", strings.Join(st.args("$POD"), " "))
			if st.want != "" {
				fmt.Fprintf(w, "   (then every container must be %s)", st.want)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "```\n\n")
		if sc.note != "" {
			fmt.Fprintf(w, "%s\n\n", sc.note)
		}
	}
}

// setUpLines describes a scenario's untimed set-up as the commands it runs.
func setUpLines(sc *scenario) []string {
	if sc.createsPod {
		return []string{"set-up:  none"}
	}
	pod := "$POD"
	prefix := "set-up:  "
	if sc.shared > 0 {
		prefix = fmt.Sprintf("set-up, once per engine, for each of %d pods $POD: ", sc.shared)
	}
	lines := []string{prefix + "ENGINE " + strings.Join(podCreateArgs(pod), " ")}
	if sc.pod.containers > 0 {
		lines = append(lines, fmt.Sprintf("         %d times: ENGINE %s", sc.pod.containers,
			strings.Join(containerCreateArgs(pod, 1, sc.pod.stopTimeout), " ")))
		lines = append(lines, "         (containers named $POD-c1, $POD-c2, ...)")
	}
	if sc.pod.start {
		lines = append(lines, "         ENGINE pod start "+pod)
	}
	return lines
}

func (r *report) writeMachine(w io.Writer) {
	m := r.machine
	fmt.Fprintf(w, "## Machine and versions\n\n| | |\n|---|---|\n")
	rows := [][2]string{
		{"CPUs (nproc)", fmt.Sprintf("%d, %s", m.cpus, m.cpuModel)},
		{"memory", m.memory},
		{"kernel", m.kernel},
		{"OS", m.os},
		{"cgroups", m.cgroups},
		{"load average at start", m.loadStart},
		{"load average at end", m.loadEnd},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows = append(rows, r.lab.versions(ctx)...)
	for _, row := range rows {
		fmt.Fprintf(w, "| %s | %s |\n", row[0], strings.ReplaceAll(row[1], "|", "/"))
	}
	fmt.Fprintf(w, "\nThe machine may have been running other work at the same time; the "+
		"load averages above show how much.\n\n")
}

func (r *report) writePodman(w io.Writer) {
	l := r.lab
	fmt.Fprintf(w, "## podman's set-up\n\n")
	fmt.Fprintf(w, "Storage driver: %s. Infra image: %s, podman's own default, which podman "+
		"builds offline from the host's catatonit at the first pod create (the warm-up pod "+
		"before the timed runs), so podman's infra process is catatonit and podplug's is "+
		"podplug-pause; both exit on SIGTERM.\n\n", l.podmanDriver, l.podmanInfra)
	for _, note := range l.notes {
		fmt.Fprintf(w, "%s\n\n", note)
	}
	fmt.Fprintf(w, "containers.conf (crun fails on this host's hybrid cgroups, and the "+
		"host rejects podman's default nofile and nproc limits):\n\n```toml\n%s```\n\n",
		l.podmanConf)
}

func (r *report) writeFailures(w io.Writer) {
	var lines []string
	for _, res := range r.results {
		for _, name := range []string{"podplug", "podman"} {
			for _, s := range res.samples[name] {
				if s.err != nil {
					lines = append(lines, fmt.Sprintf("- %s, `%s`, %s, run %d: %s",
						res.scenario.key, res.step.label, name, s.run+1, oneLine(s.err.Error())))
				}
			}
		}
	}
	if r.scale != nil && r.scale.err != nil {
		lines = append(lines, fmt.Sprintf("- %s, podplug: %s", scaleName, oneLine(r.scale.err.Error())))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "## Failed runs\n\n%s\n\n", strings.Join(lines, "\n"))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (r *report) writeSamples(w io.Writer) {
	fmt.Fprintf(w, "## Every run\n\nSeconds, in run order; `x` marks a failed run.\n\n")
	fmt.Fprintf(w, "| Scenario | Command | podplug | podman |\n|---|---|---|---|\n")
	for _, res := range r.results {
		fmt.Fprintf(w, "| %s | `%s` | %s | %s |\n", res.scenario.key, res.step.label,
			formatSamples(res.samples["podplug"]), formatSamples(res.samples["podman"]))
	}
	fmt.Fprintln(w)
}

func formatSamples(samples []sample) string {
	var parts []string
	for _, s := range samples {
		if s.err != nil {
			parts = append(parts, "x")
			continue
		}
		parts = append(parts, fmt.Sprintf("%.3f", s.elapsed.Seconds()))
	}
	return strings.Join(parts, " ")
}

func (r *report) writeProfiles(w io.Writer) {
	if len(r.lab.profiles) == 0 {
		return
	}
	fmt.Fprintf(w, "## CPU profiles of the podplug daemon\n\nOne per scenario, covering "+
		"its set-up and removals as well as the timed commands; read with "+
		"`go tool pprof -top %s PROFILE`.\n\n", r.lab.podplug.argv[0])
	for _, p := range r.lab.profiles {
		fmt.Fprintf(w, "- %s\n", p)
	}
	fmt.Fprintln(w)
}

func (r *report) writeGoBench(w io.Writer) error {
	if r.cfg.goBench == "" {
		return nil
	}
	data, err := os.ReadFile(r.cfg.goBench)
	if err != nil {
		return fmt.Errorf("read Go benchmark output: %w", err)
	}
	fmt.Fprintf(w, "## Go micro-benchmarks\n\n`go test -run '^$' -bench . -benchmem ./...`, "+
		"from %s:\n\n```\n%s```\n", filepath.Base(r.cfg.goBench), data)
	return nil
}

// printSummary writes the results table in plain text, for the terminal.
func printSummary(w io.Writer, results []*result, scale *scaleResult) {
	fmt.Fprintf(w, "\n%-14s %-14s %9s %9s %7s %7s\n", "scenario", "command", "podplug", "podman",
		"ratio", "target")
	for _, res := range results {
		pp := summarize(res.samples["podplug"])
		pm := summarize(res.samples["podman"])
		ratio, mark := judge(pp, pm, res.step.target).text()
		fmt.Fprintf(w, "%-14s %-14s %9.3f %9.3f %7s %7.2f %s\n", res.scenario.key, res.step.label,
			pp.median.Seconds(), pm.median.Seconds(), ratio, res.step.target, mark)
	}
	printScaleSummary(w, scale)
}
