package kube

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
)

// Annotations that steer play. Each per-container form ends in "." and the
// container's name as the manifest spells it.
const (
	// AnnotationInitMode is once or always: how init containers run, for
	// every init container of the pod or, with a suffix, for one.
	AnnotationInitMode = "podplug.io/init-mode"
	// AnnotationRequires, with a container suffix, lists the ordinary
	// containers, comma-separated, that must run before that container
	// starts. podman has no such convention for kube play.
	AnnotationRequires = "podplug.io/requires"
	// annotationPodmanInitType is podman's pod-wide form of
	// AnnotationInitMode, accepted so podman's manifests play the same.
	annotationPodmanInitType = "io.podman.annotations.init.container.type"
)

// defaultNamespace is the namespace of a Pod without metadata.namespace,
// as in Kubernetes; only metadata.namespace references read it.
const defaultNamespace = "default"

// Manifest is a file's Pod documents, translated, in file order.
type Manifest struct {
	Pods []*Pod
}

// Pod is one Pod document translated into the engine's requests.
type Pod struct {
	// Name is metadata.name, also the pod's name.
	Name string
	// Spec creates the pod; Owner is left for the caller.
	Spec engine.PodSpec
	// Warnings name each field that play ignores.
	Warnings []Warning

	containers []container
}

// container is one container of a Pod with its mounts, which refer to the
// pod's volumes until Containers is given the pod's ID.
type container struct {
	spec   engine.ContainerSpec
	mounts []mount
}

// Read decodes a manifest file and translates each of its Pod documents.
// file names the manifest in messages. Errors are *Error, wrapping
// ErrInvalid or ErrUnsupported; nothing is read from the host.
func Read(file string, data []byte) (*Manifest, error) {
	m := &Manifest{}
	names := map[string]int{}
	for _, d := range splitDocuments(file, data) {
		pod, err := readDocument(&d)
		if err != nil {
			return nil, err
		}
		if pod == nil {
			continue
		}
		if line, dup := names[pod.Name]; dup {
			return nil, &Error{File: file, Line: d.lineOf("metadata.name"), Field: "metadata.name",
				Message: fmt.Sprintf("pod %s is also defined on line %d: give each pod its own name",
					pod.Name, line),
				Err: ErrInvalid}
		}
		names[pod.Name] = d.lineOf("metadata.name")
		m.Pods = append(m.Pods, pod)
	}
	if len(m.Pods) == 0 {
		return nil, &Error{File: file, Message: "no Pod document: a manifest needs at least one",
			Err: ErrInvalid}
	}
	return m, nil
}

// PodNames returns the names of a manifest's Pod documents in file order.
// It reads only kind and metadata.name, so `kube down` works also on a
// manifest that play would no longer accept.
func PodNames(file string, data []byte) ([]string, error) {
	var names []string
	docs := splitDocuments(file, data)
	for i := range docs {
		d := &docs[i]
		if err := d.parse(); err != nil {
			return nil, err
		}
		if d.root == nil {
			continue
		}
		if err := d.checkKind(); err != nil {
			return nil, err
		}
		name := d.metadataName()
		if name == "" {
			return nil, &Error{File: file, Line: d.fileLine(d.root.Line), Field: "metadata.name",
				Message: "missing: every pod needs a name", Err: ErrInvalid}
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, &Error{File: file, Message: "no Pod document: a manifest needs at least one",
			Err: ErrInvalid}
	}
	return names, nil
}

// readDocument translates one document; an empty one returns nil.
func readDocument(d *document) (*Pod, error) {
	if err := d.parse(); err != nil || d.root == nil {
		return nil, err
	}
	if err := d.checkKind(); err != nil {
		return nil, err
	}
	if err := d.walkFields(); err != nil {
		return nil, err
	}
	// Fields are checked before the typed decode, so a rejected field is
	// reported as such even when its contents would not decode.
	t := &translator{doc: d, out: &Pod{}}
	if err := t.checkFields(); err != nil {
		return nil, err
	}
	pod, err := d.decodePod()
	if err != nil {
		return nil, err
	}
	t.pod = pod
	if err := t.translate(); err != nil {
		return nil, err
	}
	return t.out, nil
}

// lineOf returns the line of path, or of the closest field above it that is
// present.
func (d *document) lineOf(path string) int {
	t := translator{doc: d}
	return t.lineOf(path)
}

// Container is a request to create one container of a played pod.
type Container struct {
	// Spec creates the container; Owner is left for the caller.
	Spec engine.ContainerSpec
	// HostPaths are the container's hostPath volumes, to check or create
	// with PrepareHostPaths before the container is created.
	HostPaths []HostPath
}

// Containers returns the requests that create the pod's containers once
// the pod exists with podID: init containers first, each list in manifest
// order. emptyDir volumes become named volumes whose names contain podID.
func (p *Pod) Containers(podID string) []Container {
	out := make([]Container, 0, len(p.containers))
	for _, c := range p.containers {
		req := Container{Spec: c.spec}
		for _, m := range c.mounts {
			switch m.volume.kind {
			case volumeMemory:
				req.Spec.Tmpfs = append(req.Spec.Tmpfs, m.destination)
				continue
			case volumeHostPath:
				req.HostPaths = append(req.HostPaths, HostPath{Path: m.volume.source,
					Type: m.volume.hostType})
			}
			req.Spec.Volumes = append(req.Spec.Volumes, m.volumeOption(podID))
		}
		out = append(out, req)
	}
	return out
}

// EmptyDirPrefix returns the prefix of the names of the emptyDir volumes
// of the pod with podID, so that `kube down` finds them without the
// manifest.
func EmptyDirPrefix(podID string) string {
	return "emptydir-" + shortID(podID) + "-"
}

// EmptyDirVolume returns the named volume that holds emptyDir volume of the
// pod with podID.
func EmptyDirVolume(podID, volume string) string {
	return EmptyDirPrefix(podID) + volume
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ContainerName returns the engine's name of a manifest's container: names
// are unique per tenant in podplug, so each is prefixed with its pod's
// name, as podman's kube play does.
func ContainerName(pod, ctr string) string {
	return pod + "-" + ctr
}

// translator turns one decoded Pod into a *Pod.
type translator struct {
	doc *document
	pod *v1.Pod
	out *Pod

	// byName maps a manifest container name to its index in out.containers.
	byName map[string]int
	// volumes are the pod's volumes by name.
	volumes map[string]*volume
	// podUser is the pod's securityContext, the default of each container.
	podUser userSettings
	// limits are the containers' limits, in manifest order.
	limits []resourceLimits
}

// validName is the engine's rule for pod, container and volume names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func (t *translator) translate() error {
	steps := []func() error{
		t.translateMetadata, t.translatePodSpec, t.translateVolumes,
		t.translateContainers, t.applyAnnotations, t.applyLimits, t.checkVolumeUse,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (t *translator) translateMetadata() error {
	meta := t.pod.ObjectMeta
	if meta.Name == "" {
		return t.invalid("metadata.name", "missing: every pod needs a name")
	}
	if !validName.MatchString(meta.Name) {
		return t.invalid("metadata.name", "%q: use letters, digits, _ . - and start with a letter or digit",
			meta.Name)
	}
	t.out.Name = meta.Name
	t.out.Spec.Name = meta.Name
	if len(meta.Labels) > 0 {
		t.out.Spec.Labels = meta.Labels
	}
	return nil
}

func (t *translator) translatePodSpec() error {
	spec := t.pod.Spec
	if len(spec.Containers) == 0 {
		return t.invalid("spec.containers", "missing: a pod needs at least one container")
	}
	if spec.HostUsers != nil && !*spec.HostUsers {
		return t.unsupported("spec.hostUsers",
			"user namespaces are not supported: remove hostUsers or set it to true")
	}

	t.out.Spec.Hostname = spec.Hostname
	if spec.HostNetwork {
		t.out.Spec.Network = model.NetworkHost
	}
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace {
		t.out.Spec.Share = []string{model.NamespaceIPC, model.NamespaceNet, model.NamespaceUTS,
			model.NamespacePID}
	}

	switch spec.RestartPolicy {
	case "", v1.RestartPolicyAlways, v1.RestartPolicyOnFailure, v1.RestartPolicyNever:
	default:
		return t.invalid("spec.restartPolicy", "%q: use Always, OnFailure or Never", spec.RestartPolicy)
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		return t.invalid("spec.terminationGracePeriodSeconds", "%d: must not be negative", *g)
	}

	user, err := t.userSettings("spec.securityContext", podSecurity(spec.SecurityContext))
	if err != nil {
		return err
	}
	t.podUser = user
	return nil
}

// restartPolicy maps a Kubernetes restart policy to the engine's name;
// Kubernetes' default is Always.
func restartPolicy(p v1.RestartPolicy) string {
	switch p {
	case v1.RestartPolicyOnFailure:
		return model.RestartOnFailure
	case v1.RestartPolicyNever:
		return model.RestartNo
	}
	return model.RestartAlways
}

// applyAnnotations reads the podplug annotations and passes every other
// annotation to each container as a label, which the engine writes into
// the OCI spec's annotations, as podman does.
func (t *translator) applyAnnotations() error {
	annotations := t.pod.Annotations
	keys := make([]string, 0, len(annotations))
	for k := range annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	passed := map[string]string{}
	for _, k := range keys {
		var err error
		switch {
		case k == AnnotationInitMode, k == annotationPodmanInitType:
			err = t.setInitMode(k, "", annotations[k])
		case strings.HasPrefix(k, AnnotationInitMode+"."):
			err = t.setInitMode(k, strings.TrimPrefix(k, AnnotationInitMode+"."), annotations[k])
		case strings.HasPrefix(k, AnnotationRequires+"."):
			err = t.setRequires(k, strings.TrimPrefix(k, AnnotationRequires+"."), annotations[k])
		case strings.HasPrefix(k, "podplug.io/"):
			t.warn(annotationPath(k), "unknown podplug annotation: ignored; podplug reads %s and %s.NAME",
				AnnotationInitMode, AnnotationRequires)
		default:
			passed[k] = annotations[k]
		}
		if err != nil {
			return err
		}
	}
	if len(passed) == 0 {
		return nil
	}
	for i := range t.out.containers {
		spec := &t.out.containers[i].spec
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		for k, v := range passed {
			spec.Labels[k] = v
		}
	}
	return nil
}

func annotationPath(key string) string {
	return fmt.Sprintf("metadata.annotations[%q]", key)
}

// setInitMode applies an init mode to one init container, or to every one
// when ctr is empty. A per-container annotation wins over the pod-wide one
// whatever their order, because keys are read sorted and the pod-wide
// keys sort first.
func (t *translator) setInitMode(key, ctr, mode string) error {
	path := annotationPath(key)
	if mode != model.InitOnce && mode != model.InitAlways {
		return t.invalid(path, "%q: use once or always", mode)
	}
	if ctr == "" {
		for i := range t.out.containers {
			if t.out.containers[i].spec.InitMode != "" {
				t.out.containers[i].spec.InitMode = mode
			}
		}
		return nil
	}
	i, ok := t.byName[ctr]
	if !ok || t.out.containers[i].spec.InitMode == "" {
		return t.invalid(path, "%s is not an init container of pod %s", ctr, t.out.Name)
	}
	t.out.containers[i].spec.InitMode = mode
	return nil
}

// setRequires records that container ctr requires the containers listed.
func (t *translator) setRequires(key, ctr, list string) error {
	path := annotationPath(key)
	i, ok := t.byName[ctr]
	if !ok {
		return t.invalid(path, "pod %s has no container %s", t.out.Name, ctr)
	}
	if t.out.containers[i].spec.InitMode != "" {
		return t.invalid(path, "%s is an init container: init containers run in manifest order "+
			"and cannot require others", ctr)
	}
	var requires []string
	for _, dep := range strings.Split(list, ",") {
		dep = strings.TrimSpace(dep)
		if dep == "" {
			continue
		}
		j, ok := t.byName[dep]
		if !ok {
			return t.invalid(path, "%s requires %s, which is not a container of pod %s",
				ctr, dep, t.out.Name)
		}
		if t.out.containers[j].spec.InitMode != "" {
			return t.invalid(path, "%s requires %s, which is an init container: require ordinary "+
				"containers only", ctr, dep)
		}
		if dep == ctr {
			return t.invalid(path, "%s requires itself", ctr)
		}
		requires = append(requires, ContainerName(t.out.Name, dep))
	}
	t.out.containers[i].spec.Requires = requires
	return nil
}
