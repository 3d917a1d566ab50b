// Package model defines the records podplug keeps for pods, containers,
// images and events. The store persists them as they are and the engine
// changes them; neither the API nor the CLI depends on anything else to
// describe a pod.
package model

import "time"

// Owner is the subject that created an object. Names are unique per tenant.
type Owner struct {
	UID    uint32 `json:"uid"`
	Tenant string `json:"tenant,omitempty"`
}

// Network modes for a pod.
const (
	NetworkNone = "none" // own network namespace with only loopback up
	NetworkHost = "host" // the host's network namespace
	// NetworkBridge gives the pod an address on podplug's bridge through
	// the CNI plugins, with ports published on the host.
	NetworkBridge = "bridge"
)

// PortMapping publishes a pod port on the host.
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

// NetworkStatus is a pod's attachment to the bridge while its infra runs.
type NetworkStatus struct {
	Address string        `json:"address"`
	Gateway string        `json:"gateway"`
	Ports   []PortMapping `json:"ports,omitempty"`
}

// Exit policies for a pod.
const (
	ExitPolicyContinue = "continue" // the pod keeps running when its containers exit
	ExitPolicyStop     = "stop"     // the pod stops when its last ordinary container exits
)

// Namespaces a pod's containers can share through the infra container.
const (
	NamespaceIPC    = "ipc"
	NamespaceNet    = "net"
	NamespaceUTS    = "uts"
	NamespacePID    = "pid"
	NamespaceCgroup = "cgroup"
)

// Pod is a group of containers that share namespaces and a cgroup parent.
type Pod struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Owner      Owner             `json:"owner"`
	Labels     map[string]string `json:"labels,omitempty"`
	Hostname   string            `json:"hostname,omitempty"`
	Infra      bool              `json:"infra"`
	InfraID    string            `json:"infraId,omitempty"`
	Share      []string          `json:"share,omitempty"`
	ExitPolicy string            `json:"exitPolicy"`
	Network    string            `json:"network"`
	// Publish lists ports published on the host; bridge networking only.
	Publish []PortMapping `json:"publish,omitempty"`
	// NetworkStatus is set while the pod is attached to the bridge.
	NetworkStatus *NetworkStatus `json:"networkStatus,omitempty"`
	// CPUs is the pod's CPU limit in cores; 0 means no limit.
	CPUs float64 `json:"cpus,omitempty"`
	// MemoryBytes is the pod's memory limit; 0 means no limit.
	MemoryBytes  int64     `json:"memoryBytes,omitempty"`
	CgroupParent string    `json:"cgroupParent"`
	CreatedAt    time.Time `json:"createdAt"`
	// Removing is set while `pod rm` runs, so a daemon that crashed in the
	// middle finishes the removal when it starts again.
	Removing bool `json:"removing,omitempty"`
	// IDMap, when set, runs the pod's containers in a user namespace that
	// maps container ids 0 to Size-1 onto the host range it gives. It is
	// fixed when the pod is created.
	IDMap *IDMap `json:"idMap,omitempty"`
}

// IDMap maps container uids and gids 0 to Size-1 onto host uids starting at
// HostUID and host gids starting at HostGID.
type IDMap struct {
	HostUID uint32 `json:"hostUid"`
	HostGID uint32 `json:"hostGid"`
	Size    uint32 `json:"size"`
}

// Overlaps reports whether m and other share a host uid or a host gid.
func (m IDMap) Overlaps(other IDMap) bool {
	return rangesOverlap(m.HostUID, m.Size, other.HostUID, other.Size) ||
		rangesOverlap(m.HostGID, m.Size, other.HostGID, other.Size)
}

func rangesOverlap(a, aSize, b, bSize uint32) bool {
	return uint64(a) < uint64(b)+uint64(bSize) && uint64(b) < uint64(a)+uint64(aSize)
}

// Shares reports whether the pod's containers share namespace ns.
func (p *Pod) Shares(ns string) bool {
	for _, s := range p.Share {
		if s == ns {
			return true
		}
	}
	return false
}

// ContainerState is a container's position in its lifecycle.
type ContainerState string

// Container states. Stopping and Removing are transitional: the daemon
// finishes or rolls them back when it starts again after a crash.
const (
	StateCreated  ContainerState = "created"  // defined, never started or reset
	StateRunning  ContainerState = "running"  // its process runs under conmon
	StatePaused   ContainerState = "paused"   // frozen through the freezer cgroup
	StateStopping ContainerState = "stopping" // a stop signal was sent
	StateExited   ContainerState = "exited"   // its process ended; ExitCode is set
	StateRemoving ContainerState = "removing" // being deleted
	StateError    ContainerState = "error"    // the runtime failed to start it
)

// Init container modes.
const (
	InitOnce   = "once"   // removed after its first successful run
	InitAlways = "always" // runs on every pod start
)

// Restart policy names, as podman spells them.
const (
	RestartNo        = "no"
	RestartOnFailure = "on-failure"
	RestartAlways    = "always"
)

// RestartPolicy decides whether the engine restarts a container that exits.
type RestartPolicy struct {
	Name string `json:"name"`
	// MaxRetries caps restarts for on-failure; 0 means no cap.
	MaxRetries int `json:"maxRetries,omitempty"`
}

// Mount types.
const (
	MountBind  = "bind"
	MountTmpfs = "tmpfs"
)

// Mount is a volume or tmpfs inside a container.
type Mount struct {
	Type        string `json:"type"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly,omitempty"`
}

// Container is a container's configuration and its current status.
type Container struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	PodID   string            `json:"podId"`
	Owner   Owner             `json:"owner"`
	Infra   bool              `json:"infra,omitempty"`
	Image   string            `json:"image,omitempty"`
	ImageID string            `json:"imageId,omitempty"`
	Command []string          `json:"command"`
	Env     []string          `json:"env,omitempty"`
	WorkDir string            `json:"workDir,omitempty"`
	User    string            `json:"user,omitempty"`
	Mounts  []Mount           `json:"mounts,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Requires names containers of the same pod that must run first.
	Requires []string `json:"requires,omitempty"`
	// InitMode is InitOnce or InitAlways for init containers, empty otherwise.
	InitMode string        `json:"initMode,omitempty"`
	Restart  RestartPolicy `json:"restart"`
	// Privileged gives the container every capability in the daemon's
	// bounding set and every host device, and leaves no kernel path masked
	// or read-only.
	Privileged bool `json:"privileged,omitempty"`
	// CapAdd and CapDrop change podman's default capabilities. Names are
	// stored as CAP_X; ALL stands for every capability.
	CapAdd  []string `json:"capAdd,omitempty"`
	CapDrop []string `json:"capDrop,omitempty"`
	// ReadOnlyRootfs mounts the root file system read-only; volumes and
	// tmpfs mounts stay writable unless marked read-only.
	ReadOnlyRootfs bool `json:"readOnlyRootfs,omitempty"`
	// StopSignal is a signal number; StopTimeout is in seconds.
	StopSignal  int       `json:"stopSignal"`
	StopTimeout uint      `json:"stopTimeout"`
	CreatedAt   time.Time `json:"createdAt"`

	Status ContainerStatus `json:"status"`
}

// IsInit reports whether c is an init container.
func (c *Container) IsInit() bool { return c.InitMode != "" }

// ContainerStatus is the part of a container that changes as it runs.
type ContainerStatus struct {
	State     ContainerState `json:"state"`
	PID       int            `json:"pid,omitempty"`
	ConmonPID int            `json:"conmonPid,omitempty"`
	ExitCode  int            `json:"exitCode"`
	OOMKilled bool           `json:"oomKilled,omitempty"`
	// StoppedByUser is set when a stop or kill request ended the process, so
	// restart policies leave it alone.
	StoppedByUser bool      `json:"stoppedByUser,omitempty"`
	StartedAt     time.Time `json:"startedAt,omitzero"`
	// StopDeadline is when a stop in progress escalates to SIGKILL, kept so
	// a daemon restarted in the middle of a stop honours the same timeout.
	StopDeadline time.Time `json:"stopDeadline,omitzero"`
	FinishedAt   time.Time `json:"finishedAt,omitzero"`
	RestartCount int       `json:"restartCount,omitempty"`
	// Error is the last runtime error, such as a failed start.
	Error string `json:"error,omitempty"`
	// Mounted is set while the root file system is mounted.
	Mounted bool `json:"mounted,omitempty"`
	// PluginLabels are labels pre-start plugins set at the last start.
	PluginLabels map[string]string `json:"pluginLabels,omitempty"`
}

// ImageConfig holds the defaults an image gives its containers.
type ImageConfig struct {
	Entrypoint []string          `json:"entrypoint,omitempty"`
	Cmd        []string          `json:"cmd,omitempty"`
	Env        []string          `json:"env,omitempty"`
	WorkingDir string            `json:"workingDir,omitempty"`
	User       string            `json:"user,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	StopSignal string            `json:"stopSignal,omitempty"`
}

// Image is a stored image: named layers, bottom first, and a config.
type Image struct {
	// ID is the image's digest in the form sha256:<hex>.
	ID        string      `json:"id"`
	Names     []string    `json:"names,omitempty"`
	Layers    []string    `json:"layers"`
	Config    ImageConfig `json:"config"`
	Size      int64       `json:"size"`
	CreatedAt time.Time   `json:"createdAt"`
}

// Event is one entry in the append-only event log.
type Event struct {
	// Seq orders events; the store assigns it on append.
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`   // pod, container, image, system
	Action string    `json:"action"` // create, start, stop, died, ...
	ID     string    `json:"id,omitempty"`
	Name   string    `json:"name,omitempty"`
	PodID  string    `json:"podId,omitempty"`
	// PodName lets `events --filter pod=NAME` match without a lookup.
	PodName    string            `json:"podName,omitempty"`
	Tenant     string            `json:"tenant,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}
