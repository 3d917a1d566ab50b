package test

import (
	"strings"
	"testing"
)

func TestPodRunsAndStops(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("web")
	e.CreateContainer(pod, "app", nil, "sleep", "1000")
	e.MustRun("pod", "start", pod)
	if got := e.PodState(pod); got != "Running" {
		t.Fatalf("pod state after start = %s, want Running", got)
	}
	if out := e.MustRun("exec", "app", "hostname"); strings.TrimSpace(out) != "web" {
		t.Errorf("hostname in pod = %q, want web", out)
	}
	e.MustRun("pod", "stop", "-t", "0", pod)
	if got := e.PodState(pod); got != "Stopped" {
		t.Fatalf("pod state after stop = %s, want Stopped", got)
	}
}
