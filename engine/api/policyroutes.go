package api

import (
	"context"
	"fmt"
	"net/http"
	"os/user"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/common/pkg/config"
	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/policy"
)

func (s *Server) policyRoutes() {
	s.handle("GET "+APIVersion+"/whoami", func(_ http.ResponseWriter, _ *http.Request,
		who Subject) (any, error) {
		return who, nil
	})
	s.handle("POST "+APIVersion+"/policy/reload", func(_ http.ResponseWriter, r *http.Request,
		_ Subject) (any, error) {
		if s.policy == nil {
			return nil, fmt.Errorf("no policies loaded: start the daemon with --policy-dir: %w",
				engine.ErrInvalid)
		}
		if err := s.policy.Reload(r.Context()); err != nil {
			return nil, fmt.Errorf("policy reload rejected, the previous policies stay in force: %w", err)
		}
		s.log.Info("policies reloaded", "files", len(s.policy.Files()))
		return map[string]any{"files": s.policy.Files()}, nil
	})
	s.handle("POST "+APIVersion+"/policy/eval", s.evalPolicy)
}

// EvalRequest is a would-be request for `policy eval`.
type EvalRequest struct {
	Input policy.Input `json:"input"`
	// AsUID evaluates as that user, resolved with the tenants file.
	AsUID *uint32 `json:"asUid,omitempty"`
}

// EvalResult is the decision `policy eval` shows.
type EvalResult struct {
	Subject Subject         `json:"subject"`
	Allowed bool            `json:"allowed"`
	Reasons []policy.Reason `json:"reasons"`
}

func (s *Server) evalPolicy(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	if s.policy == nil {
		return nil, fmt.Errorf("no policies loaded: start the daemon with --policy-dir: %w",
			engine.ErrInvalid)
	}
	var req EvalRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	as := who
	if req.AsUID != nil {
		as = subjectForUID(*req.AsUID, s.tenants)
	}
	in := req.Input
	in.Subject = as.policySubject()
	d := s.policy.Decide(r.Context(), in)
	reasons := d.Reasons
	if reasons == nil {
		reasons = []policy.Reason{}
	}
	return EvalResult{Subject: as, Allowed: d.Allowed, Reasons: reasons}, nil
}

// podSpecInput describes a pod create request for policy.
func podSpecInput(spec engine.PodSpec) policy.PodSpec {
	out := policy.PodSpec{Name: spec.Name, Labels: spec.Labels, Network: spec.Network,
		Share: spec.Share, CPUs: spec.CPUs}
	if spec.Memory != "" {
		if n, err := engine.ParseSize(spec.Memory); err == nil {
			out.MemoryBytes = n
		}
	}
	if out.Share == nil && !spec.NoInfra {
		out.Share = []string{model.NamespaceIPC, model.NamespaceNet, model.NamespaceUTS}
	}
	return out
}

// containerSpecInput describes a container create request for policy.
func containerSpecInput(spec engine.ContainerSpec) policy.ContainerSpec {
	out := policy.ContainerSpec{Name: spec.Name, Image: spec.Image, User: spec.User, Env: spec.Env,
		Capabilities:      append([]string(nil), config.DefaultCapabilities...),
		AddedCapabilities: []string{}, HostNamespaces: []string{}, Mounts: []policy.Mount{},
		Privileged: spec.Privileged}
	for _, cap := range spec.CapAdd {
		if !strings.HasPrefix(cap, "CAP_") {
			cap = "CAP_" + strings.ToUpper(cap)
		}
		out.Capabilities = append(out.Capabilities, cap)
		out.AddedCapabilities = append(out.AddedCapabilities, cap)
	}
	for _, v := range spec.Volumes {
		m, err := engine.ParseVolume(v)
		if err != nil {
			continue
		}
		pm := policy.Mount{Type: "volume", Destination: m.Destination, ReadOnly: m.ReadOnly}
		if filepath.IsAbs(m.Source) {
			pm.Type, pm.Source = "bind", resolveHostPath(m.Source)
		}
		out.Mounts = append(out.Mounts, pm)
	}
	for _, t := range spec.Tmpfs {
		out.Mounts = append(out.Mounts, policy.Mount{Type: "tmpfs", Destination: t})
	}
	return out
}

// StartCheck is the engine's StartCheck: it evaluates container.start on
// the spec as runc will see it, after the pre-start plugins changed it.
func (s *Server) StartCheck(ctx context.Context, caller engine.Caller, pod *model.Pod,
	c *model.Container, spec *specs.Spec) error {
	if s.policy == nil {
		return nil
	}
	who := Subject{UID: caller.UID, GID: caller.GID, User: caller.User, Groups: caller.Groups,
		Tenant: caller.Tenant, Admin: caller.Admin}
	in := policy.Input{
		Target: containerTarget(c),
		Spec: &policy.Spec{
			Pod: policy.PodSpec{Name: pod.Name, Labels: pod.Labels, Network: pod.Network,
				Share: pod.Share, CPUs: pod.CPUs, MemoryBytes: pod.MemoryBytes},
			Containers: []policy.ContainerSpec{finalContainerSpec(s.eng, c, spec)},
		},
		Context: s.usage(who),
	}
	return s.check(ctx, who, policy.OpContainerStart, in)
}

// finalContainerSpec describes an OCI spec for policy: capabilities and
// those beyond podman's defaults, namespaces it shares with the host, bind
// mounts with host paths resolved, and cgroup limits.
func finalContainerSpec(eng *engine.Engine, c *model.Container, spec *specs.Spec) policy.ContainerSpec {
	out := policy.ContainerSpec{Name: c.Name, Image: c.Image, Env: spec.Process.Env,
		User:         fmt.Sprintf("%d:%d", spec.Process.User.UID, spec.Process.User.GID),
		Capabilities: []string{}, AddedCapabilities: []string{}, HostNamespaces: []string{},
		Mounts: []policy.Mount{}}
	defaults := map[string]bool{}
	for _, cap := range config.DefaultCapabilities {
		defaults[cap] = true
	}
	if caps := spec.Process.Capabilities; caps != nil {
		out.Capabilities = append(out.Capabilities, caps.Bounding...)
		for _, cap := range caps.Bounding {
			if !defaults[cap] {
				out.AddedCapabilities = append(out.AddedCapabilities, cap)
			}
		}
	}
	out.Privileged = len(out.AddedCapabilities) > 0 && hasAllCaps(out.Capabilities)
	out.HostNamespaces = hostNamespaces(spec)
	for _, m := range spec.Mounts {
		if m.Type != "bind" {
			continue
		}
		kind := eng.MountKind(m.Source)
		if kind == engine.MountEngine {
			continue // the pod's /etc/hosts and /etc/hostname
		}
		pm := policy.Mount{Type: kind, Destination: m.Destination, ReadOnly: hasOption(m.Options, "ro")}
		if kind == engine.MountHostPath {
			pm.Source = resolveHostPath(m.Source)
		}
		out.Mounts = append(out.Mounts, pm)
	}
	if r := spec.Linux.Resources; r != nil && r.Memory != nil && r.Memory.Limit != nil {
		out.Resources.MemoryBytes = *r.Memory.Limit
	}
	return out
}

func hasAllCaps(caps []string) bool { return len(caps) >= 38 }

func hostNamespaces(spec *specs.Spec) []string {
	present := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range spec.Linux.Namespaces {
		present[ns.Type] = true
	}
	var host []string
	for t, name := range map[specs.LinuxNamespaceType]string{
		specs.NetworkNamespace: "net", specs.PIDNamespace: "pid", specs.IPCNamespace: "ipc",
		specs.UTSNamespace: "uts",
	} {
		if !present[t] {
			host = append(host, name)
		}
	}
	return host
}

func hasOption(opts []string, want string) bool {
	for _, o := range opts {
		if o == want {
			return true
		}
	}
	return false
}

// subjectForUID resolves the subject of a client running as uid with
// the user's groups from the group database.
func subjectForUID(uid uint32, t *Tenants) Subject {
	cred := &unix.Ucred{Uid: uid, Gid: uid, Pid: -1}
	if u, err := user.LookupId(fmt.Sprint(uid)); err == nil {
		if gid, err := parseUint32(u.Gid); err == nil {
			cred.Gid = gid
		}
	}
	return resolveSubject(cred, t)
}

func parseUint32(s string) (uint32, error) {
	var n uint32
	_, err := fmt.Sscan(s, &n)
	return n, err
}
