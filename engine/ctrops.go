package engine

import (
	"context"
	"fmt"

	"github.com/podplug/podplug/engine/graph"
	"github.com/podplug/podplug/engine/model"
)

// withContainer looks up a container, takes its pod's lock and runs fn.
func (e *Engine) withContainer(tenant, ref string, fn func(*model.Pod, []*model.Container,
	*model.Container) error) error {
	c, err := e.LookupContainer(tenant, ref)
	if err != nil {
		return err
	}
	return e.withPod(tenant, c.PodID, func(pod *model.Pod, ctrs []*model.Container) error {
		return fn(pod, ctrs, findByID(ctrs, c.ID))
	})
}

// StartContainer starts one container, after the pod's infra container and
// the containers it requires, as podman does.
func (e *Engine) StartContainer(ctx context.Context, tenant, ref string) error {
	return e.withContainer(tenant, ref, func(pod *model.Pod, ctrs []*model.Container,
		c *model.Container) error {
		if infra := findByID(ctrs, pod.InfraID); infra != nil && !c.Infra {
			if err := e.startContainer(ctx, pod, infra); err != nil {
				return err
			}
		}
		if c.Infra || c.IsInit() {
			return e.startContainer(ctx, pod, c)
		}
		g, byName, err := podGraph(pod, ctrs)
		if err != nil {
			return err
		}
		needed := requiredBy(byName, c.Name)
		errs := graph.Walk(ctx, g, graph.WalkOptions{Direction: graph.Forward},
			func(ctx context.Context, name string) error {
				if !needed[name] {
					return nil
				}
				return e.startContainer(ctx, pod, byName[name])
			})
		if err, ok := errs[c.Name]; ok && len(errs) == 1 {
			return err
		}
		return partial("start", c.Name, errs)
	})
}

// requiredBy returns name and every container it requires, directly or not.
func requiredBy(byName map[string]*model.Container, name string) map[string]bool {
	out := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if out[n] {
			return
		}
		out[n] = true
		if c := byName[n]; c != nil {
			for _, dep := range c.Requires {
				visit(dep)
			}
		}
	}
	visit(name)
	return out
}

// StopContainer stops one container; its dependents keep running.
func (e *Engine) StopContainer(ctx context.Context, tenant, ref string, opts StopOptions) error {
	return e.withContainer(tenant, ref, func(pod *model.Pod, _ []*model.Container, c *model.Container) error {
		if err := e.stopContainer(ctx, pod, c, opts.Timeout); err != nil {
			return err
		}
		e.emit(containerEvent(pod, c, "stop"))
		return nil
	})
}

// RestartContainer stops and starts one container.
func (e *Engine) RestartContainer(ctx context.Context, tenant, ref string, opts StopOptions) error {
	return e.withContainer(tenant, ref, func(pod *model.Pod, _ []*model.Container, c *model.Container) error {
		if err := e.stopContainer(ctx, pod, c, opts.Timeout); err != nil {
			return err
		}
		if err := e.startContainer(ctx, pod, c); err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		e.emit(containerEvent(pod, c, "restart"))
		return nil
	})
}

// KillContainer sends a signal to one container.
func (e *Engine) KillContainer(ctx context.Context, tenant, ref, signal string) error {
	sig, err := ParseSignal(signal)
	if err != nil {
		return err
	}
	return e.withContainer(tenant, ref, func(pod *model.Pod, _ []*model.Container, c *model.Container) error {
		if !hasProcess(c) {
			return fmt.Errorf("kill container %s: %w", c.Name, ErrNotRunning)
		}
		if err := e.kill(ctx, c, sig, pod.Shares(model.NamespacePID)); err != nil {
			return err
		}
		ev := containerEvent(pod, c, "kill")
		ev.Attributes = map[string]string{"signal": sig.String()}
		e.emit(ev)
		return nil
	})
}

// WaitContainer blocks until the container is not running and returns its
// exit code. It does not hold the pod's lock while waiting.
func (e *Engine) WaitContainer(ctx context.Context, tenant, ref string) (int, error) {
	c, err := e.LookupContainer(tenant, ref)
	if err != nil {
		return -1, err
	}
	for {
		exited := e.exits.next(c.ID)
		c, err = e.getContainer(c.ID)
		if err != nil {
			return -1, err
		}
		if !hasProcess(c) {
			return c.Status.ExitCode, nil
		}
		if e.waitExit(ctx, c, exited, killGrace) {
			continue
		}
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
	}
}
