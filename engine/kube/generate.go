package kube

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
)

// defaultStopTimeout is the engine's stop timeout, in seconds, for a
// container created without one.
const defaultStopTimeout = 10

// Source is a pod as the daemon inspects it, for Generate.
type Source struct {
	Pod engine.PodInspect
	// Containers are the pod's containers except infra, in creation order.
	Containers []engine.ContainerInspect
	// Images maps image IDs to their configs, to tell a container's own
	// settings from its image's defaults. A missing image makes Generate
	// write the container's whole command and environment.
	Images map[string]model.ImageConfig
	// VolumeDir is the engine's directory of named volumes.
	VolumeDir string
}

// Generate writes a Pod that play turns back into the same pod: the same
// containers, images, commands, environment, init modes, restart
// policies, volumes and limits. The warnings name what a Pod cannot
// express and is left out.
func Generate(src Source) (*v1.Pod, []Warning) {
	g := &generator{src: src, pod: &v1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: src.Pod.Name, Labels: src.Pod.Labels},
	}}
	g.names = containerNames(src.Pod.Name, src.Containers)
	g.podSettings()
	for i := range src.Containers {
		g.addContainer(&src.Containers[i])
	}
	g.restartPolicies()
	g.stopTimeouts()
	g.annotations()
	g.ports()
	for _, entry := range g.all {
		if entry.inspect.InitMode != "" {
			g.pod.Spec.InitContainers = append(g.pod.Spec.InitContainers, *entry.ctr)
		} else {
			g.pod.Spec.Containers = append(g.pod.Spec.Containers, *entry.ctr)
		}
	}
	return g.pod, g.warnings
}

type generator struct {
	src      Source
	pod      *v1.Pod
	warnings []Warning
	// names maps the engine's container names to the manifest's.
	names map[string]string
	// all lists the containers in creation order, ordinary the ones that
	// are not init containers.
	all      []generated
	ordinary []generated
	// volumes maps a mount source to its volume's name.
	volumes map[string]string
}

// generated pairs an inspected container with its manifest entry.
type generated struct {
	inspect *engine.ContainerInspect
	ctr     *v1.Container
}

func (g *generator) warn(format string, args ...any) {
	g.warnings = append(g.warnings, Warning{Field: "pod " + g.src.Pod.Name,
		Message: fmt.Sprintf(format, args...)})
}

// containerNames drops the "POD-" prefix that play gives container names,
// unless that would leave two containers with one name.
func containerNames(pod string, ctrs []engine.ContainerInspect) map[string]string {
	names := map[string]string{}
	used := map[string]int{}
	for _, c := range ctrs {
		short := strings.TrimPrefix(c.Name, pod+"-")
		if short == "" || !validName.MatchString(short) {
			short = c.Name
		}
		names[c.Name] = short
		used[short]++
	}
	for full, short := range names {
		if used[short] > 1 {
			names[full] = full
		}
	}
	return names
}

func (g *generator) podSettings() {
	p, spec := g.src.Pod, &g.pod.Spec
	if p.Hostname != "" && p.Hostname != p.Name {
		spec.Hostname = p.Hostname
	}
	switch p.Network {
	case model.NetworkHost:
		spec.HostNetwork = true
	case model.NetworkNone:
		g.warn("network none has no Pod field: play uses the default network")
	}
	shared := slices.Sorted(slices.Values(p.SharedNamespaces))
	switch {
	case p.InfraContainerID == "":
		g.warn("the pod has no infra container: play creates one sharing ipc, net and uts")
	case slices.Equal(shared, []string{"ipc", "net", "pid", "uts"}):
		spec.ShareProcessNamespace = ptr(true)
	case !slices.Equal(shared, []string{"ipc", "net", "uts"}):
		g.warn("shared namespaces %s have no Pod field: play shares ipc, net and uts%s",
			strings.Join(shared, ","), " (and pid with shareProcessNamespace)")
	}
	if p.ExitPolicy == model.ExitPolicyStop {
		g.warn("exit policy stop has no Pod field: play uses continue")
	}
	limits := v1.ResourceList{}
	if p.CPUs > 0 {
		limits[v1.ResourceCPU] = quantityCPU(p.CPUs)
	}
	if p.MemoryBytes > 0 {
		limits[v1.ResourceMemory] = quantityMemory(p.MemoryBytes)
	}
	if len(limits) > 0 {
		spec.Resources = &v1.ResourceRequirements{Limits: limits}
	}
}

func (g *generator) addContainer(c *engine.ContainerInspect) {
	cfg := g.src.Images[c.ImageID]
	ctr := v1.Container{Name: g.names[c.Name], Image: c.Image}
	ctr.Command, ctr.Args = commandAndArgs(c.Command, cfg)
	ctr.Env = ownEnv(c.Env, cfg.Env)
	if c.WorkDir != "" && c.WorkDir != cfg.WorkingDir {
		ctr.WorkingDir = c.WorkDir
	}
	ctr.SecurityContext = g.securityContext(c, cfg)
	ctr.Lifecycle = stopSignal(c, cfg)
	ctr.VolumeMounts = g.mounts(c)

	entry := generated{inspect: c, ctr: &ctr}
	g.all = append(g.all, entry)
	if c.InitMode == "" {
		g.ordinary = append(g.ordinary, entry)
	}
}

// commandAndArgs splits a container's command line into Kubernetes'
// command and args: nothing when it is the image's default, args alone
// when it starts with the image's entrypoint, else command. Each is
// escaped, so play's $(VAR) expansion gives back the same strings.
func commandAndArgs(argv []string, cfg model.ImageConfig) (command, args []string) {
	image := append(append([]string(nil), cfg.Entrypoint...), cfg.Cmd...)
	switch {
	case slices.Equal(argv, image):
		return nil, nil
	case len(cfg.Entrypoint) > 0 && len(argv) > len(cfg.Entrypoint) &&
		slices.Equal(argv[:len(cfg.Entrypoint)], cfg.Entrypoint):
		return nil, escapeAll(argv[len(cfg.Entrypoint):])
	case len(cfg.Entrypoint) == 0 && len(argv) > 0:
		return nil, escapeAll(argv)
	}
	return escapeAll(argv), nil
}

// ownEnv returns the variables that the image does not set to the same
// value, escaped for play's $(VAR) expansion.
func ownEnv(env, imageEnv []string) []v1.EnvVar {
	var out []v1.EnvVar
	for _, kv := range env {
		if slices.Contains(imageEnv, kv) {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		out = append(out, v1.EnvVar{Name: name, Value: escape(value)})
	}
	return out
}

func (g *generator) securityContext(c *engine.ContainerInspect, cfg model.ImageConfig) *v1.SecurityContext {
	sc := &v1.SecurityContext{}
	if c.User != "" && c.User != cfg.User {
		uid, gid, ok := numericUser(c.User)
		if ok {
			sc.RunAsUser, sc.RunAsGroup = uid, gid
		} else {
			g.warn("container %s: user %q is not numeric and has no Pod field: "+
				"play uses the image's user", c.Name, c.User)
		}
	}
	if c.Privileged {
		sc.Privileged = ptr(true)
	}
	if c.ReadOnlyRootfs {
		sc.ReadOnlyRootFilesystem = ptr(true)
	}
	if len(c.CapAdd) > 0 || len(c.CapDrop) > 0 {
		sc.Capabilities = &v1.Capabilities{Add: capabilityNames(c.CapAdd),
			Drop: capabilityNames(c.CapDrop)}
	}
	if *sc == (v1.SecurityContext{}) {
		return nil
	}
	return sc
}

// numericUser reads "UID" or "UID:GID".
func numericUser(user string) (uid, gid *int64, ok bool) {
	u, gs, hasGroup := strings.Cut(user, ":")
	n, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return nil, nil, false
	}
	uid = ptr(int64(n))
	if !hasGroup {
		return uid, nil, true
	}
	m, err := strconv.ParseUint(gs, 10, 32)
	if err != nil {
		return nil, nil, false
	}
	return uid, ptr(int64(m)), true
}

// capabilityNames writes CAP_X as Kubernetes does: X.
func capabilityNames(caps []string) []v1.Capability {
	var out []v1.Capability
	for _, c := range caps {
		out = append(out, v1.Capability(strings.TrimPrefix(c, "CAP_")))
	}
	return out
}

// stopSignal returns a lifecycle with the stop signal when it differs from
// the image's, which is SIGTERM unless the image names another.
func stopSignal(c *engine.ContainerInspect, cfg model.ImageConfig) *v1.Lifecycle {
	want := "SIGTERM"
	if cfg.StopSignal != "" {
		want = cfg.StopSignal
	}
	have, err1 := engine.ParseSignal(c.StopSignal)
	def, err2 := engine.ParseSignal(want)
	if err1 != nil || (err2 == nil && have == def) {
		return nil
	}
	return &v1.Lifecycle{StopSignal: ptr(v1.Signal(c.StopSignal))}
}

// mounts turns a container's mounts into volume mounts, adding the volumes
// to the pod: named volumes that play made for an emptyDir become emptyDir
// again, other named volumes persistentVolumeClaims, host paths hostPath,
// and each tmpfs an emptyDir of medium Memory.
func (g *generator) mounts(c *engine.ContainerInspect) []v1.VolumeMount {
	var out []v1.VolumeMount
	for _, m := range c.Mounts {
		name := g.volumeFor(m)
		out = append(out, v1.VolumeMount{Name: name, MountPath: m.Destination, ReadOnly: m.ReadOnly})
	}
	return out
}

func (g *generator) volumeFor(m model.Mount) string {
	if g.volumes == nil {
		g.volumes = map[string]string{}
	}
	key := m.Type + ":" + m.Source
	if m.Type == model.MountTmpfs {
		key = fmt.Sprintf("tmpfs:%d", len(g.pod.Spec.Volumes)) // never shared
	}
	if name, ok := g.volumes[key]; ok {
		return name
	}

	vol := v1.Volume{}
	named, isNamed := g.namedVolume(m.Source)
	switch {
	case m.Type == model.MountTmpfs:
		vol.Name = "tmpfs"
		vol.EmptyDir = &v1.EmptyDirVolumeSource{Medium: v1.StorageMediumMemory}
	case isNamed && strings.HasPrefix(named, EmptyDirPrefix(g.src.Pod.ID)):
		vol.Name = strings.TrimPrefix(named, EmptyDirPrefix(g.src.Pod.ID))
		vol.EmptyDir = &v1.EmptyDirVolumeSource{}
	case isNamed:
		vol.Name = named
		vol.PersistentVolumeClaim = &v1.PersistentVolumeClaimVolumeSource{ClaimName: named}
	default:
		vol.Name = "host-" + strings.Trim(filepath.Base(m.Source), ".")
		vol.HostPath = &v1.HostPathVolumeSource{Path: m.Source}
	}

	vol.Name = g.uniqueVolumeName(vol.Name)
	g.volumes[key] = vol.Name
	g.pod.Spec.Volumes = append(g.pod.Spec.Volumes, vol)
	return vol.Name
}

// namedVolume returns the volume name of a source under VolumeDir/NAME/_data.
func (g *generator) namedVolume(source string) (string, bool) {
	if g.src.VolumeDir == "" {
		return "", false
	}
	rel, err := filepath.Rel(g.src.VolumeDir, source)
	if err != nil {
		return "", false
	}
	name, rest, ok := strings.Cut(filepath.ToSlash(rel), "/")
	if !ok || rest != "_data" || !validName.MatchString(name) {
		return "", false
	}
	return name, true
}

// uniqueVolumeName returns name, or name with a number added when a volume
// of the pod already has it.
func (g *generator) uniqueVolumeName(name string) string {
	if !validName.MatchString(name) {
		name = "volume"
	}
	taken := func(n string) bool {
		return slices.ContainsFunc(g.pod.Spec.Volumes, func(v v1.Volume) bool { return v.Name == n })
	}
	candidate := name
	for i := 2; taken(candidate); i++ {
		candidate = fmt.Sprintf("%s-%d", name, i)
	}
	return candidate
}

// restartPolicies writes the first ordinary container's policy as the
// pod's and any other policy on its container.
func (g *generator) restartPolicies() {
	if len(g.ordinary) == 0 {
		return
	}
	podPolicy := kubeRestart(g.ordinary[0].inspect.Restart.Name)
	g.pod.Spec.RestartPolicy = podPolicy
	for _, entry := range g.ordinary {
		r := entry.inspect.Restart
		if r.MaxRetries > 0 {
			g.warn("container %s: restart on-failure:%d has no Pod field: play retries without a limit",
				entry.inspect.Name, r.MaxRetries)
		}
		if policy := kubeRestart(r.Name); policy != podPolicy {
			entry.ctr.RestartPolicy = ptr(v1.ContainerRestartPolicy(policy))
		}
	}
}

func kubeRestart(name string) v1.RestartPolicy {
	switch name {
	case model.RestartAlways:
		return v1.RestartPolicyAlways
	case model.RestartOnFailure:
		return v1.RestartPolicyOnFailure
	}
	return v1.RestartPolicyNever
}

// stopTimeouts writes the containers' stop timeout as the pod's grace
// period. A Pod has one for all containers, so the largest is taken when
// they differ.
func (g *generator) stopTimeouts() {
	var timeouts []uint
	for _, entry := range g.all {
		timeouts = append(timeouts, entry.inspect.StopTimeout)
	}
	if len(timeouts) == 0 {
		return
	}
	longest := slices.Max(timeouts)
	if slices.Min(timeouts) != longest {
		g.warn("containers have different stop timeouts: a Pod has one grace period, so all get %d s",
			longest)
	}
	if longest != defaultStopTimeout {
		g.pod.Spec.TerminationGracePeriodSeconds = ptr(int64(longest))
	}
}

// annotations writes init modes, dependencies and the labels that every
// container has, which play gives each container back.
func (g *generator) annotations() {
	out := map[string]string{}
	for _, entry := range g.all {
		name := g.names[entry.inspect.Name]
		if entry.inspect.InitMode == model.InitAlways {
			out[AnnotationInitMode+"."+name] = model.InitAlways
		}
		var requires []string
		for _, dep := range entry.inspect.Requires {
			short, ok := g.names[dep]
			if !ok {
				short = dep
			}
			requires = append(requires, short)
		}
		if len(requires) > 0 {
			out[AnnotationRequires+"."+name] = strings.Join(requires, ",")
		}
	}
	for k, v := range g.commonLabels() {
		out[k] = v
	}
	if len(out) > 0 {
		g.pod.Annotations = out
	}
}

// commonLabels returns the labels that every container has with the same
// value, and warns about the others, which a Pod cannot give one container.
func (g *generator) commonLabels() map[string]string {
	if len(g.all) == 0 {
		return nil
	}
	common := map[string]string{}
	for k, v := range g.all[0].inspect.Labels {
		common[k] = v
	}
	for _, entry := range g.all[1:] {
		for k, v := range common {
			if entry.inspect.Labels[k] != v {
				delete(common, k)
			}
		}
	}
	for _, entry := range g.all {
		for _, k := range slices.Sorted(maps.Keys(entry.inspect.Labels)) {
			if _, ok := common[k]; !ok {
				g.warn("container %s: label %s is not on every container and has no Pod field",
					entry.inspect.Name, k)
			}
		}
	}
	return common
}

// ports puts the pod's published ports on its first ordinary container:
// the pod shares one network namespace, so any container will do.
func (g *generator) ports() {
	if len(g.src.Pod.Ports) == 0 {
		return
	}
	if len(g.ordinary) == 0 {
		g.warn("published ports need an ordinary container to be written on")
		return
	}
	ctr := g.ordinary[0].ctr
	for _, p := range g.src.Pod.Ports {
		port := v1.ContainerPort{ContainerPort: int32(p.ContainerPort), HostPort: int32(p.HostPort),
			Protocol: v1.Protocol(strings.ToUpper(p.Protocol))}
		if p.HostIP != "" && p.HostIP != "0.0.0.0" {
			port.HostIP = p.HostIP
		}
		ctr.Ports = append(ctr.Ports, port)
	}
}

// Marshal writes pods as YAML documents separated by "---", leaving out
// empty fields such as status.
func Marshal(pods []*v1.Pod) ([]byte, error) {
	var out []byte
	for i, pod := range pods {
		data, err := json.Marshal(pod)
		if err != nil {
			return nil, fmt.Errorf("encode pod %s: %w", pod.Name, err)
		}
		var tree any
		if err := json.Unmarshal(data, &tree); err != nil {
			return nil, fmt.Errorf("encode pod %s: %w", pod.Name, err)
		}
		doc, err := yaml.Marshal(prune(tree))
		if err != nil {
			return nil, fmt.Errorf("encode pod %s: %w", pod.Name, err)
		}
		if i > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, doc...)
	}
	return out, nil
}

// prune drops nulls, empty maps and empty lists from a decoded JSON tree,
// but keeps "emptyDir: {}", whose presence is the volume's type.
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			child = prune(child)
			if isEmpty(child) && (k != "emptyDir" || child == nil) {
				delete(t, k)
				continue
			}
			t[k] = child
		}
	case []any:
		for i, child := range t {
			t[i] = prune(child)
		}
	}
	return v
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

func ptr[T any](v T) *T { return &v }
