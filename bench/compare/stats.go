package main

import (
	"fmt"
	"slices"
	"time"
)

// summary condenses the samples of one step on one engine.
type summary struct {
	ok       int // successful runs, the ones the figures are taken from
	failed   int
	median   time.Duration
	min, max time.Duration
}

func summarize(samples []sample) summary {
	var s summary
	var times []time.Duration
	for _, sm := range samples {
		if sm.err != nil {
			s.failed++
			continue
		}
		times = append(times, sm.elapsed)
	}
	s.ok = len(times)
	if s.ok == 0 {
		return s
	}
	slices.Sort(times)
	s.min, s.max = times[0], times[len(times)-1]
	s.median = median(times)
	return s
}

// median returns the middle of sorted times, or the mean of the two
// middle values for an even count. sorted must not be empty.
func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// verdict compares podplug with podman on one step.
type verdict struct {
	ratio float64 // podplug median / podman median
	known bool    // both engines have at least one successful run
	met   bool    // ratio is under the step's target
}

func judge(podplug, podman summary, target float64) verdict {
	if podplug.ok == 0 || podman.ok == 0 || podman.median <= 0 {
		return verdict{}
	}
	ratio := float64(podplug.median) / float64(podman.median)
	return verdict{ratio: ratio, known: true, met: ratio < target}
}

// text returns the ratio with two decimals and "met", "not met" or, when
// an engine has no successful run, "n/a" and "no result".
func (v verdict) text() (ratio, mark string) {
	if !v.known {
		return "n/a", "no result"
	}
	if v.met {
		return fmt.Sprintf("%.2f", v.ratio), "met"
	}
	return fmt.Sprintf("%.2f", v.ratio), "not met"
}
