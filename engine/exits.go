package engine

import (
	"context"
	"strconv"
	"syscall"
	"time"

	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/oci"
	"github.com/podplug/podplug/store"
)

// onExitFile runs for every exit file conmon writes.
func (e *Engine) onExitFile(id string) {
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		e.onExit(id)
	}()
}

// exitFileGrace is how long onExit waits for conmon's exit file once runc
// reports the container stopped.
const exitFileGrace = 2 * time.Second

// onExit records the exit of a container whose process ended, cleans up
// after it and then applies its restart policy and its pod's exit policy.
// It may be called more than once for one exit; only the first call acts.
func (e *Engine) onExit(id string) {
	unlock := e.ctrLocks.lock(id)
	c, err := e.getContainer(id)
	if err != nil || !hasProcess(c) {
		unlock()
		return
	}
	exit, ok := e.awaitExitFile(c)
	if !ok {
		unlock()
		return
	}
	err = e.recordExit(c, exit)
	if err != nil {
		unlock()
		e.log.Error("record container exit", "container", c.Name, "error", err)
		return
	}
	// Waiters learn of the exit before the cleanup: runc delete alone takes
	// about 100 ms, and anything that touches the container next (a start,
	// a removal) takes its lock and so waits for the cleanup to finish.
	e.exits.notify(id)
	e.releaseRuntime(c)
	unlock()

	pod, _, _ := e.podAndContainers(c.PodID)
	if pod != nil && c.Infra {
		e.detachNetwork(e.ctx, pod)
	}
	ev := containerEvent(pod, c, "died")
	ev.Attributes = map[string]string{"exitCode": strconv.Itoa(exit.Code)}
	e.emit(ev)
	if pod != nil && !c.IsInit() {
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			e.afterExit(pod.ID, id, exit.Time)
		}()
	}
}

// recordExit stores the exit and queues its post-stop plugin calls in one
// transaction, so the calls are durable exactly when the exit is.
func (e *Engine) recordExit(c *model.Container, exit oci.Exit) error {
	err := e.db.Update(func(tx *store.Tx) error {
		cur, err := tx.GetContainer(c.ID)
		if err != nil {
			return err
		}
		cur.Status.State = model.StateExited
		cur.Status.ExitCode = exit.Code
		cur.Status.OOMKilled = exit.OOMKilled
		cur.Status.FinishedAt = exit.Time
		cur.Status.PID = 0
		if err := tx.PutContainer(cur); err != nil {
			return err
		}
		return e.enqueuePostStop(tx, cur, exit)
	})
	if err == nil && e.hooks != nil {
		e.hooks.Kick()
	}
	return err
}

func hasProcess(c *model.Container) bool {
	switch c.Status.State {
	case model.StateRunning, model.StatePaused, model.StateStopping:
		return true
	}
	return false
}

// awaitExitFile returns the recorded exit. When conmon wrote none, it waits
// briefly if runc reports the process gone; if conmon died too, the exit code
// is lost and recorded as -1.
func (e *Engine) awaitExitFile(c *model.Container) (oci.Exit, bool) {
	if exit, ok := e.rt.ReadExit(c.ID); ok {
		return exit, true
	}
	ctx, cancel := context.WithTimeout(e.ctx, exitFileGrace)
	defer cancel()
	st, err := e.rt.State(ctx, c.ID)
	if err == nil && st.Status != "stopped" {
		return oci.Exit{}, false
	}
	for ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if exit, ok := e.rt.ReadExit(c.ID); ok {
			return exit, true
		}
	}
	if c.Status.ConmonPID > 0 && syscall.Kill(c.Status.ConmonPID, 0) == nil {
		return oci.Exit{}, false // conmon still runs and will write the file
	}
	e.log.Warn("exit code lost: conmon is gone", "container", c.Name)
	return oci.Exit{Code: -1, Time: time.Now()}, true
}

// releaseRuntime deletes runc's record and unmounts the root file system of
// an exited container, as podman's cleanup does.
func (e *Engine) releaseRuntime(c *model.Container) {
	ctx := context.WithoutCancel(e.ctx)
	if err := e.rt.Delete(ctx, c.ID, true); err != nil {
		e.log.Warn("delete exited container", "container", c.Name, "error", err)
	}
	e.rt.Cleanup(c.ID)
	if !c.Infra {
		if err := image.UnmountRootfs(e.containerDir(c)); err != nil {
			e.log.Warn("unmount root file system", "container", c.Name, "error", err)
			return
		}
	}
	err := e.updateContainer(c.ID, func(c *model.Container) { c.Status.Mounted = false })
	if err != nil {
		e.log.Error("record unmount", "container", c.Name, "error", err)
	}
}

// afterExit applies the restart policy of the container that exited at
// finished, or else the pod's exit policy.
func (e *Engine) afterExit(podID, id string, finished time.Time) {
	c, err := e.getContainer(id)
	if err != nil || c.Status.StoppedByUser || c.Infra {
		return
	}
	if delay, ok := restartDelay(c); ok {
		e.scheduleRestart(podID, id, finished, delay)
		return
	}
	e.applyExitPolicy(podID)
}

// restartDelay reports whether c's restart policy restarts it, and after how
// long: 100ms doubling with each restart, at most 30s.
func restartDelay(c *model.Container) (time.Duration, bool) {
	p := c.Restart
	switch {
	case p.Name == model.RestartAlways:
	case p.Name == model.RestartOnFailure && c.Status.ExitCode != 0:
		if p.MaxRetries > 0 && c.Status.RestartCount >= p.MaxRetries {
			return 0, false
		}
	default:
		return 0, false
	}
	shift := min(c.Status.RestartCount, 9)
	return min(100*time.Millisecond<<shift, 30*time.Second), true
}

func (e *Engine) scheduleRestart(podID, id string, finished time.Time, delay time.Duration) {
	select {
	case <-e.ctx.Done():
		return
	case <-time.After(delay):
	}
	unlock := e.podLocks.lock(podID)
	defer unlock()
	pod, ctrs, err := e.podAndContainers(podID)
	if err != nil || pod.Removing {
		return
	}
	c := findByID(ctrs, id)
	// A start, stop or remove since the exit wins over the policy.
	if c == nil || c.Status.State != model.StateExited || c.Status.StoppedByUser ||
		!c.Status.FinishedAt.Equal(finished) {
		return
	}
	if err := e.updateContainer(id, func(c *model.Container) { c.Status.RestartCount++ }); err != nil {
		return
	}
	if err := e.startContainer(e.ctx, pod, c); err != nil {
		e.log.Warn("restart by policy failed", "container", c.Name, "error", err)
		return
	}
	e.emit(containerEvent(pod, c, "restart"))
}

// applyExitPolicy stops a pod with exit policy stop once none of its
// ordinary containers runs any more.
func (e *Engine) applyExitPolicy(podID string) {
	unlock := e.podLocks.lock(podID)
	defer unlock()
	pod, ctrs, err := e.podAndContainers(podID)
	if err != nil || pod.ExitPolicy != model.ExitPolicyStop || pod.Removing {
		return
	}
	for _, c := range ctrs {
		if c.Infra || c.IsInit() {
			continue
		}
		if hasProcess(c) {
			return
		}
		if _, restarts := restartDelay(c); restarts && !c.Status.StoppedByUser {
			return
		}
	}
	if !pod.Infra {
		return
	}
	infra := findByID(ctrs, pod.InfraID)
	if infra == nil || !hasProcess(infra) {
		return
	}
	e.log.Info("last container exited, stopping pod", "pod", pod.Name)
	if err := e.stopContainer(e.ctx, pod, infra, nil); err != nil {
		e.log.Error("stop pod by exit policy", "pod", pod.Name, "error", err)
		return
	}
	e.emit(podEvent(pod, "stop"))
}
