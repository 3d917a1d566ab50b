package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/oci"
	"github.com/podplug/podplug/hooks"
	"github.com/podplug/podplug/store"
)

// Plugins returns the plugin registry and dispatcher.
func (e *Engine) Plugins() *hooks.Manager { return e.hooks }

func podInfo(pod *model.Pod) hooks.PodInfo {
	labels := pod.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return hooks.PodInfo{ID: pod.ID, Name: pod.Name, Labels: labels, Tenant: pod.Owner.Tenant}
}

func containerInfo(c *model.Container, s *specs.Spec) hooks.ContainerInfo {
	info := hooks.ContainerInfo{
		ID: c.ID, Name: c.Name, Image: c.Image, Command: c.Command, Env: c.Env,
		Labels: c.Labels, User: c.User, WorkDir: c.WorkDir, Init: c.IsInit(), Infra: c.Infra,
	}
	for _, m := range c.Mounts {
		info.Mounts = append(info.Mounts, hooks.Mount{Type: m.Type, Source: m.Source,
			Destination: m.Destination, ReadOnly: m.ReadOnly})
	}
	if s == nil {
		return info
	}
	info.Env = s.Process.Env
	info.Annotations = s.Annotations
	for _, rl := range s.Process.Rlimits {
		info.Rlimits = append(info.Rlimits, hooks.Rlimit{Type: rl.Type, Soft: rl.Soft, Hard: rl.Hard})
	}
	info.Resources = &hooks.Resources{}
	if r := s.Linux.Resources; r != nil {
		if r.Memory != nil && r.Memory.Limit != nil {
			info.Resources.MemoryLimit = *r.Memory.Limit
		}
		if r.CPU != nil && r.CPU.Shares != nil {
			info.Resources.CPUShares = *r.CPU.Shares
		}
		if r.Pids != nil && r.Pids.Limit != nil {
			info.Resources.PidsLimit = *r.Pids.Limit
		}
	}
	return info
}

// runPreStart calls the pre-start plugins for c and applies their merged
// changes to s. Plugin labels are recorded on the container's status so
// inspect shows them.
func (e *Engine) runPreStart(ctx context.Context, pod *model.Pod, c *model.Container, s *specs.Spec) error {
	if e.hooks == nil || c.Infra {
		return nil
	}
	if !e.hooks.Active(hooks.HookPreStart) && len(c.Status.PluginLabels) == 0 {
		return nil
	}
	_, ctrs, err := e.podAndContainers(pod.ID)
	if err != nil {
		return err
	}
	in := hooks.PreStartInput{Pod: podInfo(pod), Container: containerInfo(c, s)}
	for _, other := range ctrs {
		if !other.Infra {
			in.Containers = append(in.Containers, hooks.Member{Name: other.Name, Image: other.Image,
				Init: other.IsInit()})
		}
	}
	changes, _, err := e.hooks.PreStart(ctx, in)
	if err != nil {
		return fmt.Errorf("pre-start plugins: %w", err)
	}
	applyChanges(s, changes)
	var labels map[string]string
	if changes != nil {
		labels = changes.Labels
	}
	// Labels of an earlier start are cleared when no plugin sets any now.
	if len(labels) > 0 || len(c.Status.PluginLabels) > 0 {
		return e.updateContainer(c.ID, func(c *model.Container) { c.Status.PluginLabels = labels })
	}
	return nil
}

// applyChanges writes plugin changes into the OCI spec.
func applyChanges(s *specs.Spec, ch *hooks.Changes) {
	if ch == nil {
		return
	}
	for k, v := range ch.Env {
		s.Process.Env = setEnv(s.Process.Env, k, v)
	}
	if len(ch.Annotations) > 0 && s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	for k, v := range ch.Annotations {
		s.Annotations[k] = v
	}
	for _, m := range ch.Mounts {
		s.Mounts = append(s.Mounts, pluginMount(m))
	}
	for _, rl := range ch.Rlimits {
		s.Process.Rlimits = setRlimit(s.Process.Rlimits, specs.POSIXRlimit{Type: rl.Type,
			Soft: rl.Soft, Hard: rl.Hard})
	}
	applyResources(s, ch.Resources)
}

func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

func setRlimit(list []specs.POSIXRlimit, rl specs.POSIXRlimit) []specs.POSIXRlimit {
	for i := range list {
		if list[i].Type == rl.Type {
			list[i] = rl
			return list
		}
	}
	return append(list, rl)
}

func pluginMount(m hooks.Mount) specs.Mount {
	if m.Type == model.MountTmpfs {
		return specs.Mount{Destination: m.Destination, Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "mode=1777"}}
	}
	opts := []string{"rbind", "rprivate", "rw"}
	if m.ReadOnly {
		opts[2] = "ro"
	}
	return specs.Mount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: opts}
}

func applyResources(s *specs.Spec, r *hooks.Resources) {
	if r == nil {
		return
	}
	res := s.Linux.Resources
	if r.MemoryLimit > 0 {
		limit := r.MemoryLimit
		res.Memory = &specs.LinuxMemory{Limit: &limit}
	}
	if r.CPUShares > 0 {
		shares := r.CPUShares
		res.CPU = &specs.LinuxCPU{Shares: &shares}
	}
	if r.PidsLimit > 0 {
		limit := r.PidsLimit
		res.Pids = &specs.LinuxPids{Limit: &limit}
	}
}

// enqueuePostStop queues the post-stop calls for an exit inside tx, the
// transaction that records it.
func (e *Engine) enqueuePostStop(tx *store.Tx, c *model.Container, exit oci.Exit) error {
	if e.hooks == nil || c.Infra {
		return nil
	}
	pod, err := tx.GetPod(c.PodID)
	if err != nil {
		return err
	}
	in := hooks.PostStopInput{
		Pod: podInfo(pod), Container: hooks.ContainerInfo{ID: c.ID, Name: c.Name, Image: c.Image,
			Init: c.IsInit()},
		ExitCode: exit.Code, OOMKilled: exit.OOMKilled,
		StartedAt:  c.Status.StartedAt.UTC().Format(time.RFC3339Nano),
		FinishedAt: exit.Time.UTC().Format(time.RFC3339Nano),
		RunTimeMS:  exit.Time.Sub(c.Status.StartedAt).Milliseconds(),
	}
	if exit.Code > 128 && exit.Code <= 128+64 {
		in.Signal = exit.Code - 128
	}
	return e.hooks.EnqueuePostStop(tx, in)
}

// pluginData returns what inspect enrichers add for a pod or container.
func (e *Engine) pluginData(ctx context.Context, pod *model.Pod, c *model.Container) map[string]any {
	if e.hooks == nil {
		return map[string]any{}
	}
	in := hooks.InspectInput{Kind: "pod", Pod: podInfo(pod)}
	if c != nil {
		info := containerInfo(c, nil)
		in.Kind, in.Container = "container", &info
	}
	return e.hooks.Inspect(ctx, in)
}
