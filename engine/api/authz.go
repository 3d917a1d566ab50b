package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/policy"
	"github.com/podplug/podplug/store"
)

// errHidden marks a not-found reply to a non-admin. It reads the same for
// an object that does not exist and one of another tenant, so no command
// reveals to a tenant which names other tenants use.
var errHidden = errors.New("not found (tenant_isolation: only objects of your own tenant are visible)")

func hiddenError(kind, ref string) error {
	return fmt.Errorf("%s %q: %w: %w", kind, ref, errHidden, store.ErrNotFound)
}

func (w Subject) policySubject() policy.Subject {
	return policy.Subject{UID: int(w.UID), GID: int(w.GID), User: w.User, Tenant: w.Tenant,
		Groups: w.Groups, Admin: w.Admin}
}

func (w Subject) engineCaller() engine.Caller {
	return engine.Caller{UID: w.UID, GID: w.GID, User: w.User, Groups: w.Groups, Tenant: w.Tenant,
		Admin: w.Admin}
}

// check evaluates op for who against the policy. in carries the target, spec and
// request; a nil policy allows everything. A denial is recorded as an
// event and returned with every reason.
func (s *Server) check(ctx context.Context, who Subject, op string, in policy.Input) error {
	if s.policy == nil {
		return nil
	}
	in.Operation, in.Subject = op, who.policySubject()
	d := s.policy.Decide(ctx, in)
	if d.Allowed {
		return nil
	}
	s.recordDenial(who, op, in.Target, d)
	if d.Hidden() && in.Target != nil {
		return hiddenError(in.Target.Kind, in.Target.Name)
	}
	return d.Err(op)
}

func (s *Server) recordDenial(who Subject, op string, target *policy.Target, d policy.Decision) {
	attrs := map[string]string{"operation": op, "uid": fmt.Sprint(who.UID)}
	for i, r := range d.Reasons {
		attrs[fmt.Sprintf("reason%d", i+1)] = r.Code + ": " + r.Message
	}
	tenant := who.Tenant
	if d.Hidden() && target != nil {
		// The target is another tenant's: an event in the caller's tenant
		// would show the caller its name and ID, so only admins see it.
		tenant = ""
	}
	ev := &model.Event{Type: "policy", Action: "deny", Tenant: tenant, Time: time.Now(),
		Attributes: attrs}
	if target != nil {
		ev.Name, ev.ID = target.Name, target.ID
	}
	s.eng.Record(ev)
}

// gatePod resolves ref to a pod in who's scope and checks op on it.
func (s *Server) gatePod(ctx context.Context, who Subject, op, ref string, req *policy.Request) error {
	pod, err := s.scopedPod(ctx, who, op, ref, req)
	if err != nil {
		return err
	}
	state := ""
	if info, err := s.eng.InspectPodState(pod.ID); err == nil {
		state = info
	}
	return s.check(ctx, who, op, policy.Input{Target: podTarget(pod, state), Request: req})
}

// scopedPod resolves ref to a pod in who's scope without checking op on it.
// For a non-admin a pod of another tenant is evaluated for op, so the
// decision log shows the attempt, and both that and a missing pod get the
// same reply.
func (s *Server) scopedPod(ctx context.Context, who Subject, op, ref string,
	req *policy.Request) (*model.Pod, error) {
	pod, err := s.eng.LookupPod(scope(who), ref)
	if errors.Is(err, store.ErrNotFound) && !who.Admin {
		if other, otherErr := s.eng.LookupPod(engine.AllTenants, ref); otherErr == nil {
			_ = s.check(ctx, who, op, policy.Input{Target: podTarget(other, ""), Request: req})
		}
		return nil, hiddenError("pod", ref)
	}
	return pod, err
}

// gateContainer is gatePod for containers.
func (s *Server) gateContainer(ctx context.Context, who Subject, op, ref string, req *policy.Request) error {
	c, err := s.eng.LookupContainer(scope(who), ref)
	if errors.Is(err, store.ErrNotFound) && !who.Admin {
		if other, otherErr := s.eng.LookupContainer(engine.AllTenants, ref); otherErr == nil {
			_ = s.check(ctx, who, op, policy.Input{Target: containerTarget(other), Request: req})
		}
		return hiddenError("container", ref)
	}
	if err != nil {
		return err
	}
	return s.check(ctx, who, op, policy.Input{Target: containerTarget(c), Request: req})
}

func podTarget(p *model.Pod, state string) *policy.Target {
	return &policy.Target{Kind: "pod", Name: p.Name, ID: p.ID, Labels: p.Labels, State: state,
		Owner: &policy.Owner{UID: int(p.Owner.UID), Tenant: p.Owner.Tenant}}
}

func containerTarget(c *model.Container) *policy.Target {
	return &policy.Target{Kind: "container", Name: c.Name, ID: c.ID, Labels: c.Labels,
		State: string(c.Status.State), Owner: &policy.Owner{UID: int(c.Owner.UID), Tenant: c.Owner.Tenant}}
}

// usage counts the tenant's pods and containers for quota policies.
func (s *Server) usage(who Subject) *policy.Usage {
	pods, _ := s.eng.ListPods(who.Tenant)
	ctrs, _ := s.eng.ListContainers(who.Tenant, engine.ListContainersOptions{All: true})
	return &policy.Usage{TenantPods: len(pods), TenantContainers: len(ctrs)}
}

// visible filters a listing to the items policy lets who see.
func (s *Server) visible(ctx context.Context, who Subject, op string,
	targets []*policy.Target) ([]bool, error) {
	out := make([]bool, len(targets))
	if s.policy == nil {
		for i := range out {
			out[i] = true
		}
		return out, nil
	}
	list := make([]policy.Target, len(targets))
	for i, t := range targets {
		list[i] = *t
	}
	return s.policy.Visible(ctx, policy.Input{Operation: op, Subject: who.policySubject()}, list)
}

// resolveHostPath returns a bind mount's source with symlinks resolved, so
// a policy on allowed host paths gets the path the mount really uses.
func resolveHostPath(path string) string {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		return resolved
	}
	return filepath.Clean(path)
}

func requestOf(r *http.Request) *policy.Request {
	req := &policy.Request{Signal: r.URL.Query().Get("signal"), Force: queryBool(r, "force")}
	if t, err := queryTimeout(r); err == nil && t != nil {
		req.Timeout = int(*t)
	}
	return req
}

// routeOps are the operations of routes whose check needs no target: the
// image store, plugins and policies, which every tenant shares. Import, pull
// and tag are checked in their handlers, which send the image name as
// request.image.
//
// NOTE: a load is checked without request.image, because the names come
// from the archive, so the image allow-list does not apply to loads.
var routeOps = map[string]string{
	"POST " + APIVersion + "/images/load":       policy.OpImageImport,
	"GET " + APIVersion + "/images":             policy.OpImageList,
	"GET " + APIVersion + "/images/{ref...}":    policy.OpImageInspect,
	"DELETE " + APIVersion + "/images/{ref...}": policy.OpImageRemove,
	"POST " + APIVersion + "/plugins":           policy.OpPluginInstall,
	"GET " + APIVersion + "/plugins":            policy.OpPluginList,
	"GET " + APIVersion + "/plugins/{name}":     policy.OpPluginInspect,
	"DELETE " + APIVersion + "/plugins/{name}":  policy.OpPluginRemove,
	"POST " + APIVersion + "/policy/reload":     policy.OpPolicyReload,
	"POST " + APIVersion + "/policy/eval":       policy.OpPolicyEval,
}

// checkRoute checks the operation of a route listed in routeOps.
func (s *Server) checkRoute(ctx context.Context, who Subject, pattern string) error {
	op, ok := routeOps[pattern]
	if !ok {
		return nil
	}
	return s.check(ctx, who, op, policy.Input{})
}

func (s *Server) visiblePods(ctx context.Context, who Subject,
	pods []engine.PodSummary) ([]engine.PodSummary, error) {
	targets := make([]*policy.Target, len(pods))
	for i, p := range pods {
		targets[i] = &policy.Target{Kind: "pod", Name: p.Name, ID: p.ID, Labels: p.Labels,
			State: string(p.State), Owner: &policy.Owner{Tenant: p.Tenant}}
	}
	keep, err := s.visible(ctx, who, policy.OpPodList, targets)
	if err != nil {
		return nil, err
	}
	out := []engine.PodSummary{}
	for i, p := range pods {
		if keep[i] {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *Server) visibleContainers(ctx context.Context, who Subject,
	ctrs []engine.ContainerSummary) ([]engine.ContainerSummary, error) {
	targets := make([]*policy.Target, len(ctrs))
	for i, c := range ctrs {
		targets[i] = &policy.Target{Kind: "container", Name: c.Name, ID: c.ID, State: c.State,
			Owner: &policy.Owner{Tenant: c.Tenant}}
	}
	keep, err := s.visible(ctx, who, policy.OpContainerList, targets)
	if err != nil {
		return nil, err
	}
	out := []engine.ContainerSummary{}
	for i, c := range ctrs {
		if keep[i] {
			out = append(out, c)
		}
	}
	return out, nil
}

// visibleImages filters `image ls` through the policy's visible rule, with
// each image as a target of kind image.
func (s *Server) visibleImages(ctx context.Context, who Subject,
	images []*model.Image) ([]*model.Image, error) {
	targets := make([]*policy.Target, len(images))
	for i, img := range images {
		name := img.ID
		if len(img.Names) > 0 {
			name = img.Names[0]
		}
		targets[i] = &policy.Target{Kind: "image", Name: name, ID: img.ID, Labels: img.Config.Labels}
	}
	keep, err := s.visible(ctx, who, policy.OpImageList, targets)
	if err != nil {
		return nil, err
	}
	out := []*model.Image{}
	for i, img := range images {
		if keep[i] {
			out = append(out, img)
		}
	}
	return out, nil
}

// eventVisible evaluates the policy's visible rule for one event, as a target
// of kind event owned by the event's tenant. An error hides the event.
func (s *Server) eventVisible(ctx context.Context, who Subject, ev *model.Event) bool {
	if s.policy == nil {
		return true
	}
	target := policy.Target{Kind: "event", Name: ev.Name, ID: ev.ID,
		Owner: &policy.Owner{Tenant: ev.Tenant}}
	keep, err := s.policy.Visible(ctx, policy.Input{Operation: policy.OpEventsList,
		Subject: who.policySubject()}, []policy.Target{target})
	return err == nil && len(keep) == 1 && keep[0]
}
