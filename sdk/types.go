package sdk

import "strings"

// Plugin is the plugin's own entry in every hook input: its name and the
// config from its manifest.
type Plugin struct {
	Name   string
	Config Config
}

// Pod is the pod a hook call is about.
type Pod struct {
	ID     string
	Name   string
	Labels map[string]string
	Tenant string // owner tenant, empty on a host without tenants
}

// Container is the container a hook call is about. The pre_start input
// fills every field; post_stop and inspect inputs may fill only ID, Name
// and Image, leaving the rest at their zero values.
type Container struct {
	ID          string
	Name        string
	Image       string
	Command     []string
	Env         []string // "NAME=value" entries, in the order the spec has them
	Labels      map[string]string
	Annotations map[string]string
	User        string
	WorkDir     string
	Init        bool // an init container, run before the others on pod start
	Infra       bool // the pod's infra container, which holds its namespaces
	Mounts      []Mount
	Rlimits     []Rlimit
	Resources   Resources
}

// Getenv returns the value of the last entry of c.Env named name, and
// whether there is one.
func (c *Container) Getenv(name string) (string, bool) {
	for i := len(c.Env) - 1; i >= 0; i-- {
		key, value, found := strings.Cut(c.Env[i], "=")
		if key == name {
			return value, found
		}
	}
	return "", false
}

// ContainerSummary is one entry of PreStart.Containers.
type ContainerSummary struct {
	Name  string
	Image string
	Init  bool
}

// Mount is a mount of a container, in the input and in a pre_start change.
type Mount struct {
	Type        string // "bind", "tmpfs", ...
	Source      string // host path of a bind mount; empty for tmpfs
	Destination string // path inside the container
	ReadOnly    bool
}

// RlimitInfinity is the value of an unlimited rlimit (RLIM_INFINITY). An
// input value of -1 is read as RlimitInfinity too.
const RlimitInfinity = ^uint64(0)

// Rlimit is a process resource limit, such as RLIMIT_NOFILE.
type Rlimit struct {
	Type string // "RLIMIT_NOFILE", "RLIMIT_NPROC", ...
	Soft uint64
	Hard uint64
}

// Resources are a container's cgroup limits. Zero means no limit in an
// input, and "leave unchanged" in a change.
type Resources struct {
	MemoryLimit int64  // bytes
	CPUShares   uint64 // relative weight, as in cgroup v1 cpu.shares
	PidsLimit   int64  // maximum number of processes
}

// PreStart is the input of the pre_start hook: a container is about to
// start.
type PreStart struct {
	Plugin     Plugin
	Pod        Pod
	Container  Container
	Containers []ContainerSummary // every container of the pod
}

// PostStop is the input of the post_stop hook: a container's process has
// exited and the exit is recorded.
type PostStop struct {
	Plugin     Plugin
	Pod        Pod
	Container  Container // ID, Name and Image are filled
	ExitCode   int
	Signal     int  // the signal that ended the process, or 0
	OOMKilled  bool // the kernel's OOM killer ended the process
	StartedAt  string
	FinishedAt string // RFC 3339, as the daemon wrote it
	RunTimeMS  int64  // run time in milliseconds
}

// Inspect kinds: what an inspect call is about.
const (
	KindPod       = "pod"
	KindContainer = "container"
)

// Inspect is the input of the inspect hook, which adds a plugin's data to
// `podplug inspect` output.
type Inspect struct {
	Plugin    Plugin
	Kind      string // KindPod or KindContainer
	Pod       Pod
	Container *Container // nil when Kind is KindPod
}

// ValidateConfig is the input of the validate_config hook, called when the
// plugin is installed or enabled.
type ValidateConfig struct {
	Plugin Plugin
}
