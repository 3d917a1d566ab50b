package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The scale scenario runs on podplug alone and grows the number of running
// pods in steps. At each step it measures the time to add a pod, to list
// pods and to inspect one, and the daemon's resident memory.
const (
	scaleName       = "scale"
	scaleContainers = 2 // ordinary containers per pod, besides infra
	scaleRepeats    = 5 // timed pod ps and pod inspect runs per pod count

	// scaleFlatFactor is how much the pod ps time per pod may grow from the
	// first pod count to the last and still count as flat.
	scaleFlatFactor = 2.0
	// scaleRSSTarget is the daemon's resident memory that podplug should
	// stay under at the last pod count.
	scaleRSSTarget = 150 << 20
)

// scalePoint is the set of figures taken once the pods reached one count.
type scalePoint struct {
	pods         int
	createPerPod time.Duration // wall time of the batch that added pods, divided by the pods added
	ps           time.Duration // median of scaleRepeats runs of pod ps
	inspect      time.Duration // median of scaleRepeats runs of pod inspect on one pod
	rssBytes     int64         // VmRSS of the podplug daemon
	openFiles    int           // file descriptors open in the daemon
}

// scaleResult is every figure of the scale scenario. When a step failed,
// err is that failure and the figures are those taken before it.
type scaleResult struct {
	counts       []int
	points       []scalePoint
	removed      int           // pods removed by the final pod rm --all
	removePerPod time.Duration // wall time of that pod rm --all, divided by removed
	err          error
}

// growth returns the pod ps time per pod at the last count over that at
// the first, and whether both points exist.
func (r *scaleResult) growth() (float64, bool) {
	if len(r.points) < 2 {
		return 0, false
	}
	first, last := r.points[0], r.points[len(r.points)-1]
	perPod := func(p scalePoint) float64 { return p.ps.Seconds() / float64(p.pods) }
	if perPod(first) <= 0 {
		return 0, false
	}
	return perPod(last) / perPod(first), true
}

// scalePodName returns the name of the pod with index i.
func scalePodName(i int) string {
	return fmt.Sprintf("bench-scale-%04d", i)
}

// runScale runs the scale scenario against a podplug daemon of its own and
// removes every pod it created, also on failure.
func runScale(ctx context.Context, l *lab, counts []int) *scaleResult {
	res := &scaleResult{counts: counts}
	logf("scenario %s: podplug alone, pods of infra + %d containers up to %d pods",
		scaleName, scaleContainers, counts[len(counts)-1])
	if res.err = checkScaleCapacity(counts[len(counts)-1]); res.err != nil {
		return res
	}

	profile := ""
	if l.cfg.cpuProfileDir != "" {
		profile = filepath.Join(l.cfg.cpuProfileDir, "podplug-"+scaleName+".pprof")
	}
	if err := l.startDaemon(ctx, profile); err != nil {
		res.err = fmt.Errorf("start podplug daemon: %w", err)
		return res
	}
	defer func() {
		l.stopDaemon()
		if profile != "" {
			l.profiles = append(l.profiles, profile)
		}
	}()

	res.err = growAndMeasure(ctx, l, res)
	if res.err != nil {
		logf("%s: stopped: %v", scaleName, res.err)
		removeAllQuietly(l.podplug)
		return res
	}
	if res.err = measureRemoval(ctx, l.podplug, res); res.err != nil {
		logf("%s: stopped: %v", scaleName, res.err)
		removeAllQuietly(l.podplug)
	}
	return res
}

// growAndMeasure adds pods up to each count in turn and appends the
// figures taken at each count to res.points.
func growAndMeasure(ctx context.Context, l *lab, res *scaleResult) error {
	pods := 0
	for _, count := range res.counts {
		start := time.Now()
		for ; pods < count; pods++ {
			if err := createScalePod(ctx, l.podplug, scalePodName(pods)); err != nil {
				return fmt.Errorf("create and start pod %d of %d: %w", pods+1, count, err)
			}
		}
		added := count
		if len(res.points) > 0 {
			added -= res.points[len(res.points)-1].pods
		}
		point := scalePoint{pods: count, createPerPod: time.Since(start) / time.Duration(added)}
		logf("%s: %d pods running, create+start %.3f s per pod",
			scaleName, count, point.createPerPod.Seconds())

		if err := checkCounts(ctx, l.podplug, count, count*(1+scaleContainers)); err != nil {
			return err
		}
		if err := measurePoint(ctx, l, &point); err != nil {
			return fmt.Errorf("at %d pods: %w", count, err)
		}
		res.points = append(res.points, point)
	}
	return nil
}

// createScalePod creates and starts one pod of infra + scaleContainers
// containers, with the same commands as the other scenarios' set-up, but
// without a state check per pod: checkCounts checks the whole batch.
func createScalePod(ctx context.Context, e *engine, pod string) error {
	if _, err := e.run(ctx, podCreateArgs(pod)...); err != nil {
		return err
	}
	for i := 1; i <= scaleContainers; i++ {
		if _, err := e.run(ctx, containerCreateArgs(pod, i, 0)...); err != nil {
			return err
		}
	}
	_, err := e.run(ctx, "pod", "start", pod)
	return err
}

// checkCounts returns an error unless podplug info reports exactly pods
// pods and running containers, and no container that is not running.
// Pass 0 and 0 to check that nothing is left.
func checkCounts(ctx context.Context, e *engine, pods, running int) error {
	out, err := e.run(ctx, "info", "--format", "{{.Pods}} {{.Containers}} {{.Running}}")
	if err != nil {
		return err
	}
	want := fmt.Sprintf("%d %d %d", pods, running, running)
	if got := strings.TrimSpace(out); got != want {
		return fmt.Errorf("podplug info: expected %q pods, containers and running containers, "+
			"got %q: see the daemon log", want, got)
	}
	return nil
}

// measurePoint times pod ps and pod inspect and reads the daemon's memory
// and open files, in that order, so that the memory includes what listing
// and inspecting allocated.
func measurePoint(ctx context.Context, l *lab, point *scalePoint) error {
	var err error
	if point.ps, err = medianOf(ctx, l.podplug, "pod", "ps"); err != nil {
		return err
	}
	if point.inspect, err = medianOf(ctx, l.podplug, "pod", "inspect", scalePodName(0)); err != nil {
		return err
	}
	pid, err := l.daemonPID()
	if err != nil {
		return err
	}
	if point.rssBytes, err = residentMemory(pid); err != nil {
		return err
	}
	if point.openFiles, err = countOpenFiles(pid); err != nil {
		return err
	}
	logf("%s: %d pods: pod ps %.3f s, pod inspect %.3f s, daemon RSS %.1f MiB, %d open files",
		scaleName, point.pods, point.ps.Seconds(), point.inspect.Seconds(),
		float64(point.rssBytes)/(1<<20), point.openFiles)
	return nil
}

// medianOf runs one command scaleRepeats times and returns the median
// wall time.
func medianOf(ctx context.Context, e *engine, args ...string) (time.Duration, error) {
	times := make([]time.Duration, 0, scaleRepeats)
	for i := 0; i < scaleRepeats; i++ {
		elapsed, err := e.timed(ctx, args...)
		if err != nil {
			return 0, err
		}
		times = append(times, elapsed)
	}
	slices.Sort(times)
	return median(times), nil
}

// measureRemoval times one pod rm --all of every pod and checks that none
// is left.
func measureRemoval(ctx context.Context, e *engine, res *scaleResult) error {
	pods := res.points[len(res.points)-1].pods
	elapsed, err := e.timed(ctx, "pod", "rm", "--all", "--force", "--time", "0")
	if err != nil {
		return fmt.Errorf("remove %d pods: %w", pods, err)
	}
	if err := checkCounts(ctx, e, 0, 0); err != nil {
		return fmt.Errorf("after removing %d pods: %w", pods, err)
	}
	res.removed, res.removePerPod = pods, elapsed/time.Duration(pods)
	logf("%s: removed %d pods in %.3f s, %.3f s per pod",
		scaleName, pods, elapsed.Seconds(), res.removePerPod.Seconds())
	return nil
}

func removeAllQuietly(e *engine) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if _, err := e.run(ctx, "pod", "rm", "--all", "--force", "--time", "0"); err != nil {
		logf("remove pods: %v", err)
	}
}

// daemonPID returns the pid that the podplug daemon wrote to
// RUN_ROOT/daemon.pid.
func (l *lab) daemonPID() (int, error) {
	path := filepath.Join(l.podplugRun, "daemon.pid")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read podplug daemon pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("invalid podplug daemon pid %q in %s", strings.TrimSpace(string(data)), path)
	}
	return pid, nil
}

// residentMemory returns VmRSS of a process in bytes, from
// /proc/PID/status.
func residentMemory(pid int) (int64, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	value := procField(path, "VmRSS")
	var kib int64
	if _, err := fmt.Sscanf(value, "%d kB", &kib); err != nil {
		return 0, fmt.Errorf("read VmRSS from %s: got %q", path, value)
	}
	return kib << 10, nil
}

func countOpenFiles(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, fmt.Errorf("count podplug daemon open files: %w", err)
	}
	return len(entries), nil
}
