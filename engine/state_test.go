package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/podplug/podplug/engine/model"
)

// ctr returns an ordinary container in state.
func ctr(state model.ContainerState) *model.Container {
	return &model.Container{Status: model.ContainerStatus{State: state}}
}

// stoppedCtr returns a container that a stop or kill request ended.
func stoppedCtr() *model.Container {
	c := ctr(model.StateExited)
	c.Status.StoppedByUser = true
	return c
}

// exitedCtr returns a container whose process ended on its own with code.
func exitedCtr(code int) *model.Container {
	c := ctr(model.StateExited)
	c.Status.ExitCode = code
	return c
}

// erroredCtr returns a container in state whose last start or run failed
// with message.
func erroredCtr(state model.ContainerState, message string) *model.Container {
	c := ctr(state)
	c.Status.Error = message
	return c
}

// initCtr returns an init container in state.
func initCtr(state model.ContainerState) *model.Container {
	c := ctr(state)
	c.InitMode = model.InitOnce
	return c
}

// failedInitCtr returns an init container in the error state with message.
func failedInitCtr(message string) *model.Container {
	c := erroredCtr(model.StateError, message)
	c.InitMode = model.InitAlways
	return c
}

// describeCtrs lists each container's state and the status fields that
// DerivePodState reads, for failure messages.
func describeCtrs(ctrs []*model.Container) string {
	parts := make([]string, 0, len(ctrs))
	for _, c := range ctrs {
		part := string(c.Status.State)
		if c.IsInit() {
			part += " init"
		}
		if c.Status.StoppedByUser {
			part += " stopped-by-user"
		}
		if c.Status.Error != "" {
			part += fmt.Sprintf(" error=%q", c.Status.Error)
		}
		parts = append(parts, part)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func TestDerivePodState(t *testing.T) {
	tests := []struct {
		name string
		ctrs []*model.Container
		want PodState
	}{
		// Created: no containers, or none ever started.
		{name: "nil list", ctrs: nil, want: PodCreated},
		{name: "empty list", ctrs: []*model.Container{}, want: PodCreated},
		{
			name: "all created",
			ctrs: []*model.Container{ctr(model.StateCreated), ctr(model.StateCreated)},
			want: PodCreated,
		},

		// Running and Paused: every container in that one state.
		{
			name: "all running",
			ctrs: []*model.Container{ctr(model.StateRunning), ctr(model.StateRunning)},
			want: PodRunning,
		},
		{
			name: "stopping counts as running",
			ctrs: []*model.Container{ctr(model.StateRunning), ctr(model.StateStopping)},
			want: PodRunning,
		},
		{
			name: "all paused",
			ctrs: []*model.Container{ctr(model.StatePaused), ctr(model.StatePaused)},
			want: PodPaused,
		},

		// Degraded: some running or paused, but not all in one of those.
		{
			name: "paused and running",
			ctrs: []*model.Container{ctr(model.StatePaused), ctr(model.StateRunning)},
			want: PodDegraded,
		},
		{
			name: "running and exited",
			ctrs: []*model.Container{ctr(model.StateRunning), exitedCtr(0)},
			want: PodDegraded,
		},
		{
			name: "running and created",
			ctrs: []*model.Container{ctr(model.StateRunning), ctr(model.StateCreated)},
			want: PodDegraded,
		},
		{
			name: "paused and stopped",
			ctrs: []*model.Container{ctr(model.StatePaused), stoppedCtr()},
			want: PodDegraded,
		},
		{
			name: "running beside error state",
			ctrs: []*model.Container{
				ctr(model.StateRunning),
				erroredCtr(model.StateError, "exec format error"),
			},
			want: PodDegraded,
		},

		// Error: none running and some failed.
		{
			name: "error state",
			ctrs: []*model.Container{erroredCtr(model.StateError, "exec format error")},
			want: PodError,
		},
		{
			name: "error state without message",
			ctrs: []*model.Container{ctr(model.StateError)},
			want: PodError,
		},
		{
			name: "exited with Status.Error set",
			ctrs: []*model.Container{stoppedCtr(), erroredCtr(model.StateExited, "oom")},
			want: PodError,
		},
		{
			name: "created dependent of failed container",
			ctrs: []*model.Container{
				erroredCtr(model.StateError, "exec format error"),
				erroredCtr(model.StateCreated, `"db" failed: dependency failed`),
			},
			want: PodError,
		},

		// Stopped: every container that ran was stopped by a request.
		{
			name: "all stopped by user",
			ctrs: []*model.Container{stoppedCtr(), stoppedCtr()},
			want: PodStopped,
		},
		{
			name: "stopped by user and created",
			ctrs: []*model.Container{stoppedCtr(), ctr(model.StateCreated)},
			want: PodStopped,
		},

		// Exited: some container exited on its own.
		{
			name: "exited on its own",
			ctrs: []*model.Container{exitedCtr(0), exitedCtr(1)},
			want: PodExited,
		},
		{
			name: "exited on its own and stopped by user",
			ctrs: []*model.Container{stoppedCtr(), exitedCtr(137)},
			want: PodExited,
		},
		{
			name: "exited on its own and created",
			ctrs: []*model.Container{exitedCtr(0), ctr(model.StateCreated)},
			want: PodExited,
		},

		// Init containers do not count.
		{
			name: "only init containers",
			ctrs: []*model.Container{initCtr(model.StateExited), initCtr(model.StateRunning)},
			want: PodCreated,
		},
		{
			name: "exited init beside running",
			ctrs: []*model.Container{initCtr(model.StateExited), ctr(model.StateRunning)},
			want: PodRunning,
		},
		{
			name: "running init beside created",
			ctrs: []*model.Container{initCtr(model.StateRunning), ctr(model.StateCreated)},
			want: PodCreated,
		},
		{
			name: "failed init beside stopped",
			ctrs: []*model.Container{failedInitCtr("exit status 1"), stoppedCtr()},
			want: PodStopped,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DerivePodState(tt.ctrs); got != tt.want {
				t.Errorf("DerivePodState(%s) = %s, expected %s", describeCtrs(tt.ctrs), got, tt.want)
			}
		})
	}
}
