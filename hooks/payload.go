package hooks

// The hook payloads, as sdk/ABI.md defines them. Field names are part of
// the ABI: plugins in any language read and write them.

// Hook names as the manifest and the CLI spell them.
const (
	HookPreStart = "pre-start"
	HookPostStop = "post-stop"
	HookInspect  = "inspect"
)

// PluginRef gives a plugin its name and config.
type PluginRef struct {
	Name   string `json:"name"`
	Config any    `json:"config"`
}

// PodInfo describes the pod a hook runs for.
type PodInfo struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Tenant string            `json:"tenant"`
}

// Mount is a mount in a payload.
type Mount struct {
	Type        string `json:"type"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only,omitempty"`
}

// Rlimit is a resource limit in a payload.
type Rlimit struct {
	Type string `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// Resources are a container's cgroup limits in a payload; 0 means unset.
type Resources struct {
	MemoryLimit int64  `json:"memory_limit"`
	CPUShares   uint64 `json:"cpu_shares"`
	PidsLimit   int64  `json:"pids_limit"`
}

// ContainerInfo describes the container a hook runs for.
type ContainerInfo struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Image       string            `json:"image"`
	Command     []string          `json:"command,omitempty"`
	Env         []string          `json:"env,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	User        string            `json:"user,omitempty"`
	WorkDir     string            `json:"work_dir,omitempty"`
	Init        bool              `json:"init"`
	Infra       bool              `json:"infra"`
	Mounts      []Mount           `json:"mounts,omitempty"`
	Rlimits     []Rlimit          `json:"rlimits,omitempty"`
	Resources   *Resources        `json:"resources,omitempty"`
}

// Member is one container of the pod in a pre-start payload.
type Member struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Init  bool   `json:"init"`
}

// PreStartInput is the input of the pre_start hook.
type PreStartInput struct {
	Hook       string        `json:"hook"`
	Plugin     PluginRef     `json:"plugin"`
	Pod        PodInfo       `json:"pod"`
	Container  ContainerInfo `json:"container"`
	Containers []Member      `json:"containers"`
}

// Changes are the container changes pre-start plugins request.
type Changes struct {
	Env         map[string]string `json:"env,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Mounts      []Mount           `json:"mounts,omitempty"`
	Rlimits     []Rlimit          `json:"rlimits,omitempty"`
	Resources   *Resources        `json:"resources,omitempty"`
}

// Empty reports whether c changes nothing.
func (c *Changes) Empty() bool {
	return len(c.Env) == 0 && len(c.Labels) == 0 && len(c.Annotations) == 0 &&
		len(c.Mounts) == 0 && len(c.Rlimits) == 0 && c.Resources == nil
}

// PostStopInput is the input of the post_stop hook.
type PostStopInput struct {
	Hook       string        `json:"hook"`
	Plugin     PluginRef     `json:"plugin"`
	Pod        PodInfo       `json:"pod"`
	Container  ContainerInfo `json:"container"`
	ExitCode   int           `json:"exit_code"`
	Signal     int           `json:"signal"`
	OOMKilled  bool          `json:"oom_killed"`
	StartedAt  string        `json:"started_at"`
	FinishedAt string        `json:"finished_at"`
	RunTimeMS  int64         `json:"run_time_ms"`
}

// InspectInput is the input of the inspect hook.
type InspectInput struct {
	Hook      string         `json:"hook"`
	Plugin    PluginRef      `json:"plugin"`
	Kind      string         `json:"kind"` // pod or container
	Pod       PodInfo        `json:"pod"`
	Container *ContainerInfo `json:"container,omitempty"`
}

// result is a hook's result.
type result struct {
	Status  string   `json:"status"`
	Message string   `json:"message,omitempty"`
	Changes *Changes `json:"changes,omitempty"`
	Data    any      `json:"data,omitempty"`
}
