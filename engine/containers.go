package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// ContainerSpec is a request to create a container in a pod.
type ContainerSpec struct {
	Pod   string      `json:"pod"`
	Name  string      `json:"name,omitempty"`
	Owner model.Owner `json:"owner"`
	Image string      `json:"image"`
	// Entrypoint, when not empty, replaces the image's Entrypoint and drops
	// the image's Cmd, as podman's --entrypoint and Kubernetes' command do.
	// Nil or empty keeps the image's Entrypoint.
	Entrypoint []string `json:"entrypoint,omitempty"`
	// Command replaces the image's Cmd and follows the Entrypoint in use.
	Command  []string `json:"command,omitempty"`
	Requires []string `json:"requires,omitempty"`
	// InitMode is once or always for an init container.
	InitMode    string            `json:"initMode,omitempty"`
	Restart     string            `json:"restart,omitempty"`
	StopSignal  string            `json:"stopSignal,omitempty"`
	StopTimeout *uint             `json:"stopTimeout,omitempty"`
	Env         []string          `json:"env,omitempty"`
	WorkDir     string            `json:"workDir,omitempty"`
	User        string            `json:"user,omitempty"`
	Volumes     []string          `json:"volumes,omitempty"`
	Tmpfs       []string          `json:"tmpfs,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Privileged, CapAdd, CapDrop and ReadOnlyRootfs are described on
	// model.Container. Capability names may omit the CAP_ prefix.
	Privileged     bool     `json:"privileged,omitempty"`
	CapAdd         []string `json:"capAdd,omitempty"`
	CapDrop        []string `json:"capDrop,omitempty"`
	ReadOnlyRootfs bool     `json:"readOnlyRootfs,omitempty"`
}

// defaultStopTimeout is podman's stop timeout, in seconds.
const defaultStopTimeout = 10

// CreateContainer validates spec against the pod and the image and records
// the container. Nothing is recorded when any check fails.
func (e *Engine) CreateContainer(ctx context.Context, spec ContainerSpec) (*model.Container, error) {
	if spec.Pod == "" {
		return nil, invalidf("container %s: no pod given: use --pod POD", spec.Name)
	}
	pod, err := e.LookupPod(spec.Owner.Tenant, spec.Pod)
	if err != nil {
		return nil, err
	}
	unlock := e.podLocks.lock(pod.ID)
	defer unlock()

	img, err := e.images.Lookup(spec.Image)
	if err != nil {
		return nil, fmt.Errorf("create container in pod %s: %w", pod.Name, err)
	}
	c, err := e.buildContainer(pod, img, spec)
	if err != nil {
		return nil, err
	}
	err = e.db.Update(func(tx *store.Tx) error {
		if err := checkRequires(tx, pod, c); err != nil {
			return err
		}
		return tx.PutContainer(c)
	})
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", c.Name, err)
	}
	e.emit(containerEvent(pod, c, "create"))
	return c, nil
}

func (e *Engine) buildContainer(pod *model.Pod, img *model.Image,
	spec ContainerSpec) (*model.Container, error) {
	c := &model.Container{
		ID: newID(), Name: spec.Name, PodID: pod.ID, Owner: pod.Owner,
		Image: spec.Image, ImageID: img.ID, Labels: spec.Labels,
		InitMode: spec.InitMode, CreatedAt: time.Now(),
		Status: model.ContainerStatus{State: model.StateCreated},
	}
	if c.Name == "" {
		c.Name = pod.Name + "-" + shortID(c.ID)[:6]
	}
	if !validName(c.Name) {
		return nil, invalidf("container name %q: use letters, digits, _ . - and start with a "+
			"letter or digit", c.Name)
	}
	if err := applyImageDefaults(c, img.Config, spec); err != nil {
		return nil, err
	}
	if err := e.applyRunOptions(c, spec, pod.IDMap); err != nil {
		return nil, err
	}
	return c, nil
}

func applyImageDefaults(c *model.Container, cfg model.ImageConfig, spec ContainerSpec) error {
	entrypoint := cfg.Entrypoint
	if len(spec.Entrypoint) > 0 {
		entrypoint = spec.Entrypoint
	}
	c.Command = append([]string(nil), entrypoint...)
	switch {
	case len(spec.Command) > 0:
		c.Command = append(c.Command, spec.Command...)
	case len(spec.Entrypoint) == 0:
		c.Command = append(c.Command, cfg.Cmd...)
	}
	if len(c.Command) == 0 {
		return invalidf("container %s: image %s has no command: give one after the image", c.Name, spec.Image)
	}
	c.Env = append(append([]string(nil), cfg.Env...), spec.Env...)
	for _, kv := range spec.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return invalidf("container %s: environment %q: use KEY=VALUE", c.Name, kv)
		}
	}
	c.WorkDir, c.User = cfg.WorkingDir, cfg.User
	if spec.WorkDir != "" {
		if !filepath.IsAbs(spec.WorkDir) {
			return invalidf("container %s: working directory %q must be absolute", c.Name, spec.WorkDir)
		}
		c.WorkDir = spec.WorkDir
	}
	if spec.User != "" {
		c.User = spec.User
	}
	stopSignal := spec.StopSignal
	if stopSignal == "" {
		stopSignal = cfg.StopSignal
	}
	c.StopSignal = int(sigTERM)
	if stopSignal != "" {
		sig, err := ParseSignal(stopSignal)
		if err != nil {
			return fmt.Errorf("container %s: stop %w", c.Name, err)
		}
		c.StopSignal = int(sig)
	}
	return nil
}

func (e *Engine) applyRunOptions(c *model.Container, spec ContainerSpec, ids *model.IDMap) error {
	switch spec.InitMode {
	case "", model.InitOnce, model.InitAlways:
	default:
		return invalidf("container %s: init mode %q: use once or always", c.Name, spec.InitMode)
	}
	restart, err := parseRestart(spec.Restart)
	if err != nil {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	if c.IsInit() && restart.Name != model.RestartNo {
		return invalidf("container %s: init containers take no restart policy: drop --restart", c.Name)
	}
	if c.IsInit() && len(spec.Requires) > 0 {
		return invalidf("container %s: init containers run in creation order: drop --requires", c.Name)
	}
	c.Restart = restart
	if err := applySecurity(c, spec); err != nil {
		return err
	}
	c.Requires = dedupe(spec.Requires)
	c.StopTimeout = defaultStopTimeout
	if spec.StopTimeout != nil {
		c.StopTimeout = *spec.StopTimeout
	}
	for _, v := range spec.Volumes {
		m, err := parseVolume(v)
		if err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		if err := e.checkVolumeSource(&m, ids); err != nil {
			return fmt.Errorf("container %s: %w", c.Name, err)
		}
		c.Mounts = append(c.Mounts, m)
	}
	for _, t := range spec.Tmpfs {
		if !filepath.IsAbs(t) {
			return invalidf("container %s: tmpfs path %q must be absolute", c.Name, t)
		}
		c.Mounts = append(c.Mounts, model.Mount{Type: model.MountTmpfs, Destination: filepath.Clean(t)})
	}
	return nil
}

// checkVolumeSource requires host paths to exist and points named volumes
// at their directory under the engine's root, created on first use and then
// owned by the root of ids, the pod's id map, if set.
func (e *Engine) checkVolumeSource(m *model.Mount, ids *model.IDMap) error {
	if filepath.IsAbs(m.Source) {
		if _, err := os.Stat(m.Source); err != nil {
			return invalidf("volume source %s does not exist: create it first", m.Source)
		}
		return nil
	}
	dir := filepath.Join(e.cfg.Root, "volumes", m.Source, "_data")
	if err := makeVolumeDir(dir, ids); err != nil {
		return fmt.Errorf("create volume %s: %w", m.Source, err)
	}
	m.Source = dir
	return nil
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// checkRequires accepts only ordinary containers of the same pod.
func checkRequires(tx *store.Tx, pod *model.Pod, c *model.Container) error {
	if len(c.Requires) == 0 {
		return nil
	}
	ctrs, err := tx.PodContainers(pod.ID)
	if err != nil {
		return err
	}
	byName := map[string]*model.Container{}
	for _, other := range ctrs {
		byName[other.Name] = other
	}
	for _, dep := range c.Requires {
		other, ok := byName[dep]
		if !ok {
			if elsewhere, err := tx.LookupContainer(pod.Owner.Tenant, dep); err == nil {
				return invalidf("container %s requires %s, which belongs to another pod (%s): "+
					"dependencies must be in pod %s",
					c.Name, dep, elsewhere.PodID[:12], pod.Name)
			}
			return invalidf("container %s requires %s, which is not in pod %s", c.Name, dep, pod.Name)
		}
		if other.IsInit() || other.Infra {
			return invalidf("container %s requires %s, which is an init or infra container: "+
				"require ordinary containers only",
				c.Name, dep)
		}
	}
	return nil
}

// LookupContainer finds a container by name, ID or ID prefix within tenant.
func (e *Engine) LookupContainer(tenant, ref string) (*model.Container, error) {
	if tenant == AllTenants {
		return e.lookupContainerAcross(ref)
	}
	var c *model.Container
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		c, err = tx.LookupContainer(tenant, ref)
		return err
	})
	return c, err
}

// RemoveContainerOptions tune RemoveContainer.
type RemoveContainerOptions struct {
	Force   bool
	Timeout *uint
}

// RemoveContainer deletes one container. Infra containers go with their pod,
// and a container others require stays until they are removed.
func (e *Engine) RemoveContainer(ctx context.Context, tenant, ref string, opts RemoveContainerOptions) error {
	c, err := e.LookupContainer(tenant, ref)
	if err != nil {
		return err
	}
	unlock := e.podLocks.lock(c.PodID)
	defer unlock()

	pod, ctrs, err := e.podAndContainers(c.PodID)
	if err != nil {
		return err
	}
	c = findByID(ctrs, c.ID)
	if c == nil {
		return fmt.Errorf("container %s: %w", ref, store.ErrNotFound)
	}
	if c.Infra {
		return fmt.Errorf("remove container %s: it is the infra container of pod %s: remove "+
			"the pod instead: %w",
			c.Name, pod.Name, ErrConflict)
	}
	for _, other := range ctrs {
		if contains(other.Requires, c.Name) {
			return fmt.Errorf("remove container %s: container %s requires it: remove %s first: %w",
				c.Name, other.Name, other.Name, ErrConflict)
		}
	}
	if len(activeNames([]*model.Container{c})) > 0 {
		if !opts.Force {
			return fmt.Errorf("remove container %s: it is running: stop it first or use --force: %w",
				c.Name, ErrConflict)
		}
		if err := e.stopContainer(ctx, pod, c, opts.Timeout); err != nil {
			return err
		}
	}
	return e.removeContainerLocked(ctx, pod, c)
}

func (e *Engine) removeContainerLocked(ctx context.Context, pod *model.Pod, c *model.Container) error {
	err := e.updateContainer(c.ID, func(c *model.Container) { c.Status.State = model.StateRemoving })
	if err != nil {
		return err
	}
	if err := e.removeContainerFiles(ctx, c); err != nil {
		return err
	}
	if err := e.db.Update(func(tx *store.Tx) error { return tx.DeleteContainer(c.ID) }); err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	e.ctrLocks.forget(c.ID)
	e.emit(containerEvent(pod, c, "remove"))
	return nil
}

// removeContainerFiles deletes everything a container has outside the
// store: runc's record, its root file system, bundle and logs.
func (e *Engine) removeContainerFiles(ctx context.Context, c *model.Container) error {
	unlock := e.ctrLocks.lock(c.ID)
	defer unlock()
	if err := e.rt.Delete(ctx, c.ID, true); err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	e.rt.Cleanup(c.ID)
	if err := image.UnmountRootfs(e.containerDir(c)); err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	if err := os.RemoveAll(e.containerDir(c)); err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	_ = os.RemoveAll(e.bundleDir(c))
	return nil
}

func (e *Engine) containerDir(c *model.Container) string {
	return filepath.Join(e.cfg.Root, "containers", c.ID)
}

func (e *Engine) bundleDir(c *model.Container) string {
	return filepath.Join(e.cfg.RunRoot, "bundles", c.ID)
}

func (e *Engine) logPath(c *model.Container) string {
	return filepath.Join(e.containerDir(c), "ctr.log")
}

// updateContainer applies change to the stored container in a transaction.
func (e *Engine) updateContainer(id string, change func(*model.Container)) error {
	return e.db.Update(func(tx *store.Tx) error {
		c, err := tx.GetContainer(id)
		if err != nil {
			return err
		}
		change(c)
		return tx.PutContainer(c)
	})
}

func findByID(ctrs []*model.Container, id string) *model.Container {
	for _, c := range ctrs {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
