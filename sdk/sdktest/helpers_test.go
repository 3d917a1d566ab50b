package sdktest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/podplug/podplug/plugins"
)

// buildDir holds the modules and manifests built by this test process, and
// cacheDir the runtime's compilation cache shared by its tests.
var buildDir, cacheDir string

func TestMain(m *testing.M) {
	var err error
	if buildDir, err = os.MkdirTemp("", "podplug-sdktest-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = filepath.Join(buildDir, "cache")
	code := m.Run()
	_ = os.RemoveAll(buildDir)
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	built   = map[string]error{}
)

// examplePlugin builds examples/plugins/NAME with build.sh, once per test
// process, and returns its module and its manifest with the sha256 filled.
func examplePlugin(t testing.TB, name string) ([]byte, *plugins.Manifest) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	err, done := built[name]
	if !done {
		cmd := exec.Command("bash", filepath.Join("..", "..", "examples", "plugins", "build.sh"),
			buildDir, name)
		out, runErr := cmd.CombinedOutput()
		if runErr != nil {
			err = fmt.Errorf("build.sh %s: %v\n%s", name, runErr, out)
		}
		built[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return readBuilt(t, name)
}

// probePlugin builds testdata/probe the way build.sh builds a Go plugin.
func probePlugin(t testing.TB) ([]byte, *plugins.Manifest) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	err, done := built["probe"]
	if !done {
		err = buildGoPlugin("testdata/probe", "probe")
		built["probe"] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return readBuilt(t, "probe")
}

var sha256Line = regexp.MustCompile(`(?m)^sha256:.*$`)

func buildGoPlugin(dir, name string) error {
	wasmPath := filepath.Join(buildDir, name+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", wasmPath, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", dir, err, out)
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return err
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(wasm)
	manifest = sha256Line.ReplaceAll(manifest, []byte(`sha256: "`+hex.EncodeToString(sum[:])+`"`))
	return os.WriteFile(filepath.Join(buildDir, name+".yaml"), manifest, 0o644)
}

func readBuilt(t testing.TB, name string) ([]byte, *plugins.Manifest) {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join(buildDir, name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join(buildDir, name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := plugins.ParseManifest(yaml)
	if err != nil {
		t.Fatalf("parse manifest %s.yaml written by the build: %v", name, err)
	}
	return wasm, m
}

// requireWat2wasm skips the test when wat2wasm is not installed.
func requireWat2wasm(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm not found, so the WAT example cannot be built: install wabt " +
			"(apt-get install wabt)")
	}
}

// logLine is one plugin log line received by the runtime's OnLog.
type logLine struct {
	plugin string
	level  int
	msg    string
}

// harness is a runtime with an in-memory KV and the log lines it received.
type harness struct {
	rt *plugins.Runtime
	kv *plugins.MemoryKV

	mu   sync.Mutex
	logs []logLine
}

// newHarness returns a runtime using kv, or a new MemoryKV when kv is nil.
func newHarness(t testing.TB, kv *plugins.MemoryKV) *harness {
	t.Helper()
	if kv == nil {
		kv = plugins.NewMemoryKV()
	}
	h := &harness{kv: kv}
	rt, err := plugins.NewRuntime(context.Background(), plugins.Config{
		CacheDir: cacheDir,
		KV:       kv,
		OnLog: func(plugin string, level int, msg string) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.logs = append(h.logs, logLine{plugin: plugin, level: level, msg: msg})
		},
	})
	if err != nil {
		t.Fatalf("NewRuntime: %v", err)
	}
	h.rt = rt
	t.Cleanup(func() {
		if err := rt.Close(context.Background()); err != nil {
			t.Errorf("close runtime: %v", err)
		}
	})
	return h
}

func (h *harness) load(t testing.TB, wasm []byte, m *plugins.Manifest) *plugins.Plugin {
	t.Helper()
	p, err := h.rt.Load(context.Background(), wasm, m)
	if err != nil {
		t.Fatalf("load %s: %v", m.Name, err)
	}
	return p
}

func (h *harness) logged() []logLine {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]logLine(nil), h.logs...)
}

// Input documents of ABI.md, built with encoding/json on the host side.

type pluginInfo struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config"`
}

type podInfo struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Tenant string            `json:"tenant"`
}

type mount struct {
	Type        string `json:"type"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"read_only,omitempty"`
}

type rlimit struct {
	Type string `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

type resources struct {
	MemoryLimit int64  `json:"memory_limit,omitempty"`
	CPUShares   uint64 `json:"cpu_shares,omitempty"`
	PidsLimit   int64  `json:"pids_limit,omitempty"`
}

type containerInfo struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Image       string            `json:"image"`
	Command     []string          `json:"command,omitempty"`
	Env         []string          `json:"env,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	User        string            `json:"user,omitempty"`
	WorkDir     string            `json:"work_dir,omitempty"`
	Init        bool              `json:"init,omitempty"`
	Infra       bool              `json:"infra,omitempty"`
	Mounts      []mount           `json:"mounts,omitempty"`
	Rlimits     []rlimit          `json:"rlimits,omitempty"`
	Resources   *resources        `json:"resources,omitempty"`
}

type containerSummary struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Init  bool   `json:"init"`
}

type preStartInput struct {
	Hook       string             `json:"hook"`
	Plugin     pluginInfo         `json:"plugin"`
	Pod        podInfo            `json:"pod"`
	Container  containerInfo      `json:"container"`
	Containers []containerSummary `json:"containers"`
}

type postStopInput struct {
	Hook       string        `json:"hook"`
	Plugin     pluginInfo    `json:"plugin"`
	Pod        podInfo       `json:"pod"`
	Container  containerInfo `json:"container"`
	ExitCode   int           `json:"exit_code"`
	Signal     int           `json:"signal"`
	OOMKilled  bool          `json:"oom_killed"`
	StartedAt  string        `json:"started_at"`
	FinishedAt string        `json:"finished_at"`
	RunTimeMS  int64         `json:"run_time_ms"`
}

type inspectInput struct {
	Hook      string         `json:"hook"`
	Plugin    pluginInfo     `json:"plugin"`
	Kind      string         `json:"kind"`
	Pod       podInfo        `json:"pod"`
	Container *containerInfo `json:"container,omitempty"`
}

func pluginOf(m *plugins.Manifest) pluginInfo {
	config := m.Config
	if len(config) == 0 {
		config = json.RawMessage("{}")
	}
	return pluginInfo{Name: m.Name, Config: config}
}

func testPod() podInfo {
	return podInfo{ID: "3f2a", Name: "web", Labels: map[string]string{"app": "demo"}}
}

// testContainer returns a container of the pod "web" with fields of every
// kind filled, as a pre-start input has them.
func testContainer(name, image string) containerInfo {
	return containerInfo{
		ID:      "c-" + name,
		Name:    name,
		Image:   image,
		Command: []string{"httpd", "-f"},
		Env:     []string{"PATH=/bin", "A=1"},
		Labels:  map[string]string{},
		WorkDir: "/",
		Mounts:  []mount{{Type: "bind", Source: "/var/lib/x", Destination: "/data", ReadOnly: true}},
		Rlimits: []rlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}},
		Resources: &resources{
			MemoryLimit: 128 << 20,
		},
	}
}

// preStart encodes a pre-start input for container of the 3-container pod
// "web" (httpd, db, cache).
func preStart(t testing.TB, m *plugins.Manifest, container containerInfo) []byte {
	t.Helper()
	return mustJSON(t, preStartInput{
		Hook:      "pre_start",
		Plugin:    pluginOf(m),
		Pod:       testPod(),
		Container: container,
		Containers: []containerSummary{
			{Name: "httpd", Image: "localhost/busybox"},
			{Name: "db", Image: "localhost/postgres"},
			{Name: "cache", Image: "localhost/redis"},
		},
	})
}

func postStop(t testing.TB, m *plugins.Manifest, container string, exitCode int) []byte {
	t.Helper()
	return mustJSON(t, postStopInput{
		Hook:       "post_stop",
		Plugin:     pluginOf(m),
		Pod:        testPod(),
		Container:  containerInfo{ID: "c-" + container, Name: container, Image: "localhost/busybox"},
		ExitCode:   exitCode,
		StartedAt:  "2026-12-04T16:00:00Z",
		FinishedAt: "2026-12-04T16:05:00Z",
		RunTimeMS:  300000,
	})
}

// inspectOf encodes an inspect input for the pod "web", or for one of its
// containers when container is not empty.
func inspectOf(t testing.TB, m *plugins.Manifest, container string) []byte {
	t.Helper()
	in := inspectInput{Hook: "inspect", Plugin: pluginOf(m), Kind: "pod", Pod: testPod()}
	if container != "" {
		in.Kind = "container"
		in.Container = &containerInfo{ID: "c-" + container, Name: container, Image: "localhost/busybox"}
	}
	return mustJSON(t, in)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// result is a decoded hook result.
type result struct {
	Status  string          `json:"status"`
	Message string          `json:"message"`
	Changes json.RawMessage `json:"changes"`
	Data    json.RawMessage `json:"data"`
}

func call(t testing.TB, p *plugins.Plugin, hook string, input []byte) result {
	t.Helper()
	out, err := p.Call(context.Background(), hook, input)
	if err != nil {
		t.Fatalf("call %s: %v", hook, err)
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("decode %s result %s: %v", hook, out, err)
	}
	if r.Status != "ok" {
		t.Fatalf("%s result status = %q, want ok", hook, r.Status)
	}
	return r
}

// callFailure calls hook and returns its *plugins.Failure, failing the test
// when the call succeeds or fails with another type.
func callFailure(t testing.TB, p *plugins.Plugin, hook string, input []byte,
	want plugins.FailureType) *plugins.Failure {
	t.Helper()
	out, err := p.Call(context.Background(), hook, input)
	if err == nil {
		t.Fatalf("call %s succeeded with %s, want a %s failure", hook, out, want)
	}
	var f *plugins.Failure
	if !errors.As(err, &f) {
		t.Fatalf("call %s error = %v, want a *plugins.Failure", hook, err)
	}
	if f.Type != want {
		t.Fatalf("call %s failure type = %s, want %s (%v)", hook, f.Type, want, err)
	}
	return f
}

func wantContains(t testing.TB, what, got string, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(got, f) {
			t.Errorf("%s = %q, want it to contain %q", what, got, f)
		}
	}
}
