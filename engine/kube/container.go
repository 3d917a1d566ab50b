package kube

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"go.podman.io/common/pkg/capabilities"
	v1 "k8s.io/api/core/v1"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/network"
)

func (t *translator) translateContainers() error {
	t.byName = map[string]int{}
	for i := range t.pod.Spec.InitContainers {
		path := fmt.Sprintf("spec.initContainers[%d]", i)
		if err := t.addContainer(&t.pod.Spec.InitContainers[i], path, true); err != nil {
			return err
		}
	}
	for i := range t.pod.Spec.Containers {
		path := fmt.Sprintf("spec.containers[%d]", i)
		if err := t.addContainer(&t.pod.Spec.Containers[i], path, false); err != nil {
			return err
		}
	}
	if len(t.out.Spec.Publish) > 0 && t.out.Spec.Network == "" {
		// Named, so a host without bridge networking gets an error about
		// bridge networking rather than one about publishing.
		t.out.Spec.Network = model.NetworkBridge
	}
	return nil
}

// addContainer translates one container. init selects the rules of init
// containers, which take an init mode instead of a restart policy.
func (t *translator) addContainer(c *v1.Container, path string, init bool) error {
	if err := t.checkContainerName(c.Name, path); err != nil {
		return err
	}
	if c.Image == "" {
		return t.invalid(path+".image", "missing: every container needs an image")
	}
	if c.ImagePullPolicy == v1.PullAlways {
		t.warn(path+".imagePullPolicy", "play does not pull images: the stored image %s is used", c.Image)
	}
	spec := engine.ContainerSpec{Pod: t.out.Name, Name: ContainerName(t.out.Name, c.Name),
		Image: c.Image}
	ctr := container{}
	steps := []func() error{
		func() error { return t.containerProcess(c, path, &spec) },
		func() error { return t.containerLifecycle(c, path, init, &spec) },
		func() error { return t.containerSecurity(c, path, &spec) },
		func() error { return t.containerPorts(c, path) },
		func() error { return t.containerLimits(c, path, init) },
		func() error { return t.containerMounts(c, path, &ctr) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	ctr.spec = spec
	t.byName[c.Name] = len(t.out.containers)
	t.out.containers = append(t.out.containers, ctr)
	return nil
}

func (t *translator) checkContainerName(name, path string) error {
	if name == "" {
		return t.invalid(path+".name", "missing: every container needs a name")
	}
	if !validName.MatchString(name) {
		return t.invalid(path+".name", "%q: use letters, digits, _ . - and start with a letter or digit",
			name)
	}
	if _, dup := t.byName[name]; dup {
		return t.invalid(path+".name", "%s: another container of pod %s has this name", name, t.out.Name)
	}
	return nil
}

// containerProcess sets the environment, command and working directory.
// As in Kubernetes, command replaces the image's entrypoint and drops its
// cmd, args replace the cmd, and $(VAR) in either is expanded from the
// container's environment.
func (t *translator) containerProcess(c *v1.Container, path string, spec *engine.ContainerSpec) error {
	env, vars, err := t.env(c, path)
	if err != nil {
		return err
	}
	spec.Env = env
	spec.Entrypoint = expandAll(c.Command, vars)
	spec.Command = expandAll(c.Args, vars)
	if c.WorkingDir != "" && !filepath.IsAbs(c.WorkingDir) {
		return t.invalid(path+".workingDir", "%q must be an absolute path", c.WorkingDir)
	}
	spec.WorkDir = c.WorkingDir
	return nil
}

// containerLifecycle sets the init mode or restart policy, stop signal and
// stop timeout.
func (t *translator) containerLifecycle(c *v1.Container, path string, init bool,
	spec *engine.ContainerSpec) error {
	switch {
	case init && c.RestartPolicy != nil:
		return t.unsupported(path+".restartPolicy",
			"init containers that keep running (sidecars) are not supported: "+
				"make it an ordinary container under spec.containers")
	case init:
		spec.InitMode = model.InitOnce
	case c.RestartPolicy != nil:
		policy := v1.RestartPolicy(*c.RestartPolicy)
		switch policy {
		case v1.RestartPolicyAlways, v1.RestartPolicyOnFailure, v1.RestartPolicyNever:
		default:
			return t.invalid(path+".restartPolicy", "%q: use Always, OnFailure or Never", policy)
		}
		spec.Restart = restartPolicy(policy)
	default:
		spec.Restart = restartPolicy(t.pod.Spec.RestartPolicy)
	}

	if g := t.pod.Spec.TerminationGracePeriodSeconds; g != nil {
		timeout := uint(min(*g, math.MaxUint32))
		spec.StopTimeout = &timeout
	}
	if c.Lifecycle != nil && c.Lifecycle.StopSignal != nil {
		signal := string(*c.Lifecycle.StopSignal)
		if _, err := engine.ParseSignal(signal); err != nil {
			return t.invalid(path+".lifecycle.stopSignal", "%q: use a name such as SIGTERM", signal)
		}
		spec.StopSignal = signal
	}
	return nil
}

// userSettings are the securityContext fields that pick the process's user.
type userSettings struct {
	uid, gid    *int64
	nonRoot     *bool
	uidPath     string
	gidPath     string
	nonRootPath string
}

func podSecurity(sc *v1.PodSecurityContext) userSettings {
	if sc == nil {
		return userSettings{}
	}
	return userSettings{uid: sc.RunAsUser, gid: sc.RunAsGroup, nonRoot: sc.RunAsNonRoot}
}

// userSettings checks the ids of one securityContext at path and records
// where each came from.
func (t *translator) userSettings(path string, u userSettings) (userSettings, error) {
	for _, id := range []struct {
		value *int64
		name  string
		path  *string
	}{{u.uid, "runAsUser", &u.uidPath}, {u.gid, "runAsGroup", &u.gidPath}} {
		if id.value == nil {
			continue
		}
		*id.path = path + "." + id.name
		if *id.value < 0 || *id.value > math.MaxUint32 {
			return u, t.invalid(*id.path, "%d: use an id from 0 to %d", *id.value, uint32(math.MaxUint32))
		}
	}
	if u.nonRoot != nil {
		u.nonRootPath = path + ".runAsNonRoot"
	}
	return u, nil
}

// merge returns the pod's settings overridden by the container's.
func (u userSettings) merge(ctr userSettings) userSettings {
	if ctr.uid != nil {
		u.uid, u.uidPath = ctr.uid, ctr.uidPath
	}
	if ctr.gid != nil {
		u.gid, u.gidPath = ctr.gid, ctr.gidPath
	}
	if ctr.nonRoot != nil {
		u.nonRoot, u.nonRootPath = ctr.nonRoot, ctr.nonRootPath
	}
	return u
}

// containerSecurity sets the user, privileges and capabilities.
func (t *translator) containerSecurity(c *v1.Container, path string, spec *engine.ContainerSpec) error {
	sc := c.SecurityContext
	ctrUser := userSettings{}
	if sc != nil {
		ctrUser = userSettings{uid: sc.RunAsUser, gid: sc.RunAsGroup, nonRoot: sc.RunAsNonRoot}
	}
	ctrUser, err := t.userSettings(path+".securityContext", ctrUser)
	if err != nil {
		return err
	}
	user, err := t.user(t.podUser.merge(ctrUser))
	if err != nil {
		return err
	}
	spec.User = user
	if sc == nil {
		return nil
	}

	spec.Privileged = sc.Privileged != nil && *sc.Privileged
	spec.ReadOnlyRootfs = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
	if sc.Capabilities == nil {
		return nil
	}

	capsPath := path + ".securityContext.capabilities"
	for _, list := range []struct {
		caps []v1.Capability
		name string
		dst  *[]string
	}{{sc.Capabilities.Add, "add", &spec.CapAdd}, {sc.Capabilities.Drop, "drop", &spec.CapDrop}} {
		for _, capability := range list.caps {
			*list.dst = append(*list.dst, string(capability))
		}
		if _, err := capabilities.NormalizeCapabilities(*list.dst); err != nil {
			return t.invalid(capsPath+"."+list.name, "%v: use names such as NET_ADMIN or ALL", err)
		}
	}
	return nil
}

// user returns the engine's user option, "UID" or "UID:GID", or "" for the
// image's user.
func (t *translator) user(u userSettings) (string, error) {
	if u.nonRoot != nil && *u.nonRoot && (u.uid == nil || *u.uid == 0) {
		return "", t.unsupported(u.nonRootPath, "runAsNonRoot needs a runAsUser other than 0: "+
			"podplug does not check the image's user")
	}
	switch {
	case u.uid != nil && u.gid != nil:
		return fmt.Sprintf("%d:%d", *u.uid, *u.gid), nil
	case u.uid != nil:
		return fmt.Sprintf("%d", *u.uid), nil
	case u.gid != nil:
		return "", t.unsupported(u.gidPath,
			"runAsGroup without runAsUser is not supported: set runAsUser too")
	}
	return "", nil
}

// containerPorts publishes the ports that have a hostPort on the pod. With
// hostNetwork a port is the host's already, so nothing is published.
func (t *translator) containerPorts(c *v1.Container, path string) error {
	for i, p := range c.Ports {
		portPath := fmt.Sprintf("%s.ports[%d]", path, i)
		if p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return t.invalid(portPath+".containerPort", "%d: use a port from 1 to 65535", p.ContainerPort)
		}
		if p.HostPort < 0 || p.HostPort > 65535 {
			return t.invalid(portPath+".hostPort", "%d: use a port from 1 to 65535", p.HostPort)
		}
		protocol := strings.ToLower(string(p.Protocol))
		switch protocol {
		case "":
			protocol = "tcp"
		case "tcp", "udp":
		case "sctp":
			return t.unsupported(portPath+".protocol", "SCTP is not supported: use TCP or UDP")
		default:
			return t.invalid(portPath+".protocol", "%q: use TCP or UDP", p.Protocol)
		}
		if p.HostPort == 0 {
			continue
		}
		if t.pod.Spec.HostNetwork {
			if p.HostPort != p.ContainerPort {
				return t.invalid(portPath+".hostPort", "%d: with hostNetwork it must equal containerPort %d",
					p.HostPort, p.ContainerPort)
			}
			continue
		}
		publish := fmt.Sprintf("%d:%d/%s", p.HostPort, p.ContainerPort, protocol)
		if p.HostIP != "" {
			publish = p.HostIP + ":" + publish
		}
		if _, err := network.ParsePublish(publish); err != nil {
			return t.invalid(portPath, "%v", err)
		}
		t.out.Spec.Publish = append(t.out.Spec.Publish, publish)
	}
	return nil
}
