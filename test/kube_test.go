package test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podplug/podplug/engine/model"
)

// demoPage is what the init container of examples/pods/web.yaml writes.
const demoPage = "<h1>hello from a podplug pod</h1>"

// TestKubePlayExamples plays every manifest under examples/pods, checks
// that its pods run, and takes it down again.
func TestKubePlayExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/pods/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under examples/pods: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			e := NewEnv(t)
			pods := strings.Fields(e.MustRun("kube", "play", file))
			if len(pods) == 0 {
				t.Fatal("kube play printed no pod names")
			}
			for _, pod := range pods {
				e.Eventually(20*time.Second, "pod "+pod+" to run", func() bool {
					return e.PodState(pod) == "Running"
				})
			}
			if filepath.Base(file) == "web.yaml" {
				checkWebDemo(t, e)
			}

			removed := strings.Fields(e.MustRun("kube", "down", file))
			if !slices.Equal(removed, pods) {
				t.Errorf("kube down removed %v, expected %v", removed, pods)
			}
			for _, pod := range pods {
				if r := e.Run("pod", "exists", pod); r.Code != 1 {
					t.Errorf("pod %s still exists after kube down (exit %d)", pod, r.Code)
				}
			}
			if left := e.emptyDirVolumes(); len(left) > 0 {
				t.Errorf("emptyDir volumes left after kube down: %v", left)
			}
			if images := e.MustRun("image", "ls", "-q"); images == "" {
				t.Error("kube down removed the image")
			}
		})
	}
}

// checkWebDemo checks the demo pod: the page through the published port,
// the sidecar's logs, the init container gone, the limits summed.
func checkWebDemo(t *testing.T, e *Env) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	var page string
	e.Eventually(20*time.Second, "the page on 127.0.0.1:18080", func() bool {
		resp, err := client.Get("http://127.0.0.1:18080/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		page = string(body)
		return err == nil && resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(page, demoPage) {
		t.Errorf("GET http://127.0.0.1:18080/ = %q, expected the demo page", page)
	}
	e.Eventually(20*time.Second, "the page in the logs of web-fetch", func() bool {
		return strings.Contains(e.MustRun("logs", "web-fetch"), demoPage)
	})
	if slices.Contains(e.containerNames(), "web-init") {
		t.Error("init container web-init still exists, expected it removed after it succeeded")
	}
	pod := e.InspectPod("web")
	if pod.CPUs != 0.75 {
		t.Errorf("pod cpus = %v, expected 0.75 (500m + 250m)", pod.CPUs)
	}
	if pod.MemoryBytes != 96<<20 {
		t.Errorf("pod memory = %d, expected %d (64Mi + 32Mi)", pod.MemoryBytes, 96<<20)
	}
	if fetch := member(t, pod, "web-fetch"); !slices.Equal(fetch.Requires, []string{"web-httpd"}) {
		t.Errorf("web-fetch requires %v, expected [web-httpd]", fetch.Requires)
	}
}

// emptyDirVolumes returns the named volumes that kube play made for
// emptyDir volumes.
func (e *Env) emptyDirVolumes() []string {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.Root, "volumes"))
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	var names []string
	for _, entry := range entries {
		if strings.HasPrefix(entry.Name(), "emptydir-") {
			names = append(names, entry.Name())
		}
	}
	return names
}

// podSnapshot is what a round trip must keep of a pod.
type podSnapshot struct {
	Labels      map[string]string
	Hostname    string
	Network     string
	Shared      []string
	CPUs        float64
	MemoryBytes int64
	Ports       []model.PortMapping
	Containers  []containerSnapshot
}

type containerSnapshot struct {
	Name           string
	Image          string
	Command        []string
	Env            []string
	WorkDir        string
	User           string
	InitMode       string
	Requires       []string
	Restart        model.RestartPolicy
	StopSignal     string
	StopTimeout    uint
	Mounts         []model.Mount
	Labels         map[string]string
	Privileged     bool
	CapAdd         []string
	CapDrop        []string
	ReadOnlyRootfs bool
}

// kubeSnapshot inspects pod and its containers, with the pod's ID left out of
// volume paths so that two plays of one manifest compare equal.
func (e *Env) kubeSnapshot(pod string) podSnapshot {
	e.t.Helper()
	p := e.InspectPod(pod)
	out := podSnapshot{Labels: p.Labels, Hostname: p.Hostname, Network: p.Network,
		Shared: p.SharedNamespaces, CPUs: p.CPUs, MemoryBytes: p.MemoryBytes, Ports: p.Ports}
	for _, m := range p.Containers {
		if m.Infra {
			continue
		}
		c := e.InspectContainer(m.ID)
		mounts := make([]model.Mount, len(c.Mounts))
		for i, mnt := range c.Mounts {
			mnt.Source = strings.ReplaceAll(mnt.Source, p.ID[:12], "POD")
			mounts[i] = mnt
		}
		out.Containers = append(out.Containers, containerSnapshot{
			Name: c.Name, Image: c.Image, Command: c.Command, Env: c.Env, WorkDir: c.WorkDir,
			User: c.User, InitMode: c.InitMode, Requires: c.Requires, Restart: c.Restart,
			StopSignal: c.StopSignal, StopTimeout: c.StopTimeout, Mounts: mounts, Labels: c.Labels,
			Privileged: c.Privileged, CapAdd: c.CapAdd, CapDrop: c.CapDrop,
			ReadOnlyRootfs: c.ReadOnlyRootfs,
		})
	}
	return out
}

// writeKubeManifest writes a manifest of testdata/kube with HOSTDIR replaced
// and returns its path.
func writeKubeManifest(t *testing.T, name, hostDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "kube", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	text := strings.ReplaceAll(string(data), "HOSTDIR", hostDir)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKubeGenerateRoundTrip plays a manifest without starting it, generates
// a manifest from the pod, takes the pod down, plays the generated
// manifest and expects the same pod, which then starts.
func TestKubeGenerateRoundTrip(t *testing.T) {
	e := NewEnv(t)
	hostDir := filepath.Join(t.TempDir(), "host")
	original := writeKubeManifest(t, "roundtrip.yaml", hostDir)

	e.MustRun("kube", "play", "--start=false", original)
	before := e.kubeSnapshot("rt")
	if info, err := os.Stat(hostDir); err != nil || !info.IsDir() {
		t.Errorf("hostPath %s of type DirectoryOrCreate was not created: %v", hostDir, err)
	}

	generated := filepath.Join(t.TempDir(), "generated.yaml")
	gen := e.Run("kube", "generate", "-f", generated, "rt")
	if gen.Code != 0 {
		t.Fatalf("kube generate: exit %d: %s", gen.Code, gen.Stderr)
	}
	if gen.Stderr != "" {
		t.Errorf("kube generate warned: %s", gen.Stderr)
	}
	e.MustRun("kube", "down", original)
	if r := e.Run("pod", "exists", "rt"); r.Code != 1 {
		t.Fatalf("pod rt still exists after kube down (exit %d)", r.Code)
	}

	play := e.Run("kube", "play", "--start=false", generated)
	if play.Code != 0 {
		text, _ := os.ReadFile(generated)
		t.Fatalf("kube play of the generated manifest: exit %d: %s\n%s", play.Code, play.Stderr, text)
	}
	if play.Stderr != "" {
		t.Errorf("kube play of the generated manifest warned: %s", play.Stderr)
	}
	after := e.kubeSnapshot("rt")
	if !reflect.DeepEqual(before, after) {
		b, _ := json.MarshalIndent(before, "", "  ")
		a, _ := json.MarshalIndent(after, "", "  ")
		text, _ := os.ReadFile(generated)
		t.Fatalf("the pod changed in the round trip\nbefore: %s\nafter: %s\nmanifest:\n%s", b, a, text)
	}

	e.MustRun("pod", "start", "rt")
	e.Eventually(20*time.Second, "pod rt to run", func() bool { return e.PodState("rt") == "Running" })
	names := e.containerNames()
	if slices.Contains(names, "rt-seed") {
		t.Error("once init container rt-seed still exists after the start")
	}
	if !slices.Contains(names, "rt-prepare") {
		t.Error("always init container rt-prepare is gone after the start")
	}
	e.Eventually(10*time.Second, "rt-app to print its mode", func() bool {
		return strings.Contains(e.MustRun("logs", "rt-app"), "replica")
	})
	e.MustRun("kube", "down", generated)
	if left := e.emptyDirVolumes(); len(left) > 0 {
		t.Errorf("emptyDir volumes left after kube down: %v", left)
	}
}

// TestKubePlayRollsBack plays manifests whose second pod fails and expects
// no pod and no emptyDir volume afterwards.
func TestKubePlayRollsBack(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     string
	}{
		{name: "missing image", manifest: "rollback.yaml", want: "localhost/missing"},
		{name: "failing init container", manifest: "rollback-start.yaml",
			want: "init container second-fail exited with code 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEnv(t)
			r := e.Run("kube", "play", filepath.Join("testdata", "kube", tt.manifest))
			if r.Code != 125 {
				t.Fatalf("kube play: exit %d, expected 125\nstdout: %s\nstderr: %s", r.Code,
					r.Stdout, r.Stderr)
			}
			for _, want := range []string{tt.want, "the pods it created were removed"} {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("stderr %q lacks %q", r.Stderr, want)
				}
			}
			if pods := e.MustRun("pod", "ps", "-q"); pods != "" {
				t.Errorf("pods left after a failed play: %s", pods)
			}
			if ctrs := e.psAll(); len(ctrs) > 0 {
				t.Errorf("containers left after a failed play: %v", e.containerNames())
			}
			if left := e.emptyDirVolumes(); len(left) > 0 {
				t.Errorf("emptyDir volumes left after a failed play: %v", left)
			}
		})
	}
}

// TestKubePlayKeepsExistingPods plays a manifest twice: the second play
// fails on the pod name, and its rollback must not touch the first play's
// pods.
func TestKubePlayKeepsExistingPods(t *testing.T) {
	e := NewEnv(t)
	manifest := "../examples/pods/web.yaml"
	e.MustRun("kube", "play", "--start=false", manifest)
	r := e.Run("kube", "play", "--start=false", manifest)
	if r.Code != 125 {
		t.Fatalf("second kube play: exit %d, expected 125", r.Code)
	}
	if !strings.Contains(r.Stderr, "web") {
		t.Errorf("stderr %q does not name pod web", r.Stderr)
	}
	if r := e.Run("pod", "exists", "web"); r.Code != 0 {
		t.Fatal("the first play's pod web is gone after the second play failed")
	}
	if n := len(e.InspectPod("web").Containers); n != 4 {
		t.Errorf("pod web has %d containers, expected 4 (infra, init, httpd, fetch)", n)
	}
	e.MustRun("kube", "down", manifest)
}

// TestKubePlayReportsManifestErrors checks that errors and warnings reach
// the user with the file and line.
func TestKubePlayReportsManifestErrors(t *testing.T) {
	e := NewEnv(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n" +
		"  - name: c\n    image: localhost/busybox\n    command: [sleep, '1000']\n" +
		"    lifecycle: {stopSignal: SIGKILL}\n"
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "syntax", text: pod + "---\nkind: Pod\n  bad: indent\n",
			want: "syntax.yaml:13: invalid YAML"},
		{name: "probe", text: pod + "    livenessProbe: {exec: {command: [true]}}\n",
			want: "probe.yaml:11: spec.containers[0].livenessProbe: probes are not supported"},
		{name: "deployment", text: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
			want: "deployment.yaml:2: kind: Deployment is not supported"},
	}
	for _, tt := range tests {
		r := e.Run("kube", "play", write(tt.name+".yaml", tt.text))
		if r.Code != 125 || !strings.Contains(r.Stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, expected 125 and %q", tt.name, r.Code, r.Stderr, tt.want)
		}
	}
	if pods := e.MustRun("pod", "ps", "-q"); pods != "" {
		t.Errorf("pods created by rejected manifests: %s", pods)
	}

	r := e.Run("kube", "play", write("warn.yaml", pod+"    tty: true\n"))
	if r.Code != 0 {
		t.Fatalf("kube play: exit %d: %s", r.Code, r.Stderr)
	}
	want := "Warning: " + filepath.Join(dir,
		"warn.yaml") + ":11: spec.containers[0].tty: not supported: ignored"
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("stderr %q lacks %q", r.Stderr, want)
	}
	if strings.TrimSpace(r.Stdout) != "p" {
		t.Errorf("stdout %q, expected the pod name p", r.Stdout)
	}
	e.MustRun("kube", "down", filepath.Join(dir, "warn.yaml"))
}

// TestKubeSecurityContext checks that each securityContext field reaches
// the running container.
func TestKubeSecurityContext(t *testing.T) {
	e := NewEnv(t)
	manifest := filepath.Join("testdata", "kube", "security.yaml")
	e.MustRun("kube", "play", manifest)
	logs := func(ctr, want string) {
		t.Helper()
		var out string
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if out = e.MustRun("logs", ctr); strings.Contains(out, want) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("logs of %s = %q, expected %q", ctr, out, want)
	}
	logs("sec-ro", "rootfs read-only")
	// Only CAP_NET_BIND_SERVICE, bit 10.
	logs("sec-caps", "CapBnd:\t0000000000000400")
	logs("sec-priv", " rw,")
	logs("sec-plain", " ro,")
	logs("sec-plain", "uid 65534 gid 65534")

	priv := e.InspectContainer("sec-priv")
	if !priv.Privileged {
		t.Error("inspect of sec-priv shows it unprivileged")
	}
	caps := e.InspectContainer("sec-caps")
	if !slices.Equal(caps.CapDrop, []string{"ALL"}) || !slices.Equal(caps.CapAdd,
		[]string{"CAP_NET_BIND_SERVICE"}) {
		t.Errorf("sec-caps adds %v and drops %v", caps.CapAdd, caps.CapDrop)
	}
	e.MustRun("kube", "down", manifest)
}
