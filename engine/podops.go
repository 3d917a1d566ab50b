package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/podplug/podplug/engine/cgroups"
	"github.com/podplug/podplug/engine/graph"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// startLimit bounds how many containers of one pod are created at once.
// runc create mostly waits on the kernel, so the bound is set above the core
// count; 8 is an estimate, not a measured optimum.
const startLimit = 8

// withPod looks up a pod, takes its lock and runs fn with the pod and its
// containers as stored now. Every pod operation goes through it.
func (e *Engine) withPod(tenant, ref string, fn func(*model.Pod, []*model.Container) error) error {
	pod, err := e.LookupPod(tenant, ref)
	if err != nil {
		return err
	}
	unlock := e.podLocks.lock(pod.ID)
	defer unlock()
	pod, ctrs, err := e.podAndContainers(pod.ID)
	if err != nil {
		return err
	}
	if pod.Removing {
		return fmt.Errorf("pod %s is being removed: %w", pod.Name, ErrConflict)
	}
	return fn(pod, ctrs)
}

// StartPod starts the infra container, runs the init containers one after
// another, then starts the other containers in dependency order.
func (e *Engine) StartPod(ctx context.Context, tenant, ref string) error {
	return e.withPod(tenant, ref, func(pod *model.Pod, ctrs []*model.Container) error {
		err := e.startPodLocked(ctx, pod, ctrs, "pod start")
		if err == nil {
			e.emit(podEvent(pod, "start"))
		}
		return err
	})
}

// podGraph builds the dependency graph of the pod's ordinary containers.
func podGraph(pod *model.Pod, ctrs []*model.Container) (*graph.Graph, map[string]*model.Container, error) {
	byName := map[string]*model.Container{}
	var nodes []graph.Node
	for _, c := range ctrs {
		if c.Infra || c.IsInit() {
			continue
		}
		byName[c.Name] = c
		nodes = append(nodes, graph.Node{Name: c.Name, Requires: c.Requires})
	}
	g, err := graph.New(nodes)
	if err != nil {
		return nil, nil, fmt.Errorf("pod %s: %w: %w", pod.Name, err, ErrInvalid)
	}
	return g, byName, nil
}

func (e *Engine) startPodLocked(ctx context.Context, pod *model.Pod, ctrs []*model.Container,
	op string) error {
	g, byName, err := podGraph(pod, ctrs)
	if err != nil {
		return err
	}
	limits := cgroups.Limits{CPUs: pod.CPUs, MemoryBytes: pod.MemoryBytes}
	if err := cgroups.Create(pod.CgroupParent, limits); err != nil {
		return fmt.Errorf("%s %s: %w", op, pod.Name, err)
	}
	alreadyUp := len(activeNames(ctrs)) > 0
	if infra := findByID(ctrs, pod.InfraID); infra != nil {
		if err := e.startContainer(ctx, pod, infra); err != nil {
			errs := map[string]error{infra.Name: err}
			e.markDependents(pod, byName, g.Names(), infra.Name, errs)
			return partial(op, pod.Name, errs)
		}
	}
	// Init containers prepare a pod that is coming up; a pod start on a
	// pod that already runs only starts what is missing.
	if !alreadyUp {
		if err := e.runInitContainers(ctx, pod, ctrs); err != nil {
			return err
		}
	}
	errs := graph.Walk(ctx, g, graph.WalkOptions{Direction: graph.Forward, Limit: startLimit},
		func(ctx context.Context, name string) error {
			return e.startContainer(ctx, pod, byName[name])
		})
	for name, err := range errs {
		if isDependencyFailure(err) {
			e.setError(byName[name], err)
		}
	}
	return partial(op, pod.Name, errs)
}

// markDependents records that every name in names failed because cause did.
func (e *Engine) markDependents(pod *model.Pod, byName map[string]*model.Container,
	names []string, cause string, errs map[string]error) {
	for _, name := range names {
		err := fmt.Errorf("%q failed: %w", cause, graph.ErrDependencyFailed)
		errs[name] = err
		e.setError(byName[name], err)
	}
}

func isDependencyFailure(err error) bool {
	return err != nil && errors.Is(err, graph.ErrDependencyFailed)
}

// setError notes on a container why it did not start, leaving its state.
func (e *Engine) setError(c *model.Container, cause error) {
	if c == nil {
		return
	}
	err := e.updateContainer(c.ID, func(c *model.Container) { c.Status.Error = cause.Error() })
	if err != nil {
		e.log.Error("record container error", "container", c.Name, "error", err)
	}
}

// runInitContainers runs each init container to completion in creation
// order. A failure stops the infra container, notes the failure on it and
// returns an error naming the init container.
func (e *Engine) runInitContainers(ctx context.Context, pod *model.Pod, ctrs []*model.Container) error {
	for _, c := range ctrs {
		if !c.IsInit() {
			continue
		}
		code, err := e.runToCompletion(ctx, pod, c)
		if err == nil && code != 0 {
			err = fmt.Errorf("init container %s exited with code %d: %w", c.Name, code, ErrInitFailed)
		}
		if err != nil {
			e.abortStart(ctx, pod, ctrs, err)
			return fmt.Errorf("start pod %s: %w", pod.Name, err)
		}
		if c.InitMode == model.InitOnce {
			if err := e.removeContainerLocked(ctx, pod, c); err != nil {
				return fmt.Errorf("start pod %s: remove init container %s after success: %w",
					pod.Name, c.Name, err)
			}
		}
	}
	return nil
}

func (e *Engine) runToCompletion(ctx context.Context, pod *model.Pod, c *model.Container) (int, error) {
	exited := e.exits.next(c.ID)
	if err := e.startContainer(ctx, pod, c); err != nil {
		return -1, err
	}
	for {
		select {
		case <-exited:
			done, err := e.getContainer(c.ID)
			if err != nil {
				return -1, err
			}
			return done.Status.ExitCode, nil
		case <-ctx.Done():
			return -1, fmt.Errorf("init container %s: %w", c.Name, ctx.Err())
		}
	}
}

// abortStart stops what a failed pod start left running (the infra
// container) and records the cause on it, so the pod shows Error.
func (e *Engine) abortStart(ctx context.Context, pod *model.Pod, ctrs []*model.Container, cause error) {
	infra := findByID(ctrs, pod.InfraID)
	if infra == nil {
		return
	}
	zero := uint(0)
	if err := e.stopContainer(context.WithoutCancel(ctx), pod, infra, &zero); err != nil {
		e.log.Error("stop infra after failed start", "pod", pod.Name, "error", err)
	}
	e.setError(infra, cause)
}

// StopPod stops the pod's containers, dependents before what they require
// and the infra container last, independent branches in parallel.
func (e *Engine) StopPod(ctx context.Context, tenant, ref string, opts StopOptions) error {
	return e.withPod(tenant, ref, func(pod *model.Pod, ctrs []*model.Container) error {
		err := e.stopPodLocked(ctx, pod, opts, "pod stop")
		e.emit(podEvent(pod, "stop"))
		return err
	})
}

func (e *Engine) stopPodLocked(ctx context.Context, pod *model.Pod, opts StopOptions, op string) error {
	_, ctrs, err := e.podAndContainers(pod.ID)
	if err != nil {
		return err
	}
	errs := map[string]error{}
	var mu sync.Mutex
	record := func(name string, err error) {
		if err != nil {
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for _, c := range ctrs {
		if c.IsInit() {
			wg.Go(func() { record(c.Name, e.stopContainer(ctx, pod, c, opts.Timeout)) })
		}
	}
	if g, byName, err := podGraph(pod, ctrs); err == nil {
		walkErrs := graph.Walk(ctx, g, graph.WalkOptions{Direction: graph.Backward, ContinueOnError: true},
			func(ctx context.Context, name string) error {
				return e.stopContainer(ctx, pod, byName[name], opts.Timeout)
			})
		for name, err := range walkErrs {
			record(name, err)
		}
	} else {
		record("graph", err)
	}
	wg.Wait()
	if infra := findByID(ctrs, pod.InfraID); infra != nil {
		record(infra.Name, e.stopContainer(ctx, pod, infra, opts.Timeout))
	}
	return partial(op, pod.Name, errs)
}

// RestartPod stops the pod and starts it again, both in dependency order.
func (e *Engine) RestartPod(ctx context.Context, tenant, ref string, opts StopOptions) error {
	return e.withPod(tenant, ref, func(pod *model.Pod, _ []*model.Container) error {
		if err := e.stopPodLocked(ctx, pod, opts, "pod restart"); err != nil {
			return err
		}
		_, ctrs, err := e.podAndContainers(pod.ID)
		if err != nil {
			return err
		}
		if err := e.startPodLocked(ctx, pod, ctrs, "pod restart"); err != nil {
			return err
		}
		e.emit(podEvent(pod, "restart"))
		return nil
	})
}

// fanOut runs fn on every container that match selects, in parallel, and
// collects the errors by container name.
func fanOut(ctrs []*model.Container, match func(*model.Container) bool,
	fn func(*model.Container) error) map[string]error {
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range ctrs {
		if !match(c) {
			continue
		}
		wg.Go(func() {
			if err := fn(c); err != nil {
				mu.Lock()
				errs[c.Name] = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs
}

func inState(states ...model.ContainerState) func(*model.Container) bool {
	return func(c *model.Container) bool {
		for _, s := range states {
			if c.Status.State == s {
				return true
			}
		}
		return false
	}
}

// PausePod freezes every running container of the pod.
func (e *Engine) PausePod(ctx context.Context, tenant, ref string) error {
	return e.withPod(tenant, ref, func(pod *model.Pod, ctrs []*model.Container) error {
		err := e.setPodPaused(ctx, pod, ctrs, true)
		e.emit(podEvent(pod, "pause"))
		return err
	})
}

// UnpausePod thaws every paused container of the pod.
func (e *Engine) UnpausePod(ctx context.Context, tenant, ref string) error {
	return e.withPod(tenant, ref, func(pod *model.Pod, ctrs []*model.Container) error {
		err := e.setPodPaused(ctx, pod, ctrs, false)
		e.emit(podEvent(pod, "unpause"))
		return err
	})
}

// setPodPaused freezes or thaws every container in the matching state, in
// parallel, by writing each container's freezer cgroup directly (what runc
// pause does, without a runc process per container; runc is the fallback),
// then records the new states in one transaction.
func (e *Engine) setPodPaused(ctx context.Context, pod *model.Pod, ctrs []*model.Container,
	pause bool) error {
	op, from, to := "pod unpause", model.StatePaused, model.StateRunning
	if pause {
		op, from, to = "pod pause", model.StateRunning, model.StatePaused
	}
	var mu sync.Mutex
	var changed []string
	errs := fanOut(ctrs, inState(from), func(c *model.Container) error {
		if err := e.freeze(ctx, pod, c, pause); err != nil {
			return err
		}
		mu.Lock()
		changed = append(changed, c.ID)
		mu.Unlock()
		return nil
	})
	err := e.db.Update(func(tx *store.Tx) error {
		for _, id := range changed {
			c, err := tx.GetContainer(id)
			if err != nil || c.Status.State != from {
				continue // exited meanwhile
			}
			c.Status.State = to
			if err := tx.PutContainer(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s %s: record states: %w", op, pod.Name, err)
	}
	return partial(op, pod.Name, errs)
}

func (e *Engine) freeze(ctx context.Context, pod *model.Pod, c *model.Container, pause bool) error {
	if err := cgroups.Freeze(pod.CgroupParent+"/"+c.ID, pause); err == nil {
		return nil
	}
	run, op := e.rt.Resume, "unpause"
	if pause {
		run, op = e.rt.Pause, "pause"
	}
	if err := run(ctx, c.ID); err != nil {
		return fmt.Errorf("%s container %s: %w", op, c.Name, err)
	}
	return nil
}

// KillPod sends a signal to every running or paused container of the pod.
// A bad signal is rejected before any container is touched.
func (e *Engine) KillPod(ctx context.Context, tenant, ref, signal string) error {
	sig, err := ParseSignal(signal)
	if err != nil {
		return err
	}
	return e.withPod(tenant, ref, func(pod *model.Pod, ctrs []*model.Container) error {
		all := pod.Shares(model.NamespacePID)
		errs := fanOut(ctrs, inState(model.StateRunning, model.StatePaused, model.StateStopping),
			func(c *model.Container) error { return e.kill(ctx, c, sig, all) })
		ev := podEvent(pod, "kill")
		ev.Attributes = map[string]string{"signal": sig.String()}
		e.emit(ev)
		return partial("pod kill", pod.Name, errs)
	})
}

// terminating are the signals after which a restart policy must not bring
// the container back: the user meant to end it.
var terminating = map[syscall.Signal]bool{
	syscall.SIGKILL: true, syscall.SIGTERM: true, syscall.SIGINT: true, syscall.SIGQUIT: true,
}

func (e *Engine) kill(ctx context.Context, c *model.Container, sig syscall.Signal, all bool) error {
	if terminating[sig] {
		err := e.updateContainer(c.ID, func(c *model.Container) { c.Status.StoppedByUser = true })
		if err != nil {
			return err
		}
	}
	if err := e.sendSignal(ctx, c, sig, all); err != nil {
		return fmt.Errorf("kill container %s: %w", c.Name, err)
	}
	return nil
}
