package policy

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Input is the document that policies read as `input`. docs/policy.md
// describes its JSON form. The engine fills only the parts an operation has.
type Input struct {
	// Operation is one of the Op constants, such as "pod.start".
	Operation string `json:"operation"`
	// Subject is the caller, as the daemon identified it from the socket.
	Subject Subject `json:"subject"`
	// Target is the object acted on. It is nil for create and list
	// operations, and set to one item when Engine.Visible filters a listing.
	Target *Target `json:"target,omitempty"`
	// Spec is the proposed spec for create and start, after plugin changes.
	Spec *Spec `json:"spec,omitempty"`
	// Request holds the caller's arguments to the operation.
	Request *Request `json:"request,omitempty"`
	// Context holds the object counts of the subject's tenant, for quotas.
	Context *Usage `json:"context,omitempty"`
}

// Subject is the caller of an operation.
type Subject struct {
	UID    int      `json:"uid"`
	GID    int      `json:"gid"`
	User   string   `json:"user"`
	Tenant string   `json:"tenant"`
	Groups []string `json:"groups"`
	// Admin is true for callers the daemon treats as host administrators.
	Admin bool `json:"admin"`
}

// Target is the object an operation acts on.
type Target struct {
	// Kind is "pod", "container", "image", "plugin" or "event".
	Kind   string            `json:"kind"`
	Name   string            `json:"name"`
	ID     string            `json:"id"`
	Owner  *Owner            `json:"owner,omitempty"`
	Labels map[string]string `json:"labels"`
	State  string            `json:"state,omitempty"`
}

// Owner identifies who created an object.
type Owner struct {
	UID    int    `json:"uid"`
	Tenant string `json:"tenant"`
}

// Spec is a proposed pod spec. For container.create, Pod is the pod the
// container joins and Containers holds the new container.
type Spec struct {
	Pod        PodSpec         `json:"pod"`
	Containers []ContainerSpec `json:"containers"`
}

// PodSpec holds the pod-level settings of a Spec.
type PodSpec struct {
	Name    string            `json:"name"`
	Labels  map[string]string `json:"labels"`
	Network string            `json:"network"`
	// Share lists the namespaces the containers share: "ipc", "net", "uts".
	Share []string `json:"share"`
	// CPUs is the pod's cpu limit in CPUs; 0 means no limit.
	CPUs float64 `json:"cpus"`
	// MemoryBytes is the pod's memory limit; 0 means no limit.
	MemoryBytes int64 `json:"memory_bytes"`
}

// ContainerSpec holds one container of a Spec.
type ContainerSpec struct {
	Name       string `json:"name"`
	Image      string `json:"image"`
	User       string `json:"user"`
	Privileged bool   `json:"privileged"`
	// Capabilities is the full set the container gets, names with "CAP_".
	Capabilities []string `json:"capabilities"`
	// AddedCapabilities lists what the request added to the default set.
	AddedCapabilities []string `json:"added_capabilities"`
	// HostNamespaces lists namespaces shared with the host: "net", "pid", ...
	HostNamespaces []string  `json:"host_namespaces"`
	Mounts         []Mount   `json:"mounts"`
	Resources      Resources `json:"resources"`
	// Env holds "KEY=value" pairs. The decision log never records them.
	Env []string `json:"env,omitempty"`
}

// Mount is one mount of a container. Source is a host path for "bind".
type Mount struct {
	Type        string `json:"type"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only"`
}

// Resources holds the limits of one container; 0 means no limit.
type Resources struct {
	MemoryBytes int64   `json:"memory_bytes"`
	CPUs        float64 `json:"cpus"`
}

// Request holds the arguments of an operation that has them.
type Request struct {
	Signal  string `json:"signal,omitempty"`
	Timeout int    `json:"timeout,omitempty"`
	Force   bool   `json:"force,omitempty"`
	Image   string `json:"image,omitempty"`
	// Command and Env are the process of a container.exec. The decision log
	// never records Env.
	Command []string `json:"command,omitempty"`
	Env     []string `json:"env,omitempty"`
}

// Usage holds a tenant's current object counts, for quotas.
type Usage struct {
	TenantPods       int `json:"tenant_pods"`
	TenantContainers int `json:"tenant_containers"`
}

// The value methods below build the AST form of Input directly. They must
// produce what the JSON encoding of the same struct produces, except that nil
// slices and maps become empty arrays and objects (TestInputValueMatchesJSON
// checks this). Handing OPA the struct instead costs a JSON round trip: in
// BenchmarkDecideJSONInput a 5-container pod.create then takes 2078
// allocations (100 KB) where Decide takes 1611 (67 KB).

// value returns the input as an AST object. With withTarget false, the target
// is left out, so Visible can add one per item.
func (in *Input) value(withTarget bool) ast.Object {
	items := in.items(withTarget)
	return ast.NewObject(items...)
}

func (in *Input) items(withTarget bool) [][2]*ast.Term {
	items := make([][2]*ast.Term, 0, 6)
	items = append(items,
		item("operation", ast.StringTerm(in.Operation)),
		item("subject", in.Subject.term()))
	if withTarget && in.Target != nil {
		items = append(items, item("target", in.Target.term()))
	}
	if in.Spec != nil {
		items = append(items, item("spec", in.Spec.term()))
	}
	if in.Request != nil {
		items = append(items, item("request", in.Request.term()))
	}
	if in.Context != nil {
		items = append(items, item("context", ast.ObjectTerm(
			item("tenant_pods", ast.IntNumberTerm(in.Context.TenantPods)),
			item("tenant_containers", ast.IntNumberTerm(in.Context.TenantContainers)))))
	}
	return items
}

func (s *Subject) term() *ast.Term {
	return ast.ObjectTerm(
		item("uid", ast.IntNumberTerm(s.UID)),
		item("gid", ast.IntNumberTerm(s.GID)),
		item("user", ast.StringTerm(s.User)),
		item("tenant", ast.StringTerm(s.Tenant)),
		item("groups", stringsTerm(s.Groups)),
		item("admin", ast.InternedTerm(s.Admin)))
}

func (t *Target) term() *ast.Term {
	items := [][2]*ast.Term{
		item("kind", ast.StringTerm(t.Kind)),
		item("name", ast.StringTerm(t.Name)),
		item("id", ast.StringTerm(t.ID)),
		item("labels", labelsTerm(t.Labels)),
	}
	if t.Owner != nil {
		items = append(items, item("owner", ast.ObjectTerm(
			item("uid", ast.IntNumberTerm(t.Owner.UID)),
			item("tenant", ast.StringTerm(t.Owner.Tenant)))))
	}
	if t.State != "" {
		items = append(items, item("state", ast.StringTerm(t.State)))
	}
	return ast.ObjectTerm(items...)
}

func (s *Spec) term() *ast.Term {
	containers := make([]*ast.Term, len(s.Containers))
	for i := range s.Containers {
		containers[i] = s.Containers[i].term()
	}
	pod := ast.ObjectTerm(
		item("name", ast.StringTerm(s.Pod.Name)),
		item("labels", labelsTerm(s.Pod.Labels)),
		item("network", ast.StringTerm(s.Pod.Network)),
		item("share", stringsTerm(s.Pod.Share)),
		item("cpus", floatTerm(s.Pod.CPUs)),
		item("memory_bytes", int64Term(s.Pod.MemoryBytes)))
	return ast.ObjectTerm(
		item("pod", pod),
		item("containers", ast.ArrayTerm(containers...)))
}

func (c *ContainerSpec) term() *ast.Term {
	mounts := make([]*ast.Term, len(c.Mounts))
	for i, m := range c.Mounts {
		mounts[i] = ast.ObjectTerm(
			item("type", ast.StringTerm(m.Type)),
			item("source", ast.StringTerm(m.Source)),
			item("destination", ast.StringTerm(m.Destination)),
			item("read_only", ast.InternedTerm(m.ReadOnly)))
	}
	items := [][2]*ast.Term{
		item("name", ast.StringTerm(c.Name)),
		item("image", ast.StringTerm(c.Image)),
		item("user", ast.StringTerm(c.User)),
		item("privileged", ast.InternedTerm(c.Privileged)),
		item("capabilities", stringsTerm(c.Capabilities)),
		item("added_capabilities", stringsTerm(c.AddedCapabilities)),
		item("host_namespaces", stringsTerm(c.HostNamespaces)),
		item("mounts", ast.ArrayTerm(mounts...)),
		item("resources", ast.ObjectTerm(
			item("memory_bytes", int64Term(c.Resources.MemoryBytes)),
			item("cpus", floatTerm(c.Resources.CPUs)))),
	}
	if len(c.Env) > 0 {
		items = append(items, item("env", stringsTerm(c.Env)))
	}
	return ast.ObjectTerm(items...)
}

func (r *Request) term() *ast.Term {
	var items [][2]*ast.Term
	if r.Signal != "" {
		items = append(items, item("signal", ast.StringTerm(r.Signal)))
	}
	if r.Timeout != 0 {
		items = append(items, item("timeout", ast.IntNumberTerm(r.Timeout)))
	}
	if r.Force {
		items = append(items, item("force", ast.InternedTerm(true)))
	}
	if r.Image != "" {
		items = append(items, item("image", ast.StringTerm(r.Image)))
	}
	if len(r.Command) > 0 {
		items = append(items, item("command", stringsTerm(r.Command)))
	}
	if len(r.Env) > 0 {
		items = append(items, item("env", stringsTerm(r.Env)))
	}
	return ast.ObjectTerm(items...)
}

// keyTerms holds one shared term per object key of the input document.
// Sharing is safe because evaluation never changes input terms, and saves two
// allocations per key on every decision.
var keyTerms = func() map[string]*ast.Term {
	keys := []string{
		"operation", "subject", "target", "spec", "request", "context",
		"uid", "gid", "user", "tenant", "groups", "admin",
		"kind", "name", "id", "owner", "labels", "state",
		"pod", "containers", "network", "share", "cpus", "memory_bytes",
		"image", "privileged", "capabilities", "added_capabilities",
		"host_namespaces", "mounts", "resources", "env",
		"type", "source", "destination", "read_only",
		"signal", "timeout", "force", "command",
		"tenant_pods", "tenant_containers",
	}
	terms := make(map[string]*ast.Term, len(keys))
	for _, k := range keys {
		terms[k] = ast.StringTerm(k)
	}
	return terms
}()

func item(key string, value *ast.Term) [2]*ast.Term {
	term, ok := keyTerms[key]
	if !ok {
		term = ast.StringTerm(key)
	}
	return ast.Item(term, value)
}

func stringsTerm(values []string) *ast.Term {
	terms := make([]*ast.Term, len(values))
	for i, v := range values {
		terms[i] = ast.StringTerm(v)
	}
	return ast.ArrayTerm(terms...)
}

func labelsTerm(labels map[string]string) *ast.Term {
	items := make([][2]*ast.Term, 0, len(labels))
	for k, v := range labels {
		items = append(items, item(k, ast.StringTerm(v)))
	}
	return ast.ObjectTerm(items...)
}

func int64Term(n int64) *ast.Term {
	return ast.NumberTerm(json.Number(strconv.FormatInt(n, 10)))
}

// floatTerm formats f the way encoding/json does for ordinary values, so 0.5
// stays 0.5 and 2 stays 2. JSON has no NaN or infinity, so those become the
// string "NaN" or "Inf", which no numeric policy check accepts.
func floatTerm(f float64) *ast.Term {
	switch {
	case math.IsNaN(f):
		return ast.StringTerm("NaN")
	case math.IsInf(f, 0):
		return ast.StringTerm("Inf")
	}
	return ast.NumberTerm(json.Number(strconv.FormatFloat(f, 'f', -1, 64)))
}
