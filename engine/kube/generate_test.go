package kube

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	v1 "k8s.io/api/core/v1"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/network"
)

const testVolumeDir = "/var/lib/podplug/volumes"

// fakePod returns what the engine would inspect after creating p with
// podID from images, following the engine's rules for image defaults.
func fakePod(t *testing.T, p *Pod, podID string, images map[string]model.ImageConfig) Source {
	t.Helper()
	spec := p.Spec
	inspect := engine.PodInspect{ID: podID, Name: spec.Name, Labels: spec.Labels,
		Hostname: spec.Hostname, Network: spec.Network, InfraContainerID: "infra" + podID,
		SharedNamespaces: spec.Share, CPUs: spec.CPUs, ExitPolicy: model.ExitPolicyContinue}
	if inspect.Hostname == "" {
		inspect.Hostname = spec.Name
	}
	if inspect.Network == "" {
		inspect.Network = model.NetworkBridge
	}
	if inspect.SharedNamespaces == nil {
		inspect.SharedNamespaces = []string{"ipc", "net", "uts"}
	}
	if spec.Memory != "" {
		n, err := engine.ParseSize(spec.Memory)
		if err != nil {
			t.Fatal(err)
		}
		inspect.MemoryBytes = n
	}
	for _, publish := range spec.Publish {
		m, err := network.ParsePublish(publish)
		if err != nil {
			t.Fatal(err)
		}
		inspect.Ports = append(inspect.Ports, model.PortMapping{HostIP: m.HostIP, HostPort: m.HostPort,
			ContainerPort: m.ContainerPort, Protocol: m.Protocol})
	}
	src := Source{Pod: inspect, Images: map[string]model.ImageConfig{}, VolumeDir: testVolumeDir}
	for _, c := range p.Containers(podID) {
		cfg := images[c.Spec.Image]
		src.Images["sha256:"+c.Spec.Image] = cfg
		src.Containers = append(src.Containers, fakeContainer(t, c.Spec, cfg))
	}
	return src
}

func fakeContainer(t *testing.T, spec engine.ContainerSpec, cfg model.ImageConfig) engine.ContainerInspect {
	t.Helper()
	c := engine.ContainerInspect{Name: spec.Name, Image: spec.Image, ImageID: "sha256:" + spec.Image,
		InitMode: spec.InitMode, Requires: spec.Requires, Labels: spec.Labels,
		Privileged: spec.Privileged, ReadOnlyRootfs: spec.ReadOnlyRootfs,
		WorkDir: cfg.WorkingDir, User: cfg.User, StopTimeout: defaultStopTimeout}

	entrypoint := cfg.Entrypoint
	if len(spec.Entrypoint) > 0 {
		entrypoint = spec.Entrypoint
	}
	c.Command = append([]string(nil), entrypoint...)
	switch {
	case len(spec.Command) > 0:
		c.Command = append(c.Command, spec.Command...)
	case len(spec.Entrypoint) == 0:
		c.Command = append(c.Command, cfg.Cmd...)
	}

	c.Env = append(append([]string(nil), cfg.Env...), spec.Env...)
	if spec.WorkDir != "" {
		c.WorkDir = spec.WorkDir
	}
	if spec.User != "" {
		c.User = spec.User
	}
	c.Restart = model.RestartPolicy{Name: spec.Restart}
	if c.Restart.Name == "" {
		c.Restart.Name = model.RestartNo
	}

	signal := spec.StopSignal
	if signal == "" {
		signal = cfg.StopSignal
	}
	if signal == "" {
		signal = "SIGTERM"
	}
	sig, err := engine.ParseSignal(signal)
	if err != nil {
		t.Fatal(err)
	}
	c.StopSignal = unix.SignalName(sig)
	if spec.StopTimeout != nil {
		c.StopTimeout = *spec.StopTimeout
	}

	for _, v := range spec.Volumes {
		m, err := engine.ParseVolume(v)
		if err != nil {
			t.Fatal(err)
		}
		if !filepath.IsAbs(m.Source) {
			m.Source = filepath.Join(testVolumeDir, m.Source, "_data")
		}
		c.Mounts = append(c.Mounts, m)
	}
	for _, path := range spec.Tmpfs {
		c.Mounts = append(c.Mounts, model.Mount{Type: model.MountTmpfs, Destination: path})
	}
	for _, name := range spec.CapAdd {
		c.CapAdd = append(c.CapAdd, "CAP_"+strings.ToUpper(name))
	}
	for _, name := range spec.CapDrop {
		c.CapDrop = append(c.CapDrop, "CAP_"+strings.ToUpper(name))
	}
	return c
}

// normalize replaces a source's pod ID, so two plays of one manifest
// compare equal.
func normalize(src Source) Source {
	data, _ := json.Marshal(src)
	text := strings.ReplaceAll(string(data), src.Pod.ID, "POD")
	text = strings.ReplaceAll(text, shortID(src.Pod.ID), "POD")
	var out Source
	_ = json.Unmarshal([]byte(text), &out)
	return out
}

func TestGenerateRoundTrip(t *testing.T) {
	images := map[string]map[string]model.ImageConfig{
		"image without defaults": {},
		"image with defaults": {
			"localhost/busybox": {Entrypoint: []string{"/entry"}, Cmd: []string{"default"},
				Env: []string{"PATH=/bin", "MODE=image"}, WorkingDir: "/home", User: "nobody",
				StopSignal: "SIGQUIT"},
		},
	}
	for _, file := range []string{"testdata/full.yaml", "../../examples/pods/web.yaml"} {
		for variant, imgs := range images {
			t.Run(filepath.Base(file)+" "+variant, func(t *testing.T) {
				first, err := Read(file, mustReadFile(t, file))
				if err != nil {
					t.Fatal(err)
				}
				before := fakePod(t, first.Pods[0], "1111111111111111aaaa", imgs)
				generated, warnings := Generate(before)
				if len(warnings) > 0 {
					t.Errorf("unexpected generate warnings: %v", warnings)
				}
				data, err := Marshal([]*v1.Pod{generated})
				if err != nil {
					t.Fatal(err)
				}
				second, err := Read("generated.yaml", data)
				if err != nil {
					t.Fatalf("Read of the generated manifest: %v\n%s", err, data)
				}
				if w := warningsText(second.Pods[0]); w != "" {
					t.Errorf("the generated manifest plays with warnings:\n%s\n%s", w, data)
				}
				after := fakePod(t, second.Pods[0], "2222222222222222bbbb", imgs)
				b, a := normalize(before), normalize(after)
				if !reflect.DeepEqual(b, a) {
					t.Errorf("the pod changed in the round trip:\n%s\nmanifest:\n%s",
						jsonDiff(b, a), data)
				}
			})
		}
	}
}

func TestGenerateWarnings(t *testing.T) {
	base := func() Source {
		return Source{
			Pod: engine.PodInspect{ID: "abc", Name: "p", Hostname: "p", Network: model.NetworkBridge,
				InfraContainerID: "i", SharedNamespaces: []string{"ipc", "net", "uts"},
				ExitPolicy: model.ExitPolicyContinue},
			Containers: []engine.ContainerInspect{
				{Name: "a", Image: "img", Command: []string{"a"}, StopSignal: "SIGTERM", StopTimeout: 10,
					Restart: model.RestartPolicy{Name: model.RestartNo}},
				{Name: "b", Image: "img", Command: []string{"b"}, StopSignal: "SIGTERM", StopTimeout: 10,
					Restart: model.RestartPolicy{Name: model.RestartNo}},
			},
		}
	}
	tests := []struct {
		name   string
		change func(*Source)
		want   string
	}{
		{name: "network none", change: func(s *Source) { s.Pod.Network = model.NetworkNone },
			want: "network none has no Pod field"},
		{name: "no infra", change: func(s *Source) { s.Pod.InfraContainerID = "" },
			want: "the pod has no infra container"},
		{name: "shared cgroup namespace",
			change: func(s *Source) { s.Pod.SharedNamespaces = []string{"cgroup", "ipc", "net", "uts"} },
			want:   "shared namespaces cgroup,ipc,net,uts have no Pod field"},
		{name: "exit policy", change: func(s *Source) { s.Pod.ExitPolicy = model.ExitPolicyStop },
			want: "exit policy stop has no Pod field"},
		{name: "user name", change: func(s *Source) { s.Containers[0].User = "nobody" },
			want: `container a: user "nobody" is not numeric`},
		{name: "retries", change: func(s *Source) {
			s.Containers[0].Restart = model.RestartPolicy{Name: model.RestartOnFailure, MaxRetries: 3}
		}, want: "container a: restart on-failure:3 has no Pod field"},
		{name: "stop timeouts", change: func(s *Source) { s.Containers[1].StopTimeout = 30 },
			want: "containers have different stop timeouts: a Pod has one grace period, so all get 30 s"},
		{name: "label of one container", change: func(s *Source) {
			s.Containers[1].Labels = map[string]string{"k": "v"}
		}, want: "container b: label k is not on every container"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := base()
			tt.change(&src)
			_, warnings := Generate(src)
			var texts []string
			for _, w := range warnings {
				texts = append(texts, w.String())
			}
			if len(texts) != 1 || !strings.Contains(texts[0], tt.want) {
				t.Errorf("warnings = %q, expected one containing %q", texts, tt.want)
			}
		})
	}
}

func TestGenerateNames(t *testing.T) {
	src := Source{
		Pod: engine.PodInspect{ID: "abc", Name: "web", Network: model.NetworkBridge, InfraContainerID: "i",
			SharedNamespaces: []string{"ipc", "net", "uts"}},
		Containers: []engine.ContainerInspect{
			{Name: "web-a", Image: "img", StopSignal: "SIGTERM", StopTimeout: 10},
			{Name: "a", Image: "img", StopSignal: "SIGTERM", StopTimeout: 10, Requires: []string{"web-a"}},
			{Name: "web-b", Image: "img", StopSignal: "SIGTERM", StopTimeout: 10, Requires: []string{"a"}},
		},
	}
	pod, _ := Generate(src)
	var names []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	equalSlices(t, "names", names, []string{"web-a", "a", "b"})
	equal(t, "requires of a", pod.Annotations[AnnotationRequires+".a"], "web-a")
	equal(t, "requires of b", pod.Annotations[AnnotationRequires+".b"], "a")
}

func TestMarshalLeavesOutEmptyFields(t *testing.T) {
	src := Source{
		Pod: engine.PodInspect{ID: "abc", Name: "p", Network: model.NetworkBridge, InfraContainerID: "i",
			SharedNamespaces: []string{"ipc", "net", "uts"}},
		Containers: []engine.ContainerInspect{{Name: "p-c", Image: "img", StopSignal: "SIGTERM",
			StopTimeout: 10, Mounts: []model.Mount{{Type: model.MountBind, Destination: "/d",
				Source: filepath.Join(testVolumeDir, EmptyDirVolume("abc", "d"), "_data")}}}},
		VolumeDir: testVolumeDir,
	}
	pod, _ := Generate(src)
	data, err := Marshal([]*v1.Pod{pod, pod})
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, absent := range []string{"status", "creationTimestamp", "resources"} {
		if strings.Contains(text, absent) {
			t.Errorf("manifest contains %s:\n%s", absent, text)
		}
	}
	for _, present := range []string{"emptyDir: {}", "\n---\napiVersion: v1\n"} {
		if !strings.Contains(text, present) {
			t.Errorf("manifest lacks %q:\n%s", present, text)
		}
	}
}

// jsonDiff lists the lines of a's JSON that differ from b's.
func jsonDiff(before, after any) string {
	bj, _ := json.MarshalIndent(before, "", " ")
	aj, _ := json.MarshalIndent(after, "", " ")
	bl, al := strings.Split(string(bj), "\n"), strings.Split(string(aj), "\n")
	var out []string
	for i := range max(len(bl), len(al)) {
		var b, a string
		if i < len(bl) {
			b = bl[i]
		}
		if i < len(al) {
			a = al[i]
		}
		if a != b {
			out = append(out, "line "+strconv.Itoa(i+1)+": before "+strings.TrimSpace(b)+
				", after "+strings.TrimSpace(a))
		}
	}
	return strings.Join(out, "\n")
}
