package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/oci"
	"github.com/podplug/podplug/engine/spec"
	"github.com/podplug/podplug/store"
)

// startContainer creates and starts one container; the caller holds the
// pod's lock. A running or paused container is left as it is.
func (e *Engine) startContainer(ctx context.Context, pod *model.Pod, c *model.Container) error {
	unlock := e.ctrLocks.lock(c.ID)
	defer unlock()
	c, err := e.getContainer(c.ID)
	if err != nil {
		return err
	}
	switch c.Status.State {
	case model.StateRunning, model.StatePaused:
		return nil
	case model.StateStopping, model.StateRemoving:
		return fmt.Errorf("start container %s: it is %s: %w", c.Name, c.Status.State, ErrConflict)
	}
	created, err := e.createInRuntime(ctx, pod, c)
	startedAt := time.Now()
	if err == nil {
		err = e.rt.Start(ctx, c.ID)
	}
	if err != nil {
		e.markFailed(ctx, pod, c, err)
		return fmt.Errorf("start container %s: %w", c.Name, err)
	}
	started := containerEvent(pod, c, "start")
	err = e.updateAndRecord(c.ID, started, func(c *model.Container) {
		c.Status = model.ContainerStatus{
			State: model.StateRunning, PID: created.PID, ConmonPID: created.ConmonPID,
			StartedAt: startedAt, RestartCount: c.Status.RestartCount, Mounted: true,
			PluginLabels: c.Status.PluginLabels,
		}
	})
	if err != nil {
		return fmt.Errorf("start container %s: record state: %w", c.Name, err)
	}
	if c.Infra {
		if err := e.attachNetwork(ctx, pod, created.PID); err != nil {
			e.killInfra(pod, c)
			return fmt.Errorf("start container %s: %w", c.Name, err)
		}
	}
	return nil
}

// killInfra stops an infra container whose network could not be set up;
// the caller holds its container lock, so the exit is recorded here.
func (e *Engine) killInfra(pod *model.Pod, c *model.Container) {
	ctx := context.WithoutCancel(e.ctx)
	_ = e.rt.Kill(ctx, c.ID, sigKILL, false)
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		e.onExit(c.ID)
	}()
}

// markFailed records a failed start and releases what the attempt took.
func (e *Engine) markFailed(ctx context.Context, pod *model.Pod, c *model.Container, cause error) {
	_ = e.rt.Delete(context.WithoutCancel(ctx), c.ID, true)
	if !c.Infra {
		_ = image.UnmountRootfs(e.containerDir(c))
	}
	err := e.updateContainer(c.ID, func(c *model.Container) {
		c.Status.State = model.StateError
		c.Status.Error = cause.Error()
		c.Status.Mounted = false
		c.Status.PID = 0
	})
	if err != nil {
		e.log.Error("record failed start", "container", c.Name, "error", err)
	}
	ev := containerEvent(pod, c, "start-failed")
	ev.Attributes = map[string]string{"error": cause.Error()}
	e.emit(ev)
}

func (e *Engine) getContainer(id string) (*model.Container, error) {
	var c *model.Container
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		c, err = tx.GetContainer(id)
		return err
	})
	return c, err
}

// createInRuntime mounts the root file system, writes the bundle and has
// conmon create the container.
func (e *Engine) createInRuntime(ctx context.Context, pod *model.Pod,
	c *model.Container) (oci.Created, error) {
	if e.rt.Exists(c.ID) {
		if err := e.rt.Delete(ctx, c.ID, true); err != nil {
			return oci.Created{}, err
		}
	}
	rootfs, err := e.mountRootfs(ctx, pod, c)
	if err != nil {
		return oci.Created{}, err
	}
	s, err := e.generateSpec(pod, c, rootfs)
	if err != nil {
		return oci.Created{}, err
	}
	if err := e.runPreStart(ctx, pod, c, s); err != nil {
		return oci.Created{}, err
	}
	if err := e.runStartCheck(ctx, pod, c, s); err != nil {
		return oci.Created{}, err
	}
	bundle := e.bundleDir(c)
	if err := writeBundle(bundle, s); err != nil {
		return oci.Created{}, err
	}
	if err := os.MkdirAll(e.containerDir(c), 0o700); err != nil {
		return oci.Created{}, err
	}
	return e.rt.Create(ctx, oci.CreateOptions{ID: c.ID, Bundle: bundle, LogPath: e.logPath(c)})
}

func (e *Engine) mountRootfs(ctx context.Context, pod *model.Pod, c *model.Container) (string, error) {
	if pod.IDMap != nil {
		if err := e.openRootForUserNS(); err != nil {
			return "", fmt.Errorf("container %s: %w", c.Name, err)
		}
	}
	if c.Infra {
		return e.infraRootfs(), nil
	}
	var img *model.Image
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		img, err = tx.GetImage(c.ImageID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("image %s of container %s: %w", c.Image, c.Name, err)
	}
	if pod.IDMap != nil {
		return e.mountShiftedRootfs(ctx, pod, c, img)
	}
	if err := makePrivateDir(e.containerDir(c)); err != nil {
		return "", fmt.Errorf("container %s: %w", c.Name, err)
	}
	return image.MountRootfs(e.images.LayerDirs(img), e.containerDir(c))
}

func writeBundle(dir string, s *specs.Spec) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create bundle: %w", err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode OCI spec: %w", err)
	}
	tmp := filepath.Join(dir, "config.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write OCI spec: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "config.json"))
}

// generateSpec builds the OCI spec: namespaces from the infra container,
// the pod's cgroup parent, /etc/hosts and /etc/hostname of the pod.
func (e *Engine) generateSpec(pod *model.Pod, c *model.Container, rootfs string) (*specs.Spec, error) {
	opts := spec.Options{
		Container: c, Pod: pod, Rootfs: rootfs, ReadOnly: c.Infra,
		CgroupsPath: pod.CgroupParent + "/" + c.ID,
		Hostname:    podHostname(pod), IDMap: pod.IDMap,
	}
	if err := e.setNamespaces(pod, c, &opts); err != nil {
		return nil, err
	}
	files, err := e.writePodFiles(pod)
	if err != nil {
		return nil, err
	}
	opts.ExtraMounts = files
	if !c.Infra {
		uid, gid, groups, err := spec.ResolveUser(rootfs, c.User)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", c.Name, err)
		}
		opts.UID, opts.GID, opts.AdditionalGids = uid, gid, groups
	}
	return spec.Generate(opts)
}

func podHostname(pod *model.Pod) string {
	if pod.Hostname != "" {
		return pod.Hostname
	}
	return pod.Name
}

// nsTypes maps the pod's shareable namespaces to OCI namespace types and
// the names of their files under /proc/PID/ns.
var nsTypes = map[string]struct {
	oci  specs.LinuxNamespaceType
	proc string
}{
	model.NamespaceIPC:    {specs.IPCNamespace, "ipc"},
	model.NamespaceNet:    {specs.NetworkNamespace, "net"},
	model.NamespaceUTS:    {specs.UTSNamespace, "uts"},
	model.NamespacePID:    {specs.PIDNamespace, "pid"},
	model.NamespaceCgroup: {specs.CgroupNamespace, "cgroup"},
}

// setNamespaces gives the container new namespaces and, in a pod whose
// infra shares some, the paths of the infra's to join. In a pod with an id
// map, a container that joins any of the infra's namespaces joins its user
// namespace too, because setns(2) needs CAP_SYS_ADMIN in the user namespace
// that owns the target, which a user namespace of its own would not give.
// Other containers of such a pod get their own user namespace with the
// same map.
func (e *Engine) setNamespaces(pod *model.Pod, c *model.Container, opts *spec.Options) error {
	opts.New = []specs.LinuxNamespaceType{specs.MountNamespace, specs.PIDNamespace,
		specs.IPCNamespace, specs.UTSNamespace}
	if pod.IDMap != nil {
		opts.New = append(opts.New, specs.UserNamespace)
	}
	if pod.Network != model.NetworkHost {
		opts.New = append(opts.New, specs.NetworkNamespace)
	}
	if c.Infra && pod.Shares(model.NamespaceCgroup) {
		opts.New = append(opts.New, specs.CgroupNamespace)
	}
	if c.Infra || !pod.Infra || len(pod.Share) == 0 {
		return nil
	}

	infra, err := e.getContainer(pod.InfraID)
	if err != nil {
		return fmt.Errorf("infra container of pod %s: %w", pod.Name, err)
	}
	if infra.Status.State != model.StateRunning && infra.Status.State != model.StatePaused {
		return fmt.Errorf("infra container of pod %s is not running: start the pod: %w",
			pod.Name, ErrNotRunning)
	}

	opts.Join = map[specs.LinuxNamespaceType]string{}
	for _, ns := range pod.Share {
		t := nsTypes[ns]
		if ns == model.NamespaceNet && pod.Network == model.NetworkHost {
			continue
		}
		opts.Join[t.oci] = fmt.Sprintf("/proc/%d/ns/%s", infra.Status.PID, t.proc)
	}
	if pod.IDMap != nil && len(opts.Join) > 0 {
		opts.Join[specs.UserNamespace] = fmt.Sprintf("/proc/%d/ns/user", infra.Status.PID)
	}
	return nil
}

// writePodFiles writes the pod's /etc/hosts and /etc/hostname and returns
// the bind mounts that put them into a container.
func (e *Engine) writePodFiles(pod *model.Pod) ([]specs.Mount, error) {
	dir := e.podRunDir(pod)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pod %s: %w", pod.Name, err)
	}
	host := podHostname(pod)
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost %s\n::1\tlocalhost %s\n", host, host)
	files := map[string]string{"hosts": hosts, "hostname": host + "\n"}
	if pod.Network == model.NetworkHost {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			files["hosts"] = string(data)
		}
		if data, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			files["resolv.conf"] = string(data)
		}
	}
	var mounts []specs.Mount
	for _, name := range []string{"hosts", "hostname", "resolv.conf"} {
		content, ok := files[name]
		if !ok {
			continue
		}
		path := filepath.Join(dir, name)
		if err := writeIfChanged(path, content); err != nil {
			return nil, fmt.Errorf("pod %s: %w", pod.Name, err)
		}
		mounts = append(mounts, specs.Mount{Destination: "/etc/" + name, Type: "bind",
			Source: path, Options: []string{"bind", "ro", "rprivate"}})
	}
	return mounts, nil
}

// writeIfChanged replaces path atomically. Containers of a pod without
// infra start in parallel and each writes the pod's files, so every writer
// needs its own temporary file.
func writeIfChanged(path, content string) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == content {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(content)
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// StopOptions tune stop operations.
type StopOptions struct {
	// Timeout overrides each container's stop timeout, in seconds.
	Timeout *uint `json:"timeout,omitempty"`
}

// killGrace is how long stop waits for a container after SIGKILL.
const killGrace = 30 * time.Second

// stopContainer sends the stop signal, waits up to the timeout, then kills.
// A container that is not running is left alone. The caller holds the
// pod's lock. Restart policies do not restart a container stopped this way.
func (e *Engine) stopContainer(ctx context.Context, pod *model.Pod, c *model.Container, timeout *uint) error {
	c, err := e.getContainer(c.ID)
	if err != nil {
		return err
	}
	state := c.Status.State
	if state != model.StateRunning && state != model.StatePaused && state != model.StateStopping {
		return e.updateContainer(c.ID, func(c *model.Container) { c.Status.StoppedByUser = true })
	}
	exited := e.exits.next(c.ID)
	wait := time.Duration(c.StopTimeout) * time.Second
	if timeout != nil {
		wait = time.Duration(*timeout) * time.Second
	}
	err = e.updateContainer(c.ID, func(c *model.Container) {
		c.Status.State = model.StateStopping
		c.Status.StoppedByUser = true
		c.Status.StopDeadline = time.Now().Add(wait)
	})
	if err != nil {
		return err
	}
	if c.Infra {
		e.detachNetwork(ctx, pod)
	}
	all := pod.Shares(model.NamespacePID)
	sig := syscall.Signal(c.StopSignal)
	if wait == 0 {
		sig = sigKILL
	}
	if err := e.signal(ctx, c, sig, all, state == model.StatePaused); err != nil {
		return e.abortStop(c, err)
	}
	if e.waitExit(ctx, c, exited, wait) {
		return nil
	}
	if ctx.Err() != nil {
		return e.abortStop(c, ctx.Err())
	}
	if sig != sigKILL {
		e.log.Info("container ignored stop signal, killing", "container", c.Name, "timeout", wait)
		if err := e.signal(ctx, c, sigKILL, all, false); err != nil {
			return e.abortStop(c, err)
		}
	}
	if e.waitExit(ctx, c, exited, killGrace) {
		return nil
	}
	return e.abortStop(c, fmt.Errorf("still running %s after SIGKILL", killGrace))
}

// signal sends sig and, for a paused container, thaws it so the signal is
// delivered.
func (e *Engine) signal(ctx context.Context, c *model.Container, sig syscall.Signal, all, paused bool) error {
	err := e.sendSignal(ctx, c, sig, all)
	if errors.Is(err, oci.ErrNotRunning) || errors.Is(err, oci.ErrNotFound) {
		e.onExit(c.ID)
		return nil
	}
	if err != nil {
		return err
	}
	if paused {
		return e.rt.Resume(ctx, c.ID)
	}
	return nil
}

// abortStop puts a container whose stop failed back into its running state.
func (e *Engine) abortStop(c *model.Container, cause error) error {
	err := e.updateContainer(c.ID, func(c *model.Container) {
		if c.Status.State == model.StateStopping {
			c.Status.State = model.StateRunning
		}
	})
	if err != nil {
		e.log.Error("roll back stopping state", "container", c.Name, "error", err)
	}
	return fmt.Errorf("stop container %s: %w", c.Name, cause)
}

// exitPoll is the interval at which a wait queries runc whether a container it waits for
// is gone, in case its exit file never comes (conmon killed).
const exitPoll = time.Second

// waitExit waits up to d for the container's exit to be recorded and
// reports whether it was.
func (e *Engine) waitExit(ctx context.Context, c *model.Container, exited <-chan struct{},
	d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	poll := time.NewTicker(exitPoll)
	defer poll.Stop()
	for {
		select {
		case <-exited:
			return true
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		case <-poll.C:
			e.checkGone(ctx, c.ID)
		}
	}
}

// checkGone records an exit when runc no longer runs the container.
func (e *Engine) checkGone(ctx context.Context, id string) {
	st, err := e.rt.State(ctx, id)
	if errors.Is(err, oci.ErrNotFound) || (err == nil && st.Status == "stopped") {
		e.onExit(id)
	}
}
