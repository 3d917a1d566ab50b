package policy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// shippedDir holds the policies users get, which most tests run against.
const shippedDir = "../examples/policies"

// loadEngine loads opts.Dir. Unless the test sets a timeout, it uses a long
// one, so that a busy machine cannot turn a slow evaluation into a
// policy_timeout denial.
func loadEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	e, err := Load(context.Background(), opts)
	if err != nil {
		t.Fatalf("Load(%s): %v", opts.Dir, err)
	}
	return e
}

// copyFiles copies the named files from src into a new temporary directory
// and returns it.
func copyFiles(t testing.TB, src string, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, name, string(data))
	}
	return dir
}

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func codes(d Decision) []string {
	out := make([]string, 0, len(d.Reasons))
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func alice() Subject {
	return Subject{UID: 1001, GID: 1001, User: "alice", Tenant: "blue",
		Groups: []string{"podplug-blue"}}
}

func root() Subject {
	return Subject{UID: 0, GID: 0, User: "root", Admin: true}
}

func pod(name, tenant string) *Target {
	return &Target{Kind: "pod", Name: name, ID: name + "-id",
		Owner: &Owner{UID: 1002, Tenant: tenant}, State: "Running"}
}

// container returns a container that every shipped policy allows.
func container(name string) ContainerSpec {
	return ContainerSpec{
		Name:         name,
		Image:        "localhost/busybox",
		User:         "1000",
		Capabilities: []string{"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"},
		Mounts: []Mount{
			{Type: "bind", Source: "/srv/podplug/blue/" + name, Destination: "/data"},
			{Type: "tmpfs", Destination: "/tmp"},
		},
		Resources: Resources{MemoryBytes: 16 << 20, CPUs: 0.1},
		Env:       []string{"PATH=/bin", "API_TOKEN=s3cr3t-" + name},
	}
}

// createInput returns a pod.create by alice of a pod with n containers that
// every shipped policy allows; change edits it before it is returned.
func createInput(n int, change func(*Input)) Input {
	spec := &Spec{Pod: PodSpec{Name: "web", Network: "none",
		Share: []string{"ipc", "net", "uts"}, CPUs: 1, MemoryBytes: 256 << 20}}
	for i := range n {
		spec.Containers = append(spec.Containers, container("app"+string(rune('0'+i))))
	}
	in := Input{
		Operation: OpPodCreate,
		Subject:   alice(),
		Spec:      spec,
		Context:   &Usage{TenantPods: 3, TenantContainers: 7},
	}
	if change != nil {
		change(&in)
	}
	return in
}

func sameCodes(got, want []string) bool {
	return slices.Equal(got, want) || (len(got) == 0 && len(want) == 0)
}
