package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// podSpec is the pod a scenario's set-up builds before the timed command.
type podSpec struct {
	containers  int  // ordinary containers besides infra, each running `sleep 1000000`
	stopTimeout uint // --stop-timeout of each container in seconds; 0 keeps the default of 10
	start       bool // start the pod during set-up
}

// step is one timed command of a scenario.
type step struct {
	label  string
	args   func(pod string) []string
	want   string  // state every container must be in afterwards; empty: no check
	target float64 // ratio of medians, podplug/podman, that podplug should stay under
}

// scenario is one benchmark: a pod set-up, then timed steps on the pod.
type scenario struct {
	name  string // selects the scenario with -scenarios
	key   string // unique among scenarios; names pods and profiles
	title string
	pod   podSpec
	// createsPod means the timed command creates the pod itself, so a run
	// has no set-up, only the removal of the pod afterwards.
	createsPod bool
	// shared > 0 means the set-up builds that many pods once per engine and
	// every run reuses them, which suits commands that change nothing.
	shared int
	steps  []step
	note   string // a difference between the engines that the figures hide
}

// busyboxSleep is the command of every container. busybox sleep installs
// no signal handler, and as PID 1 of its PID namespace the kernel does not
// apply SIGTERM's default action to it, so a stop with a timeout must wait
// for the timeout and kill it.
var busyboxSleep = []string{benchImage, "sleep", "1000000"}

func podArgs(args ...string) func(string) []string {
	return func(pod string) []string {
		return append(append([]string{}, args...), pod)
	}
}

// scenarioList returns every scenario in the order they run, with one pod
// ps scenario per count in psPods.
func scenarioList(psPods []int) []*scenario {
	started := func(n int) podSpec { return podSpec{containers: n, start: true} }
	list := []*scenario{
		{name: "create", title: "pod create (with infra)", createsPod: true,
			steps: []step{{label: "pod create", target: 0.5, want: "created",
				args: func(pod string) []string { return podCreateArgs(pod) }}},
			note: "podman 4.3.1 also creates the infra container's layer in its storage at " +
				"pod create; podplug stores the pod and infra records only and prepares the " +
				"infra container's root file system at pod start, so that work counts in " +
				"podplug's start times instead."},
		startScenario(5),
		stopScenario(5),
		startScenario(1),
		startScenario(20),
		stopScenario(20),
		{name: "stopdefault20", title: "pod stop with each container's stop timeout (2 s), " +
			"infra + 20 containers ignoring SIGTERM",
			pod:   podSpec{containers: 20, stopTimeout: 2, start: true},
			steps: []step{{label: "pod stop", args: podArgs("pod", "stop"), want: "exited", target: 0.4}}},
		{name: "restart5", title: "pod restart, infra + 5 containers ignoring SIGTERM (stop timeout 2 s)",
			pod: podSpec{containers: 5, stopTimeout: 2, start: true},
			steps: []step{{label: "pod restart", args: podArgs("pod", "restart"),
				want: "running", target: 0.25}}},
		{name: "pause20", title: "pod pause, then pod unpause, infra + 20 containers", pod: started(20),
			steps: []step{
				{label: "pod pause", args: podArgs("pod", "pause"), want: "paused", target: 0.5},
				{label: "pod unpause", args: podArgs("pod", "unpause"), want: "running", target: 0.5},
			}},
	}
	for _, n := range psPods {
		list = append(list, &scenario{name: "ps", key: fmt.Sprintf("ps%d", n),
			title:  fmt.Sprintf("pod ps with %d pods (infra + 1 container each, not started)", n),
			shared: n, pod: podSpec{containers: 1},
			steps: []step{{label: "pod ps", target: 0.2,
				args: func(string) []string { return []string{"pod", "ps"} }}}})
	}
	list = append(list, &scenario{name: "inspect", title: "pod inspect, infra + 5 running containers",
		shared: 1, pod: started(5),
		steps: []step{{label: "pod inspect", args: podArgs("pod", "inspect"), target: 0.5}}})
	for _, sc := range list {
		if sc.key == "" {
			sc.key = sc.name
		}
	}
	return list
}

func startScenario(n int) *scenario {
	return &scenario{name: fmt.Sprintf("start%d", n),
		title: "pod start, infra + " + containerCount(n),
		pod:   podSpec{containers: n},
		steps: []step{{label: "pod start", args: podArgs("pod", "start"), want: "running", target: 0.5}}}
}

func stopScenario(n int) *scenario {
	return &scenario{name: fmt.Sprintf("stop%d", n),
		title: "pod stop -t 0, infra + " + containerCount(n),
		pod:   podSpec{containers: n, start: true},
		steps: []step{{label: "pod stop -t 0", args: podArgs("pod", "stop", "-t", "0"),
			want: "exited", target: 0.5}}}
}

func containerCount(n int) string {
	if n == 1 {
		return "1 container"
	}
	return fmt.Sprintf("%d containers", n)
}

// scenarioNames returns the name of every scenario, the scale scenario
// last.
func scenarioNames() []string {
	var names []string
	for _, sc := range scenarioList([]int{1}) {
		names = append(names, sc.name)
	}
	return append(names, scaleName)
}

// selectScenarios returns the side-by-side scenarios named in names ("all"
// for every one) in their canonical order. The scale scenario is valid in
// names but not returned: run selects it separately.
func selectScenarios(names []string, psPods []int) ([]*scenario, error) {
	all := scenarioList(psPods)
	if len(names) == 0 {
		return nil, fmt.Errorf("no scenario selected: use -scenarios all or some of %s",
			strings.Join(scenarioNames(), ","))
	}
	for _, name := range names {
		if name != "all" && !slices.Contains(scenarioNames(), name) {
			return nil, fmt.Errorf("unknown scenario %q: use all or some of %s",
				name, strings.Join(scenarioNames(), ","))
		}
	}
	var out []*scenario
	for _, sc := range all {
		if slices.Contains(names, "all") || slices.Contains(names, sc.name) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// podName returns the pod of one run, or for a shared set-up the pod with
// that index.
func (sc *scenario) podName(i int) string {
	return fmt.Sprintf("bench-%s-%03d", sc.key, i)
}

func podCreateArgs(pod string) []string {
	return []string{"pod", "create", "--name", pod, "--network", "none"}
}

func containerCreateArgs(pod string, i int, stopTimeout uint) []string {
	args := []string{"create", "--pod", pod, "--name", fmt.Sprintf("%s-c%d", pod, i)}
	if stopTimeout > 0 {
		args = append(args, "--stop-timeout", strconv.FormatUint(uint64(stopTimeout), 10))
	}
	return append(args, busyboxSleep...)
}

// createPod builds a pod from spec, with the same commands on both engines.
func createPod(ctx context.Context, e *engine, pod string, spec podSpec) error {
	if _, err := e.run(ctx, podCreateArgs(pod)...); err != nil {
		return err
	}
	for i := 1; i <= spec.containers; i++ {
		if _, err := e.run(ctx, containerCreateArgs(pod, i, spec.stopTimeout)...); err != nil {
			return err
		}
	}
	if !spec.start {
		return nil
	}
	if _, err := e.run(ctx, "pod", "start", pod); err != nil {
		return err
	}
	return checkStates(ctx, e, pod, "running")
}

func removePod(ctx context.Context, e *engine, pod string) error {
	_, err := e.run(ctx, "pod", "rm", "--force", "--time", "0", pod)
	return err
}

// checkStates returns an error unless every container of the pod, infra
// included, is in the state want.
func checkStates(ctx context.Context, e *engine, pod, want string) error {
	states, err := e.containerStates(ctx, pod)
	if err != nil {
		return err
	}
	for _, state := range states {
		if state != want {
			return fmt.Errorf("%s pod %s: expected every container %s, got %s",
				e.name, pod, want, strings.Join(states, " "))
		}
	}
	if len(states) == 0 {
		return fmt.Errorf("%s pod %s: no containers", e.name, pod)
	}
	return nil
}

// warmUp runs one pod through create, start, stop and remove, so that
// one-time costs (podman building its infra image, first runs of each
// binary) fall outside the timed runs.
func warmUp(ctx context.Context, e *engine) error {
	pod := "bench-warmup"
	if err := createPod(ctx, e, pod, podSpec{containers: 1, start: true}); err != nil {
		removePod(ctx, e, pod)
		return err
	}
	if _, err := e.run(ctx, "pod", "stop", "-t", "0", pod); err != nil {
		removePod(ctx, e, pod)
		return err
	}
	return removePod(ctx, e, pod)
}

// sample is one timed command: its wall time, or why the run failed.
type sample struct {
	run     int
	elapsed time.Duration
	err     error
}

// result holds every sample of one step of one scenario, per engine.
type result struct {
	scenario *scenario
	step     step
	samples  map[string][]sample // by engine name, in run order
}

func (r *result) add(engine string, s sample) {
	r.samples[engine] = append(r.samples[engine], s)
}

// runScenarios runs every scenario in turn until done or ctx is cancelled.
func runScenarios(ctx context.Context, l *lab, scenarios []*scenario, runs int) []*result {
	var all []*result
	for _, sc := range scenarios {
		if ctx.Err() != nil {
			break
		}
		all = append(all, runScenario(ctx, l, sc, runs)...)
	}
	return all
}

// runScenario runs one scenario against a podplug daemon of its own, so
// that a CPU profile covers this scenario only.
func runScenario(ctx context.Context, l *lab, sc *scenario, runs int) []*result {
	logf("scenario %s: %s", sc.key, sc.title)
	results := make([]*result, len(sc.steps))
	for i, st := range sc.steps {
		results[i] = &result{scenario: sc, step: st, samples: map[string][]sample{}}
	}

	profile := ""
	if l.cfg.cpuProfileDir != "" {
		profile = filepath.Join(l.cfg.cpuProfileDir, "podplug-"+sc.key+".pprof")
	}
	if err := l.startDaemon(ctx, profile); err != nil {
		for run := 0; run < runs; run++ {
			failRun(results, 0, l.podplug.name, run, fmt.Errorf("set-up: %w", err))
		}
		return results
	}
	defer func() {
		l.stopDaemon()
		if profile != "" {
			l.profiles = append(l.profiles, profile)
		}
	}()

	setUpErrs := map[string]error{}
	if sc.shared > 0 {
		for _, e := range l.engines() {
			setUpErrs[e.name] = setUpShared(ctx, e, sc)
		}
		defer tearDownShared(l, sc)
	}
	for run := 0; run < runs && ctx.Err() == nil; run++ {
		for _, e := range l.engines() {
			if err := setUpErrs[e.name]; err != nil {
				failRun(results, 0, e.name, run, fmt.Errorf("set-up: %w", err))
				continue
			}
			runOnce(ctx, e, sc, run, results)
		}
	}
	return results
}

// runOnce runs one engine through one run of a scenario: set-up, the timed
// steps, each followed by a check of the container states, and removal.
func runOnce(ctx context.Context, e *engine, sc *scenario, run int, results []*result) {
	pod := sc.podName(run)
	if sc.shared > 0 {
		pod = sc.podName(0)
	} else {
		defer removeQuietly(e, pod)
	}
	if sc.shared == 0 && !sc.createsPod {
		if err := createPod(ctx, e, pod, sc.pod); err != nil {
			failRun(results, 0, e.name, run, fmt.Errorf("set-up: %w", err))
			return
		}
	}
	for i, st := range sc.steps {
		elapsed, err := e.timed(ctx, st.args(pod)...)
		if err == nil && st.want != "" {
			err = checkStates(ctx, e, pod, st.want)
		}
		if err != nil {
			logf("%s run %d %s: %v", sc.key, run+1, e.name, err)
			failRun(results, i, e.name, run, err)
			return
		}
		results[i].add(e.name, sample{run: run, elapsed: elapsed})
		logf("%-14s run %d %-7s %-14s %.3f s", sc.key, run+1, e.name, st.label, elapsed.Seconds())
	}
}

// failRun records err for the step at index from and every later step,
// which a failed run never reaches.
func failRun(results []*result, from int, engine string, run int, err error) {
	for i := from; i < len(results); i++ {
		if i > from {
			err = fmt.Errorf("not run: an earlier step failed")
		}
		results[i].add(engine, sample{run: run, err: err})
	}
}

func removeQuietly(e *engine, pod string) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if err := removePod(ctx, e, pod); err != nil {
		logf("remove pod: %v", err)
	}
}

func setUpShared(ctx context.Context, e *engine, sc *scenario) error {
	start := time.Now()
	for i := 0; i < sc.shared; i++ {
		if err := createPod(ctx, e, sc.podName(i), sc.pod); err != nil {
			return err
		}
		if (i+1)%50 == 0 {
			logf("%s: %s created %d of %d pods", sc.key, e.name, i+1, sc.shared)
		}
	}
	logf("%s: %s set-up took %.1f s", sc.key, e.name, time.Since(start).Seconds())
	return nil
}

func tearDownShared(l *lab, sc *scenario) {
	for _, e := range l.engines() {
		for i := 0; i < sc.shared; i++ {
			removeQuietly(e, sc.podName(i))
		}
	}
}
