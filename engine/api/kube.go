package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/kube"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/policy"
	"github.com/podplug/podplug/store"
)

// maxManifest caps the body of a play or down request, in bytes.
const maxManifest = 8 << 20

// KubePlayRequest is the body of a kube play.
type KubePlayRequest struct {
	// File names the manifest in messages, such as web.yaml.
	File     string `json:"file"`
	Manifest string `json:"manifest"`
	// NoStart creates the pods without starting them.
	NoStart bool `json:"noStart,omitempty"`
}

// KubePlayReport is the reply to a kube play.
type KubePlayReport struct {
	Pods []KubePod `json:"pods"`
	// Warnings name the fields of the manifest that play ignored.
	Warnings []string `json:"warnings,omitempty"`
}

// KubePod is a pod that kube play created.
type KubePod struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// KubeDownRequest is the body of a kube down.
type KubeDownRequest struct {
	File     string `json:"file"`
	Manifest string `json:"manifest"`
}

// KubeDownReport is the reply to a kube down.
type KubeDownReport struct {
	// Removed lists the pods removed, Volumes their emptyDir volumes.
	Removed []string `json:"removed"`
	Volumes []string `json:"volumes,omitempty"`
	// Warnings name the pods of the manifest that did not exist.
	Warnings []string `json:"warnings,omitempty"`
}

// KubeGenerateReport is the reply to a kube generate.
type KubeGenerateReport struct {
	Manifest string `json:"manifest"`
	// Warnings name what the manifest cannot express.
	Warnings []string `json:"warnings,omitempty"`
}

func (s *Server) kubeRoutes() {
	p := APIVersion + "/kube"
	s.handle("POST "+p+"/play", s.kubePlay)
	s.handle("POST "+p+"/down", s.kubeDown)
	s.handle("GET "+p+"/generate", s.kubeGenerate)
}

// kubePlay creates and starts the pods of a manifest, all or nothing: on
// any error, every pod it created is removed with its emptyDir volumes.
func (s *Server) kubePlay(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxManifest)
	var req KubePlayRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	manifest, err := kube.Read(req.File, []byte(req.Manifest))
	if err != nil {
		return nil, err
	}

	report := KubePlayReport{Pods: []KubePod{}}
	var created []*model.Pod
	err = s.playPods(r.Context(), who, manifest, &created)
	if err == nil && !req.NoStart {
		err = s.startPods(r.Context(), who, created)
	}
	if err != nil {
		return nil, s.rollBack(r.Context(), who, req.File, created, err)
	}
	for _, pod := range manifest.Pods {
		for _, w := range pod.Warnings {
			report.Warnings = append(report.Warnings, w.String())
		}
	}
	for _, pod := range created {
		report.Pods = append(report.Pods, KubePod{Name: pod.Name, ID: pod.ID})
	}
	return report, nil
}

// playPods creates each pod and its containers, with the same policy
// checks as pod and container create, and appends each pod it created to
// created as soon as it exists.
func (s *Server) playPods(ctx context.Context, who Subject, m *kube.Manifest, created *[]*model.Pod) error {
	for _, p := range m.Pods {
		spec := p.Spec
		spec.Owner = who.Owner()
		in := policy.Input{Spec: &policy.Spec{Pod: podSpecInput(spec)}, Context: s.usage(who)}
		if err := s.check(ctx, who, policy.OpPodCreate, in); err != nil {
			return err
		}
		idMap, err := s.podIDMap(who)
		if err != nil {
			return err
		}
		spec.IDMap = idMap
		pod, err := s.eng.CreatePod(ctx, spec)
		if err != nil {
			return err
		}
		*created = append(*created, pod)
		for _, c := range p.Containers(pod.ID) {
			if err := s.playContainer(ctx, who, pod, c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) playContainer(ctx context.Context, who Subject, pod *model.Pod, c kube.Container) error {
	spec := c.Spec
	spec.Owner = who.Owner()
	spec.Pod = pod.ID
	in := policy.Input{Target: podTarget(pod, ""),
		Spec: &policy.Spec{Containers: []policy.ContainerSpec{kubeContainerInput(spec)},
			Pod: policy.PodSpec{Name: pod.Name, Labels: pod.Labels, Network: pod.Network,
				Share: pod.Share, CPUs: pod.CPUs, MemoryBytes: pod.MemoryBytes}},
		Context: s.usage(who), Request: &policy.Request{Image: spec.Image}}
	if err := s.check(ctx, who, policy.OpContainerCreate, in); err != nil {
		return err
	}
	// Only now, with the mounts allowed, may play touch the host paths.
	if err := kube.PrepareHostPaths(c.HostPaths); err != nil {
		return fmt.Errorf("container %s: %w", spec.Name, err)
	}
	_, err := s.eng.CreateContainer(ctx, spec)
	return err
}

// kubeContainerInput is containerSpecInput with the privileges a manifest
// can request, so that policy evaluates them already at create.
func kubeContainerInput(spec engine.ContainerSpec) policy.ContainerSpec {
	in := containerSpecInput(spec)
	in.Privileged = spec.Privileged
	for _, c := range spec.CapAdd {
		name := strings.ToUpper(c)
		if !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		in.AddedCapabilities = append(in.AddedCapabilities, name)
	}
	return in
}

func (s *Server) startPods(ctx context.Context, who Subject, pods []*model.Pod) error {
	for _, pod := range pods {
		if err := s.check(ctx, who, policy.OpPodStart, policy.Input{Target: podTarget(pod,
			"Created")}); err != nil {
			return err
		}
		if err := s.eng.StartPod(ctx, scope(who), pod.ID); err != nil {
			return err
		}
	}
	return nil
}

// rollBack removes the pods a failed play created and returns the error
// to reply with. It runs also when the client went away, so a cancelled
// play leaves nothing behind.
func (s *Server) rollBack(ctx context.Context, who Subject, file string, pods []*model.Pod,
	cause error) error {
	ctx = context.WithoutCancel(ctx)
	zero := uint(0)
	var failed []error
	for i := len(pods) - 1; i >= 0; i-- {
		pod := pods[i]
		err := s.eng.RemovePod(ctx, scope(who), pod.ID, engine.RemovePodOptions{Force: true, Timeout: &zero})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			failed = append(failed, err)
			continue
		}
		if _, err := s.removeEmptyDirs(pod.ID); err != nil {
			failed = append(failed, err)
		}
	}
	var partial *engine.PartialError
	if errors.As(cause, &partial) {
		// A flat message, so the note below is not lost behind the
		// per-container list of a partial failure reply.
		cause = errors.New(cause.Error())
	}
	if len(failed) > 0 {
		s.log.Error("roll back kube play", "file", file, "error", errors.Join(failed...))
		return fmt.Errorf("kube play %s: %w; removing the pods it created failed too (%v): "+
			"remove them with `podplug kube down %s`", file, cause, errors.Join(failed...), file)
	}
	if len(pods) == 0 {
		return fmt.Errorf("kube play %s: %w", file, cause)
	}
	return fmt.Errorf("kube play %s: %w; the pods it created were removed", file, cause)
}

// removeEmptyDirs removes the named volumes that play made for the
// emptyDir volumes of the pod with podID.
func (s *Server) removeEmptyDirs(podID string) ([]string, error) {
	names, err := s.eng.ListVolumes()
	if err != nil {
		return nil, err
	}
	var removed []string
	var failed []error
	for _, name := range names {
		if !strings.HasPrefix(name, kube.EmptyDirPrefix(podID)) {
			continue
		}
		if err := s.eng.RemoveVolume(name); err != nil {
			failed = append(failed, err)
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(failed...)
}

// kubeDown stops and removes the pods a manifest names, each container
// with its own stop timeout, and their emptyDir volumes. Images and
// persistentVolumeClaim volumes stay. A pod that does not exist is a
// warning. Any other failure is reported after the other pods were removed.
func (s *Server) kubeDown(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxManifest)
	var req KubeDownRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	names, err := kube.PodNames(req.File, []byte(req.Manifest))
	if err != nil {
		return nil, err
	}
	report := KubeDownReport{Removed: []string{}}
	var failed []error
	for _, name := range names {
		volumes, err := s.downPod(r.Context(), who, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			report.Warnings = append(report.Warnings, fmt.Sprintf("pod %s does not exist", name))
		case err != nil:
			failed = append(failed, err)
		default:
			report.Removed = append(report.Removed, name)
			report.Volumes = append(report.Volumes, volumes...)
		}
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("kube down %s: %w", req.File, errors.Join(failed...))
	}
	return report, nil
}

func (s *Server) downPod(ctx context.Context, who Subject, name string) ([]string, error) {
	if err := s.gatePod(ctx, who, policy.OpPodRemove, name, &policy.Request{Force: true}); err != nil {
		return nil, err
	}
	pod, err := s.eng.LookupPod(scope(who), name)
	if err != nil {
		return nil, err
	}
	if err := s.eng.RemovePod(ctx, scope(who), pod.ID, engine.RemovePodOptions{Force: true}); err != nil {
		return nil, err
	}
	return s.removeEmptyDirs(pod.ID)
}

// kubeGenerate writes a manifest of the pods named by the pod parameters.
func (s *Server) kubeGenerate(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	refs := r.URL.Query()["pod"]
	if len(refs) == 0 {
		return nil, fmt.Errorf("kube generate: give at least one pod: %w", engine.ErrInvalid)
	}
	report := KubeGenerateReport{}
	var pods []*v1.Pod
	for _, ref := range refs {
		src, err := s.generateSource(r.Context(), who, ref)
		if err != nil {
			return nil, err
		}
		pod, warnings := kube.Generate(src)
		pods = append(pods, pod)
		for _, w := range warnings {
			report.Warnings = append(report.Warnings, w.String())
		}
	}
	data, err := kube.Marshal(pods)
	if err != nil {
		return nil, err
	}
	report.Manifest = string(data)
	return report, nil
}

// generateSource inspects a pod, its containers and their images.
func (s *Server) generateSource(ctx context.Context, who Subject, ref string) (kube.Source, error) {
	if err := s.gatePod(ctx, who, policy.OpPodInspect, ref, nil); err != nil {
		return kube.Source{}, err
	}
	inspect, err := s.eng.InspectPod(ctx, scope(who), ref)
	if err != nil {
		return kube.Source{}, err
	}
	src := kube.Source{Pod: *inspect, Images: map[string]model.ImageConfig{},
		VolumeDir: s.eng.VolumeDir()}
	for _, m := range inspect.Containers {
		if m.Infra {
			continue
		}
		if err := s.gateContainer(ctx, who, policy.OpContainerInspect, m.ID, nil); err != nil {
			return kube.Source{}, err
		}
		c, err := s.eng.InspectContainer(ctx, scope(who), m.ID)
		if err != nil {
			return kube.Source{}, err
		}
		src.Containers = append(src.Containers, *c)
		if img, err := s.eng.Images().Lookup(c.ImageID); err == nil {
			src.Images[c.ImageID] = img.Config
		}
	}
	return src, nil
}
