package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/oci"
)

// sendSignal delivers sig to a container's init process through a pidfd,
// which saves forking runc; all (every process, for a shared PID namespace)
// and any doubt about the process go through `runc kill`. The pidfd is
// opened before the process is checked against the container's cgroup, so a
// PID reused by another process is never signalled.
func (e *Engine) sendSignal(ctx context.Context, c *model.Container, sig syscall.Signal, all bool) error {
	if !all && c.Status.PID > 0 {
		err := signalPidfd(c.Status.PID, c.ID, sig)
		if err == nil {
			return nil
		}
		if errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal container %s: %w", c.Name, oci.ErrNotRunning)
		}
	}
	return e.rt.Kill(ctx, c.ID, sig, all)
}

func signalPidfd(pid int, containerID string, sig syscall.Signal) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil || !strings.Contains(string(data), containerID) {
		return fmt.Errorf("process %d is not in container %s", pid, containerID)
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0)
}
