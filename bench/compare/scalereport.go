package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeScale writes the scale scenario's section: what ran, a row per pod
// count, the removal and the two targets.
func (r *report) writeScale(w io.Writer) {
	res := r.scale
	if res == nil {
		return
	}
	last := res.counts[len(res.counts)-1]
	fmt.Fprintf(w, "## Scale: podplug alone, up to %d pods\n\n", last)
	fmt.Fprintf(w, "One podplug daemon, started for this scenario, runs pods of infra + %d "+
		"containers, each container `%s`. The pods are created and started one after "+
		"another, each with `%s`, then `%s` for N = 1 to %d and `pod start $POD`, "+
		"until %s pods run. "+
		"At each count `podplug info` must report every container running; then `pod ps` "+
		"and `pod inspect %s` run %d times each (the medians are shown), and the daemon's "+
		"VmRSS is read from /proc/PID/status, with PID from RUN_ROOT/daemon.pid. "+
		"Create+start per pod is the wall time of the batch that grew the pods to that "+
		"count, divided by the pods it added. At the end one `pod rm --all --force --time 0` "+
		"removes every pod. podman is not run.\n\n",
		scaleContainers, strings.Join(busyboxSleep[1:], " "),
		strings.Join(podCreateArgs("$POD"), " "),
		strings.Replace(strings.Join(containerCreateArgs("$POD", 1, 0), " "), "-c1", "-cN", 1),
		scaleContainers, joinCounts(res.counts),
		scalePodName(0), scaleRepeats)

	fmt.Fprintf(w, "| Pods | create+start per pod | `pod ps` | `pod ps` per pod | "+
		"`pod inspect` | daemon RSS | daemon open files |\n|---|---|---|---|---|---|---|\n")
	for _, p := range res.points {
		fmt.Fprintf(w, "| %d | %.3f s | %.3f s | %.3f ms | %.3f s | %.1f MiB | %d |\n",
			p.pods, p.createPerPod.Seconds(), p.ps.Seconds(),
			1000*p.ps.Seconds()/float64(p.pods), p.inspect.Seconds(),
			mebibytes(p.rssBytes), p.openFiles)
	}
	fmt.Fprintln(w)
	if res.removed > 0 {
		fmt.Fprintf(w, "Removal of %d pods: %.3f s per pod.\n\n",
			res.removed, res.removePerPod.Seconds())
	}
	r.writeScaleTargets(w)
	r.writeScaleMarginal(w)
	if res.err != nil {
		fmt.Fprintf(w, "The scenario stopped early: %s. The rows above are the figures "+
			"taken before it stopped.\n\n", oneLine(res.err.Error()))
	}
}

// writeScaleTargets writes the growth of the pod ps time per pod from the
// first count to the last, and the daemon's memory at the last count, each
// against its target.
func (r *report) writeScaleTargets(w io.Writer) {
	res := r.scale
	fmt.Fprintf(w, "| Target | Figure | |\n|---|---|---|\n")
	first, last := res.counts[0], res.counts[len(res.counts)-1]
	growthText, growthMark := "n/a", "no result"
	if growth, ok := res.growth(); ok {
		growthText, growthMark = fmt.Sprintf("%.2fx", growth), "met (flat)"
		if growth > scaleFlatFactor {
			growthMark = "not met (grows)"
		}
	}
	fmt.Fprintf(w, "| `pod ps` time per pod at %d pods within %.0fx of that at %d pods "+
		"(flat, nothing quadratic) | %s | %s |\n",
		last, scaleFlatFactor, first, growthText, growthMark)

	rssText, rssMark := "n/a", "no result"
	if p, ok := res.pointAt(last); ok {
		rssText, rssMark = fmt.Sprintf("%.1f MiB", mebibytes(p.rssBytes)), "met"
		if p.rssBytes >= scaleRSSTarget {
			rssMark = "not met"
		}
	}
	fmt.Fprintf(w, "| daemon RSS at %d pods under %.0f MiB | %s | %s |\n\n",
		last, mebibytes(scaleRSSTarget), rssText, rssMark)
}

// writeScaleMarginal states the pod ps time each added pod costs. The per
// pod figure at a low count is mostly the fixed cost of one CLI call, which
// the growth target divides by few pods, so the marginal cost shows the
// part that depends on the number of pods.
func (r *report) writeScaleMarginal(w io.Writer) {
	points := r.scale.points
	if len(points) < 2 {
		return
	}
	first, last := points[0], points[len(points)-1]
	added := float64(last.pods - first.pods)
	fmt.Fprintf(w, "Each `pod ps` time includes the fixed cost of starting the CLI and "+
		"connecting to the daemon, which the time per pod at %d pods spreads over few pods. "+
		"From %d to %d pods, `pod ps` took %.3f ms more per added pod.\n\n",
		first.pods, first.pods, last.pods, 1000*(last.ps-first.ps).Seconds()/added)
}

// pointAt returns the figures taken at pods pods, if the scenario got there.
func (r *scaleResult) pointAt(pods int) (scalePoint, bool) {
	for _, p := range r.points {
		if p.pods == pods {
			return p, true
		}
	}
	return scalePoint{}, false
}

// printScaleSummary writes the scale figures in plain text, for the
// terminal.
func printScaleSummary(w io.Writer, res *scaleResult) {
	if res == nil {
		return
	}
	fmt.Fprintf(w, "\n%s: %6s %12s %9s %12s %9s %9s\n", scaleName, "pods", "create/pod",
		"pod ps", "pod ps/pod", "inspect", "RSS MiB")
	for _, p := range res.points {
		fmt.Fprintf(w, "%s: %6d %12.3f %9.3f %12.6f %9.3f %9.1f\n", scaleName, p.pods,
			p.createPerPod.Seconds(), p.ps.Seconds(), p.ps.Seconds()/float64(p.pods),
			p.inspect.Seconds(), mebibytes(p.rssBytes))
	}
	if res.removed > 0 {
		fmt.Fprintf(w, "%s: removal %.3f s per pod\n", scaleName, res.removePerPod.Seconds())
	}
	if growth, ok := res.growth(); ok {
		fmt.Fprintf(w, "%s: pod ps per pod grew %.2fx from %d to %d pods\n", scaleName,
			growth, res.points[0].pods, res.points[len(res.points)-1].pods)
	}
	if res.err != nil {
		fmt.Fprintf(w, "%s: stopped early: %v\n", scaleName, res.err)
	}
}

func mebibytes(b int64) float64 { return float64(b) / (1 << 20) }

func joinCounts(counts []int) string {
	parts := make([]string, len(counts))
	for i, n := range counts {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", then ")
}
