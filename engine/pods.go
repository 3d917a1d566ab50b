package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podplug/podplug/engine/cgroups"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// PodSpec is a request to create a pod.
type PodSpec struct {
	Name     string            `json:"name,omitempty"`
	Owner    model.Owner       `json:"owner"`
	Labels   map[string]string `json:"labels,omitempty"`
	Hostname string            `json:"hostname,omitempty"`
	// NoInfra creates the pod without an infra container, so its containers
	// share no namespaces.
	NoInfra bool `json:"noInfra,omitempty"`
	// Share lists namespaces to share; nil means ipc, net and uts, and
	// ["none"] means none.
	Share      []string `json:"share,omitempty"`
	ExitPolicy string   `json:"exitPolicy,omitempty"`
	Network    string   `json:"network,omitempty"`
	CPUs       float64  `json:"cpus,omitempty"`
	// Memory is a size such as 512m or 1g.
	Memory string `json:"memory,omitempty"`
	// Publish lists ports to publish, as HOST:CTR, IP:HOST:CTR or CTR,
	// with an optional /tcp or /udp.
	Publish []string `json:"publish,omitempty"`
	// IDMap, when set, runs the pod's containers in a user namespace mapped
	// onto these host ids. The daemon sets it from the caller's tenant, and
	// JSON never carries it, so a client cannot choose its own ids.
	IDMap *model.IDMap `json:"-"`
}

var defaultShare = []string{model.NamespaceIPC, model.NamespaceNet, model.NamespaceUTS}

// CreatePod validates spec and records the pod and, unless NoInfra is set,
// its infra container, in one transaction.
func (e *Engine) CreatePod(ctx context.Context, spec PodSpec) (*model.Pod, error) {
	pod, err := buildPod(spec)
	if err != nil {
		return nil, err
	}
	if err := e.checkNetwork(pod, spec.Publish); err != nil {
		return nil, err
	}
	var infra *model.Container
	if pod.Infra {
		infra = e.infraContainer(pod)
		pod.InfraID = infra.ID
	}
	err = e.db.Update(func(tx *store.Tx) error {
		if err := tx.PutPod(pod); err != nil {
			return err
		}
		if infra != nil {
			return tx.PutContainer(infra)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create pod %s: %w", pod.Name, err)
	}
	e.emit(podEvent(pod, "create"))
	return pod, nil
}

func buildPod(spec PodSpec) (*model.Pod, error) {
	id := newID()
	pod := &model.Pod{
		ID: id, Name: spec.Name, Owner: spec.Owner, Labels: spec.Labels,
		Hostname: spec.Hostname, Infra: !spec.NoInfra, ExitPolicy: spec.ExitPolicy,
		Network: spec.Network, CPUs: spec.CPUs,
		CgroupParent: "/podplug/" + id, CreatedAt: time.Now(),
	}
	if pod.Name == "" {
		pod.Name = "pod-" + shortID(id)
	}
	if !validName(pod.Name) {
		return nil, invalidf("pod name %q: use letters, digits, _ . - and start with a letter "+
			"or digit", pod.Name)
	}
	if pod.ExitPolicy == "" {
		pod.ExitPolicy = model.ExitPolicyContinue
	}
	if pod.ExitPolicy != model.ExitPolicyContinue && pod.ExitPolicy != model.ExitPolicyStop {
		return nil, invalidf("pod %s: exit policy %q: use continue or stop", pod.Name, pod.ExitPolicy)
	}
	switch pod.Network {
	case "", model.NetworkNone, model.NetworkHost, model.NetworkBridge:
	default:
		return nil, invalidf("pod %s: network %q: use bridge, none or host", pod.Name, pod.Network)
	}
	if pod.CPUs < 0 {
		return nil, invalidf("pod %s: cpus %v: must not be negative", pod.Name, pod.CPUs)
	}
	if spec.Memory != "" {
		n, err := parseSize(spec.Memory)
		if err != nil {
			return nil, invalidf("pod %s: memory %q: %v", pod.Name, spec.Memory, err)
		}
		pod.MemoryBytes = n
	}
	share, err := parseShare(pod, spec.Share)
	if err != nil {
		return nil, err
	}
	pod.Share = share
	if pod.Hostname != "" && !validName(pod.Hostname) {
		return nil, invalidf("pod %s: hostname %q is not valid", pod.Name, pod.Hostname)
	}
	if spec.IDMap != nil {
		if err := checkIDMap(pod.Name, spec.IDMap); err != nil {
			return nil, err
		}
		idMap := *spec.IDMap
		pod.IDMap = &idMap
	}
	return pod, nil
}

func parseShare(pod *model.Pod, share []string) ([]string, error) {
	if share == nil {
		if !pod.Infra {
			return nil, nil
		}
		return append([]string(nil), defaultShare...), nil
	}
	if len(share) == 1 && (share[0] == "none" || share[0] == "") {
		return nil, nil
	}
	if !pod.Infra {
		return nil, invalidf("pod %s: sharing namespaces needs an infra container: drop "+
			"--share or --infra=false", pod.Name)
	}
	var out []string
	for _, ns := range share {
		ns = strings.TrimSpace(ns)
		switch ns {
		case model.NamespaceIPC, model.NamespaceNet, model.NamespaceUTS,
			model.NamespacePID, model.NamespaceCgroup:
			out = append(out, ns)
		default:
			return nil, invalidf("pod %s: namespace %q cannot be shared: use ipc, net, uts, "+
				"pid or cgroup", pod.Name, ns)
		}
	}
	return out, nil
}

func (e *Engine) infraContainer(pod *model.Pod) *model.Container {
	return &model.Container{
		ID: newID(), Name: shortID(pod.ID) + "-infra", PodID: pod.ID, Owner: pod.Owner,
		Infra: true, Command: []string{"/pause"},
		Restart:    model.RestartPolicy{Name: model.RestartNo},
		StopSignal: int(sigTERM), StopTimeout: 10, CreatedAt: pod.CreatedAt,
		Status: model.ContainerStatus{State: model.StateCreated},
	}
}

// LookupPod finds a pod by name, ID or ID prefix within tenant.
func (e *Engine) LookupPod(tenant, ref string) (*model.Pod, error) {
	if tenant == AllTenants {
		return e.lookupPodAcross(ref)
	}
	var pod *model.Pod
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		pod, err = tx.LookupPod(tenant, ref)
		return err
	})
	return pod, err
}

// podAndContainers reads a pod and its containers in one transaction.
func (e *Engine) podAndContainers(podID string) (*model.Pod, []*model.Container, error) {
	var pod *model.Pod
	var ctrs []*model.Container
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		if pod, err = tx.GetPod(podID); err != nil {
			return err
		}
		ctrs, err = tx.PodContainers(podID)
		return err
	})
	return pod, ctrs, err
}

// RemovePodOptions tune RemovePod.
type RemovePodOptions struct {
	// Force stops running containers first instead of failing.
	Force bool
	// Timeout overrides every container's stop timeout, in seconds.
	Timeout *uint
}

// RemovePod deletes a pod and all its containers. Without Force it fails
// when any container is running or paused. The pod is marked as being
// removed first, so a crash in the middle is finished at the next start.
func (e *Engine) RemovePod(ctx context.Context, tenant, ref string, opts RemovePodOptions) error {
	pod, err := e.LookupPod(tenant, ref)
	if err != nil {
		return err
	}
	unlock := e.podLocks.lock(pod.ID)
	defer unlock()

	pod, ctrs, err := e.podAndContainers(pod.ID)
	if err != nil {
		return err
	}
	if active := activeNames(ctrs); len(active) > 0 && !opts.Force {
		return fmt.Errorf("remove pod %s: containers %s are running: stop the pod first or use --force: %w",
			pod.Name, strings.Join(active, ", "), ErrConflict)
	}
	if len(activeNames(ctrs)) > 0 {
		// Marked first, so a crash during the stop still ends in removal.
		if err := e.setRemoving(pod, true); err != nil {
			return err
		}
		if err := e.stopPodLocked(ctx, pod, StopOptions{Timeout: opts.Timeout}, "pod rm"); err != nil {
			if clearErr := e.setRemoving(pod, false); clearErr != nil {
				e.log.Error("clear removing mark", "pod", pod.Name, "error", clearErr)
			}
			return err
		}
	}
	return e.removePodLocked(ctx, pod)
}

func activeNames(ctrs []*model.Container) []string {
	var names []string
	for _, c := range ctrs {
		switch c.Status.State {
		case model.StateRunning, model.StatePaused, model.StateStopping:
			names = append(names, c.Name)
		}
	}
	return names
}

func (e *Engine) setRemoving(pod *model.Pod, removing bool) error {
	pod.Removing = removing
	if err := e.db.Update(func(tx *store.Tx) error { return tx.PutPod(pod) }); err != nil {
		return fmt.Errorf("remove pod %s: %w", pod.Name, err)
	}
	return nil
}

// removePodLocked deletes every container and then the pod; the caller holds
// the pod's lock and every container is stopped.
func (e *Engine) removePodLocked(ctx context.Context, pod *model.Pod) error {
	if err := e.setRemoving(pod, true); err != nil {
		return err
	}
	_, ctrs, err := e.podAndContainers(pod.ID)
	if err != nil {
		return fmt.Errorf("remove pod %s: %w", pod.Name, err)
	}
	var errs []error
	for _, c := range ctrs {
		if err := e.removeContainerFiles(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove pod %s: %w", pod.Name, err)
	}
	err = e.db.Update(func(tx *store.Tx) error {
		for _, c := range ctrs {
			if err := tx.DeleteContainer(c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return tx.DeletePod(pod.ID)
	})
	if err != nil {
		return fmt.Errorf("remove pod %s: %w", pod.Name, err)
	}
	if err := cgroups.Remove(pod.CgroupParent); err != nil {
		e.log.Warn("remove pod cgroup", "pod", pod.Name, "error", err)
	}
	_ = os.RemoveAll(e.podRunDir(pod))
	for _, c := range ctrs {
		e.ctrLocks.forget(c.ID)
		e.emit(containerEvent(pod, c, "remove"))
	}
	e.emit(podEvent(pod, "remove"))
	return nil
}

func (e *Engine) podRunDir(pod *model.Pod) string {
	return filepath.Join(e.cfg.RunRoot, "pods", pod.ID)
}

// PruneResult lists the pods Prune removed and those it could not.
type PruneResult struct {
	Removed []string         `json:"removed"`
	Errs    map[string]error `json:"-"`
}

// PrunePods removes every pod of tenant that is Stopped or Exited, as
// podman's pod prune does; Created pods stay.
func (e *Engine) PrunePods(ctx context.Context, tenant string) (PruneResult, error) {
	pods, err := e.ListPods(tenant)
	if err != nil {
		return PruneResult{}, err
	}
	res := PruneResult{Errs: map[string]error{}}
	for _, p := range pods {
		if p.State != PodStopped && p.State != PodExited {
			continue
		}
		err := e.RemovePod(ctx, tenant, p.ID, RemovePodOptions{})
		if errors.Is(err, ErrConflict) {
			continue // a container started in the meantime
		}
		if err != nil {
			res.Errs[p.Name] = err
			continue
		}
		res.Removed = append(res.Removed, p.Name)
	}
	return res, partial("pod prune", "", res.Errs)
}
