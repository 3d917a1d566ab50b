package kube

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/network"
)

// FuzzPlay reads arbitrary manifests. Read must not panic, must return an
// *Error for every manifest it rejects, and every manifest it accepts must
// translate into requests that the engine's checks accept.
func FuzzPlay(f *testing.F) {
	for _, path := range []string{"testdata/full.yaml", "../../examples/pods/web.yaml"} {
		data, err := readSeed(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(manifest("containers: [{name: c, image: img, ports: [{containerPort: 1, hostPort: 2}]}]")))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [&c {name: c, image: i}]}\n"))
	f.Add([]byte("---\n--- a\n...\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read("fuzz.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *kube.Error", err, err)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %q wraps neither ErrInvalid nor ErrUnsupported", err)
			}
			return
		}
		for _, p := range m.Pods {
			checkPod(t, p)
		}
	})
}

// checkPod applies the engine's checks of pod and container requests that
// need no host: names, network, limits, publishing, and each option of
// each container.
func checkPod(t *testing.T, p *Pod) {
	t.Helper()
	spec := p.Spec
	if !validName.MatchString(spec.Name) || spec.Name != p.Name {
		t.Fatalf("pod name %q is not valid", spec.Name)
	}
	switch spec.Network {
	case "", model.NetworkHost, model.NetworkBridge:
	default:
		t.Fatalf("pod %s: network %q", spec.Name, spec.Network)
	}
	if spec.CPUs < 0 || math.IsNaN(spec.CPUs) || math.IsInf(spec.CPUs, 0) {
		t.Fatalf("pod %s: cpus %v", spec.Name, spec.CPUs)
	}
	if spec.Memory != "" {
		if _, err := engine.ParseSize(spec.Memory); err != nil {
			t.Fatalf("pod %s: memory %q: %v", spec.Name, spec.Memory, err)
		}
	}
	for _, publish := range spec.Publish {
		if _, err := network.ParsePublish(publish); err != nil {
			t.Fatalf("pod %s: %v", spec.Name, err)
		}
	}
	names := map[string]bool{}
	for _, c := range p.Containers("0123456789abcdef") {
		names[c.Spec.Name] = true
	}
	for _, c := range p.Containers("0123456789abcdef") {
		checkContainer(t, c, names)
	}
}

func checkContainer(t *testing.T, c Container, names map[string]bool) {
	t.Helper()
	s := c.Spec
	if !validName.MatchString(s.Name) || s.Image == "" {
		t.Fatalf("container %q: invalid name or no image %q", s.Name, s.Image)
	}
	switch {
	case s.InitMode == model.InitOnce || s.InitMode == model.InitAlways:
		if s.Restart != "" || len(s.Requires) > 0 {
			t.Fatalf("init container %s has restart %q or requires %v", s.Name, s.Restart, s.Requires)
		}
	case s.InitMode == "":
		switch s.Restart {
		case model.RestartNo, model.RestartOnFailure, model.RestartAlways:
		default:
			t.Fatalf("container %s: restart %q", s.Name, s.Restart)
		}
	default:
		t.Fatalf("container %s: init mode %q", s.Name, s.InitMode)
	}
	for _, dep := range s.Requires {
		if !names[dep] || dep == s.Name {
			t.Fatalf("container %s requires %q", s.Name, dep)
		}
	}
	for _, kv := range s.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			t.Fatalf("container %s: environment %q", s.Name, kv)
		}
	}
	if s.WorkDir != "" && !filepath.IsAbs(s.WorkDir) {
		t.Fatalf("container %s: working directory %q", s.Name, s.WorkDir)
	}
	if s.StopSignal != "" {
		if _, err := engine.ParseSignal(s.StopSignal); err != nil {
			t.Fatalf("container %s: %v", s.Name, err)
		}
	}
	for _, v := range s.Volumes {
		m, err := engine.ParseVolume(v)
		if err != nil {
			t.Fatalf("container %s: %v", s.Name, err)
		}
		if filepath.IsAbs(m.Source) && !hostPathListed(c.HostPaths, m.Source) {
			t.Fatalf("container %s: bind mount %s is not among its host paths", s.Name, m.Source)
		}
	}
	for _, path := range s.Tmpfs {
		if !filepath.IsAbs(path) {
			t.Fatalf("container %s: tmpfs %q", s.Name, path)
		}
	}
}

func hostPathListed(paths []HostPath, source string) bool {
	for _, h := range paths {
		if h.Path == source {
			return true
		}
	}
	return false
}

func readSeed(path string) ([]byte, error) {
	return osReadFile(path)
}
