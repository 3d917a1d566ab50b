package engine

import (
	"context"
	"path/filepath"
	"time"

	"github.com/podplug/podplug/engine/cgroups"
	"github.com/podplug/podplug/engine/model"
)

// PodInspect is the output of `pod inspect`.
type PodInspect struct {
	ID         string            `json:"Id"`
	Name       string            `json:"Name"`
	Created    time.Time         `json:"Created"`
	State      PodState          `json:"State"`
	Owner      model.Owner       `json:"Owner"`
	Labels     map[string]string `json:"Labels,omitempty"`
	Hostname   string            `json:"Hostname"`
	ExitPolicy string            `json:"ExitPolicy"`
	Network    string            `json:"Network"`
	// Address, Gateway and Ports are set while a bridge pod runs.
	Address          string              `json:"Address,omitempty"`
	Gateway          string              `json:"Gateway,omitempty"`
	Ports            []model.PortMapping `json:"Ports,omitempty"`
	InfraContainerID string              `json:"InfraContainerId,omitempty"`
	SharedNamespaces []string            `json:"SharedNamespaces"`
	CgroupParent     string              `json:"CgroupParent"`
	CgroupVersion    string              `json:"CgroupVersion"`
	// CPUs and MemoryBytes are the pod's limits; 0 means none.
	CPUs        float64 `json:"CPUs"`
	MemoryBytes int64   `json:"MemoryBytes"`
	// IDMap is the host id range of the pod's user namespace; nil means
	// the pod's containers run in the host's user namespace.
	IDMap      *model.IDMap       `json:"IDMap,omitempty"`
	Containers []PodInspectMember `json:"Containers"`
	Plugins    map[string]any     `json:"Plugins"`
}

// PodInspectMember is one container in PodInspect.
type PodInspectMember struct {
	ID         string    `json:"Id"`
	Name       string    `json:"Name"`
	State      string    `json:"State"`
	ExitCode   int       `json:"ExitCode"`
	Infra      bool      `json:"Infra,omitempty"`
	InitMode   string    `json:"InitMode,omitempty"`
	Requires   []string  `json:"Requires,omitempty"`
	Error      string    `json:"Error,omitempty"`
	StartedAt  time.Time `json:"StartedAt,omitzero"`
	FinishedAt time.Time `json:"FinishedAt,omitzero"`
	Restarts   int       `json:"RestartCount"`
}

// InspectPod returns the pod's configuration and its containers' states.
func (e *Engine) InspectPod(ctx context.Context, tenant, ref string) (*PodInspect, error) {
	pod, err := e.LookupPod(tenant, ref)
	if err != nil {
		return nil, err
	}
	pod, ctrs, err := e.podAndContainers(pod.ID)
	if err != nil {
		return nil, err
	}
	out := &PodInspect{
		ID: pod.ID, Name: pod.Name, Created: pod.CreatedAt, State: DerivePodState(ctrs),
		Owner: pod.Owner, Labels: pod.Labels, Hostname: podHostname(pod),
		ExitPolicy: pod.ExitPolicy, Network: pod.Network, InfraContainerID: pod.InfraID,
		SharedNamespaces: append([]string{}, pod.Share...), CgroupParent: pod.CgroupParent,
		CgroupVersion: cgroups.Version(), CPUs: pod.CPUs, MemoryBytes: pod.MemoryBytes,
		IDMap: pod.IDMap, Containers: []PodInspectMember{}, Plugins: e.pluginData(ctx, pod, nil),
	}
	if ns := pod.NetworkStatus; ns != nil {
		out.Address, out.Gateway, out.Ports = ns.Address, ns.Gateway, ns.Ports
	} else if len(pod.Publish) > 0 {
		out.Ports = pod.Publish
	}
	for _, c := range ctrs {
		out.Containers = append(out.Containers, PodInspectMember{
			ID: c.ID, Name: c.Name, State: string(c.Status.State), ExitCode: c.Status.ExitCode,
			Infra: c.Infra, InitMode: c.InitMode, Requires: c.Requires, Error: c.Status.Error,
			StartedAt: c.Status.StartedAt, FinishedAt: c.Status.FinishedAt,
			Restarts: c.Status.RestartCount,
		})
	}
	return out, nil
}

// ContainerInspect is the output of `inspect`.
type ContainerInspect struct {
	ID          string                `json:"Id"`
	Name        string                `json:"Name"`
	Created     time.Time             `json:"Created"`
	PodID       string                `json:"Pod"`
	PodName     string                `json:"PodName"`
	Owner       model.Owner           `json:"Owner"`
	Image       string                `json:"ImageName"`
	ImageID     string                `json:"Image"`
	Infra       bool                  `json:"IsInfra"`
	InitMode    string                `json:"InitMode,omitempty"`
	Command     []string              `json:"Command"`
	Env         []string              `json:"Env,omitempty"`
	WorkDir     string                `json:"WorkingDir,omitempty"`
	User        string                `json:"User,omitempty"`
	Requires    []string              `json:"Requires,omitempty"`
	Restart     model.RestartPolicy   `json:"RestartPolicy"`
	StopSignal  string                `json:"StopSignal"`
	StopTimeout uint                  `json:"StopTimeout"`
	Mounts      []model.Mount         `json:"Mounts,omitempty"`
	Labels      map[string]string     `json:"Labels,omitempty"`
	State       model.ContainerStatus `json:"State"`
	LogPath     string                `json:"LogPath"`
	BundlePath  string                `json:"BundlePath"`
	Rootfs      string                `json:"Rootfs"`
	Plugins     map[string]any        `json:"Plugins"`

	// Privileged, CapAdd, CapDrop and ReadOnlyRootfs are described on
	// model.Container.
	Privileged     bool     `json:"Privileged,omitempty"`
	CapAdd         []string `json:"CapAdd,omitempty"`
	CapDrop        []string `json:"CapDrop,omitempty"`
	ReadOnlyRootfs bool     `json:"ReadOnlyRootfs,omitempty"`
}

// InspectContainer returns a container's configuration and state.
func (e *Engine) InspectContainer(ctx context.Context, tenant, ref string) (*ContainerInspect, error) {
	c, err := e.LookupContainer(tenant, ref)
	if err != nil {
		return nil, err
	}
	pod, _, err := e.podAndContainers(c.PodID)
	if err != nil {
		return nil, err
	}
	rootfs := filepath.Join(e.containerDir(c), "merged")
	if c.Infra {
		rootfs = e.infraRootfs()
	}
	return &ContainerInspect{
		ID: c.ID, Name: c.Name, Created: c.CreatedAt, PodID: c.PodID, PodName: pod.Name,
		Owner: c.Owner, Image: c.Image, ImageID: c.ImageID, Infra: c.Infra,
		InitMode: c.InitMode, Command: c.Command, Env: c.Env, WorkDir: c.WorkDir,
		User: c.User, Requires: c.Requires, Restart: c.Restart,
		Privileged: c.Privileged, CapAdd: c.CapAdd, CapDrop: c.CapDrop,
		ReadOnlyRootfs: c.ReadOnlyRootfs, StopTimeout: c.StopTimeout,
		StopSignal: signalName(c.StopSignal), Mounts: c.Mounts,
		Labels: c.Labels, State: c.Status, LogPath: e.logPath(c), BundlePath: e.bundleDir(c),
		Rootfs: rootfs, Plugins: e.pluginData(ctx, pod, c),
	}, nil
}
