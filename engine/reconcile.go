package engine

import (
	"context"
	"errors"
	"time"

	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/oci"
	"github.com/podplug/podplug/store"
)

// reconcile brings the store in line with runc after a daemon start:
// exits that happened while the daemon was down are recorded, removals and
// stops cut short by a crash are finished, and a container runc runs but
// the store does not know as running is adopted.
func (e *Engine) reconcile(ctx context.Context) {
	var pods []*model.Pod
	var ctrs []*model.Container
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		if pods, err = tx.ListPods(); err != nil {
			return err
		}
		ctrs, err = tx.ListContainers()
		return err
	})
	if err != nil {
		e.log.Error("reconcile: read store", "error", err)
		return
	}
	states, err := e.rt.List(ctx)
	if err != nil {
		e.log.Error("reconcile: list runc containers", "error", err)
		return
	}
	stopping := map[string][]string{} // pod ID -> container IDs
	for _, c := range ctrs {
		if e.reconcileContainer(ctx, c, states) {
			stopping[c.PodID] = append(stopping[c.PodID], c.ID)
		}
	}
	for podID, ids := range stopping {
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			e.finishStops(podID, ids)
		}()
	}
	for _, p := range pods {
		if p.Removing {
			e.finishPodRemoval(ctx, p)
		}
	}
}

// reconcileContainer settles one container and reports whether it is a
// stop cut short, which the caller finishes per pod.
func (e *Engine) reconcileContainer(ctx context.Context, c *model.Container,
	states map[string]oci.State) bool {
	st, known := states[c.ID]
	alive := known && (st.Status == "running" || st.Status == "paused" || st.Status == "pausing")
	switch {
	case c.Status.State == model.StateRemoving:
		e.finishContainerRemoval(ctx, c)
	case hasProcess(c) && !alive:
		e.onExit(c.ID)
	case c.Status.State == model.StateStopping:
		return true
	case !hasProcess(c) && alive:
		e.adopt(c, st)
	case !hasProcess(c) && known:
		// Created by runc but never started: a start cut short.
		_ = e.rt.Delete(ctx, c.ID, true)
		e.rt.Cleanup(c.ID)
		if !c.Infra {
			_ = image.UnmountRootfs(e.containerDir(c))
		}
	}
	return false
}

func (e *Engine) adopt(c *model.Container, st oci.State) {
	e.log.Info("adopting running container", "container", c.Name, "pid", st.PID)
	state := model.StateRunning
	if st.Status == "paused" {
		state = model.StatePaused
	}
	err := e.updateContainer(c.ID, func(c *model.Container) {
		c.Status.State = state
		c.Status.PID = st.PID
		c.Status.Mounted = true
	})
	if err != nil {
		e.log.Error("adopt container", "container", c.Name, "error", err)
	}
}

// finishStops completes the stops of a pod's containers that a daemon
// crash cut short, in parallel, each escalating to SIGKILL at the deadline
// recorded when its stop began.
func (e *Engine) finishStops(podID string, ids []string) {
	unlock := e.podLocks.lock(podID)
	defer unlock()
	pod, ctrs, err := e.podAndContainers(podID)
	if err != nil {
		return
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	errs := fanOut(ctrs, func(c *model.Container) bool { return want[c.ID] }, func(c *model.Container) error {
		e.log.Info("finishing stop cut short by a restart", "container", c.Name)
		remaining := uint(max(0, time.Until(c.Status.StopDeadline).Seconds()))
		return e.stopContainer(e.ctx, pod, c, &remaining)
	})
	for name, err := range errs {
		e.log.Error("finish stop", "container", name, "error", err)
	}
}

func (e *Engine) finishContainerRemoval(ctx context.Context, c *model.Container) {
	e.log.Info("finishing removal cut short by a restart", "container", c.Name)
	if err := e.removeContainerFiles(ctx, c); err != nil {
		e.log.Error("finish container removal", "container", c.Name, "error", err)
		return
	}
	err := e.db.Update(func(tx *store.Tx) error { return tx.DeleteContainer(c.ID) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Error("finish container removal", "container", c.Name, "error", err)
	}
}

func (e *Engine) finishPodRemoval(ctx context.Context, p *model.Pod) {
	e.log.Info("finishing pod removal cut short by a restart", "pod", p.Name)
	unlock := e.podLocks.lock(p.ID)
	defer unlock()
	zero := uint(0)
	if err := e.stopPodLocked(ctx, p, StopOptions{Timeout: &zero}, "pod rm"); err != nil {
		e.log.Error("finish pod removal: stop", "pod", p.Name, "error", err)
	}
	if err := e.removePodLocked(ctx, p); err != nil {
		e.log.Error("finish pod removal", "pod", p.Name, "error", err)
	}
}
