package test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podplug/podplug/engine/model"
)

// Test modules of the plugins and hooks packages, relative to this directory.
const (
	loopWasm           = "../plugins/testdata/loop.wasm"
	growWasm           = "../plugins/testdata/grow.wasm"
	trapWasm           = "../plugins/testdata/trap.wasm"
	floodWasm          = "../plugins/testdata/flood.wasm"
	wasiWasm           = "../plugins/testdata/wasi.wasm"
	wrongVersionWasm   = "../plugins/testdata/abi_wrong_version.wasm"
	missingBufferWasm  = "../plugins/testdata/abi_missing_buffer.wasm"
	garbageWasm        = "../hooks/testdata/garbage.wasm"
	oversizedWasm      = "../hooks/testdata/oversized.wasm"
	wasiOpenWasm       = "../hooks/testdata/wasiopen.wasm"
	replyWasm          = "../hooks/testdata/reply.wasm"
	examplePluginsRoot = "../examples/plugins"
)

var (
	examplesOnce sync.Once
	examplesDir  string
	examplesErr  error
)

// examplePlugins builds the example plugins once per test binary with
// examples/plugins/build.sh and returns the directory holding NAME.wasm and
// NAME.yaml, the manifest pinned to the module. TestMain removes it.
func examplePlugins(t testing.TB) string {
	t.Helper()
	examplesOnce.Do(func() {
		examplesDir = filepath.Join(binDir, "plugins")
		out, err := exec.Command(filepath.Join(examplePluginsRoot, "build.sh"), examplesDir).
			CombinedOutput()
		if err != nil {
			examplesErr = fmt.Errorf("%w: %s", err, out)
		}
	})
	if examplesErr != nil {
		t.Fatalf("build example plugins: %v", examplesErr)
	}
	return examplesDir
}

// pluginFields are manifest fields. writeManifest fills in version and the
// sha256 pin.
type pluginFields map[string]any

// writeManifest writes a JSON manifest for the module at wasmPath, pinned
// to its digest, and returns its path.
func writeManifest(t *testing.T, wasmPath string, f pluginFields) string {
	t.Helper()
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatalf("read plugin module: %v", err)
	}
	sum := sha256.Sum256(wasm)
	man := pluginFields{"version": "1.0.0", "sha256": hex.EncodeToString(sum[:]),
		"hooks": []string{"pre-start"}}
	for k, v := range f {
		man[k] = v
	}
	data, err := json.Marshal(man)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// installPlugin installs the module at wasmPath with a manifest made of f.
func (e *Env) installPlugin(wasmPath string, f pluginFields) {
	e.t.Helper()
	e.MustRun("plugin", "install", wasmPath, "--manifest", writeManifest(e.t, wasmPath, f))
}

// pluginState is the part of `plugin inspect` output these tests read.
type pluginState struct {
	Order    int
	Name     string
	Enabled  bool
	Loaded   bool
	Required bool
	Mode     string
	Stats    *struct {
		Calls           uint64
		Failures        map[string]uint64
		LogLinesDropped uint64
		Breaker         string
	}
}

func (e *Env) inspectPlugin(name string) pluginState {
	e.t.Helper()
	var out pluginState
	decodeJSON(e.t, e.MustRun("plugin", "inspect", name), &out)
	if out.Stats == nil {
		e.t.Fatalf("plugin inspect %s has no Stats: the plugin is not loaded", name)
	}
	return out
}

// startNewContainer creates a container of image in pod running command
// and starts it.
func (e *Env) startNewContainer(pod, name, image string, command ...string) Result {
	e.t.Helper()
	args := append([]string{"create", "--pod", pod, "--name", name, image}, command...)
	e.MustRun(args...)
	return e.Run("start", name)
}

// containerEnv returns the value of variable inside the running container.
func (e *Env) containerEnv(ctr, variable string) string {
	e.t.Helper()
	return strings.TrimSpace(e.MustRun("exec", ctr, "sh", "-c", "echo $"+variable))
}

// pluginData returns Plugins.<plugin> of `inspect CTR` as a JSON object.
func (e *Env) pluginData(ctr, plugin string) map[string]any {
	e.t.Helper()
	data, _ := e.InspectContainer(ctr).Plugins[plugin].(map[string]any)
	return data
}

// exitCount returns the exits exitaudit shows for ctr, or -1 when inspect
// shows no count.
func (e *Env) exitCount(ctr string) int {
	e.t.Helper()
	n, ok := e.pluginData(ctr, "exitaudit")["exits"].(float64)
	if !ok {
		return -1
	}
	return int(n)
}

// withT returns a view of e whose helpers fail t, for subtests.
func (e *Env) withT(t *testing.T) *Env {
	view := *e
	view.t = t
	return &view
}

// checkDaemonUp fails the test unless `info` works.
func (e *Env) checkDaemonUp(after string) {
	e.t.Helper()
	if r := e.Run("info"); r.Code != 0 {
		e.t.Fatalf("info after %s: exit %d: %s: the daemon is down", after, r.Code, r.Stderr)
	}
}

func TestPluginStampSetsEnvAndLabel(t *testing.T) {
	e := NewEnv(t)
	dir := examplePlugins(t)
	e.MustRun("plugin", "install", filepath.Join(dir, "stamp.wasm"),
		"--manifest", filepath.Join(dir, "stamp.yaml"))

	list := strings.Split(e.MustRun("plugin", "ls"), "\n")
	if len(list) != 2 || !strings.HasPrefix(list[0], "ORDER") {
		t.Fatalf("plugin ls printed %q, want a heading and one row", list)
	}
	if row := strings.Fields(list[1]); len(row) < 2 || row[0] != "1" || row[1] != "stamp" {
		t.Errorf("plugin ls row = %q, want order 1 and name stamp", list[1])
	}

	e.CreatePod("web")
	e.CreateContainer("web", "first", nil, "sleep", "1000")
	e.MustRun("pod", "start", "web")
	if got := e.containerEnv("first", "TEAM"); got != "blue" {
		t.Errorf("TEAM in a container started with stamp enabled = %q, want blue", got)
	}
	labels := e.InspectContainer("first").State.PluginLabels
	if labels["stamped-by"] != "stamp" {
		t.Errorf("State.pluginLabels = %v, want stamped-by=stamp", labels)
	}

	e.MustRun("plugin", "disable", "stamp")
	if r := e.startNewContainer("web", "second", "localhost/busybox", "sleep", "1000"); r.Code != 0 {
		t.Fatalf("start with stamp disabled: exit %d: %s", r.Code, r.Stderr)
	}
	if got := e.containerEnv("second", "TEAM"); got != "" {
		t.Errorf("TEAM in a container started with stamp disabled = %q, want empty", got)
	}
	if labels := e.InspectContainer("second").State.PluginLabels; len(labels) != 0 {
		t.Errorf("State.pluginLabels with stamp disabled = %v, want none", labels)
	}
	e.MustRun("stop", "-t", "0", "first")
	e.MustRun("start", "first")
	if got := e.containerEnv("first", "TEAM"); got != "" {
		t.Errorf("TEAM after a restart with stamp disabled = %q, want empty", got)
	}
	if labels := e.InspectContainer("first").State.PluginLabels; len(labels) != 0 {
		t.Errorf("State.pluginLabels after a restart with stamp disabled = %v, want none", labels)
	}

	e.MustRun("plugin", "enable", "stamp")
	if r := e.startNewContainer("web", "third", "localhost/busybox", "sleep", "1000"); r.Code != 0 {
		t.Fatalf("start with stamp enabled again: exit %d: %s", r.Code, r.Stderr)
	}
	if got := e.containerEnv("third", "TEAM"); got != "blue" {
		t.Errorf("TEAM in a container started after enable = %q, want blue", got)
	}
}

func TestPluginImagegateDeniesImage(t *testing.T) {
	e := NewEnv(t)
	dir := examplePlugins(t)
	e.installPlugin(filepath.Join(dir, "imagegate.wasm"), pluginFields{
		"name": "imagegate", "priority": 10, "failurePolicy": "fail",
		"config": map[string]any{"allow": []string{"localhost/allowed"}},
	})
	e.MustRun("image", "tag", "localhost/busybox", "localhost/allowed/busybox")
	e.CreatePod("gate")
	e.CreateContainer("gate", "plain", nil, "sleep", "1000")

	r := e.Run("pod", "start", "gate")
	if r.Code != 125 {
		t.Errorf("pod start with an image outside the allow-list: exit %d, want 125", r.Code)
	}
	for _, want := range []string{"imagegate", `image "localhost/busybox"`, "is not allowed"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("pod start stderr %q lacks %q", r.Stderr, want)
		}
	}
	if got := e.ContainerState("plain"); got == "running" {
		t.Errorf("denied container is %s, want not running", got)
	}

	r = e.startNewContainer("gate", "allowed", "localhost/allowed/busybox", "sleep", "1000")
	if r.Code != 0 {
		t.Fatalf("start a container of localhost/allowed/busybox: exit %d: %s", r.Code, r.Stderr)
	}
	if got := e.ContainerState("allowed"); got != "running" {
		t.Errorf("allowed container is %s, want running", got)
	}
}

func TestPluginExitauditCountsExits(t *testing.T) {
	e := NewEnv(t)
	dir := examplePlugins(t)
	e.MustRun("plugin", "install", filepath.Join(dir, "exitaudit.wasm"),
		"--manifest", filepath.Join(dir, "exitaudit.yaml"))
	e.CreatePod("audit")
	e.CreateContainer("audit", "job", nil, "true")
	e.CreateContainer("audit", "once", nil, "true")

	e.MustRun("pod", "start", "audit")
	e.MustRun("wait", "job", "once")
	for i := 2; i <= 3; i++ {
		e.MustRun("start", "job")
		e.MustRun("wait", "job")
	}
	e.Eventually(10*time.Second, "exitaudit to count 3 exits of job", func() bool {
		return e.exitCount("job") == 3
	})
	e.Eventually(10*time.Second, "exitaudit to count 1 exit of once", func() bool {
		return e.exitCount("once") == 1
	})

	pod, _ := e.InspectPod("audit").Plugins["exitaudit"].(map[string]any)
	perContainer, _ := pod["exits"].(map[string]any)
	if perContainer["job"] != float64(3) || perContainer["once"] != float64(1) {
		t.Errorf("pod inspect Plugins.exitaudit.exits = %v, want job 3 and once 1", pod["exits"])
	}
	if pod["total"] != float64(4) {
		t.Errorf("pod inspect Plugins.exitaudit.total = %v, want 4", pod["total"])
	}

	e.KillDaemon(syscall.SIGTERM)
	if got := e.exitCount("job"); got != 3 {
		t.Errorf("exits of job after a daemon restart = %d, want 3", got)
	}

	// SIGKILL right after an exit, while exitaudit's call is still queued:
	// the queue runs in plugin name order, so a post-stop plugin named
	// before exitaudit that spins until its timeout holds the call back.
	e.installPlugin(replyWasm, pluginFields{"name": "aaa-stall", "hooks": []string{"post-stop"},
		"timeout": "2s", "failurePolicy": "ignore", "config": map[string]any{"spin": true}})
	e.MustRun("start", "job")
	e.MustRun("wait", "job")
	if got := e.exitCount("job"); got != 3 {
		t.Fatalf("exits of job while its post-stop call waits behind aaa-stall = %d, want 3", got)
	}
	e.KillDaemon(syscall.SIGKILL)
	e.Eventually(15*time.Second, "exitaudit to count the exit before the SIGKILL", func() bool {
		return e.exitCount("job") >= 4
	})

	// SIGKILL while running: the exit happens while no daemon runs.
	e.CreateContainer("audit", "slow", nil, "sleep", "1")
	e.MustRun("start", "slow")
	e.KillDaemon(syscall.SIGKILL)
	time.Sleep(1500 * time.Millisecond)
	e.Eventually(15*time.Second, "exitaudit to count the exit while the daemon was down",
		func() bool { return e.exitCount("slow") >= 1 })

	// Longer than the post-stop worker's 5s retry interval, so a repeated
	// call would show.
	time.Sleep(6 * time.Second)
	if got := e.exitCount("job"); got != 4 {
		t.Errorf("exits of job after a SIGKILL right after its 4th exit = %d, want 4", got)
	}
	if got := e.exitCount("slow"); got != 1 {
		t.Errorf("exits of slow after exiting while the daemon was down = %d, want 1", got)
	}
}

func TestPluginDenyallWat(t *testing.T) {
	e := NewEnv(t)
	dir := examplePlugins(t)
	e.MustRun("plugin", "install", filepath.Join(dir, "denyall-wat.wasm"),
		"--manifest", filepath.Join(dir, "denyall-wat.yaml"))
	e.MustRun("image", "tag", "localhost/busybox", "localhost/forbidden-app")
	e.CreatePod("wat")

	r := e.startNewContainer("wat", "bad", "localhost/forbidden-app", "sleep", "1000")
	if r.Code != 125 {
		t.Errorf("start a container of localhost/forbidden-app: exit %d, want 125", r.Code)
	}
	for _, want := range []string{"denyall-wat", "localhost/forbidden-app", `contains "forbidden"`} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("start stderr %q lacks %q", r.Stderr, want)
		}
	}

	r = e.startNewContainer("wat", "good", "localhost/busybox", "sleep", "1000")
	if r.Code != 0 {
		t.Fatalf("start a container of localhost/busybox: exit %d: %s", r.Code, r.Stderr)
	}
	if got := e.ContainerState("good"); got != "running" {
		t.Errorf("busybox container is %s, want running", got)
	}
}

// hostilePlugins are modules that misbehave in pre-start, each with the
// failure type it must be counted under. An empty type means the call
// returns ok despite the misbehavior.
var hostilePlugins = []struct {
	name    string
	wasm    string
	extra   pluginFields
	failure string
	message string // part of the failure's message
}{
	{"loop", loopWasm, pluginFields{"timeout": "200ms"}, "timeout", "exceeded 200ms"},
	{"grow", growWasm, pluginFields{"memoryLimitPages": 16}, "out_of_memory", "memoryLimitPages"},
	{"trap", trapWasm, nil, "trap", "unreachable"},
	{"garbage", garbageWasm, nil, "bad_output", "not a valid JSON"},
	{"oversized", oversizedWasm, nil, "bad_output", "over maxOutputBytes"},
	{"wasi-open", wasiOpenWasm, nil, "error", "path_open of etc/passwd failed"},
	{"log-flood", floodWasm, nil, "", ""},
}

func TestPluginHostileFailPolicy(t *testing.T) {
	testHostilePlugins(t, "fail")
}

func TestPluginHostileIgnorePolicy(t *testing.T) {
	testHostilePlugins(t, "ignore")
}

func testHostilePlugins(t *testing.T, policy string) {
	env := NewEnv(t)
	env.MustRun("info")
	daemon := env.DaemonPID()
	for _, h := range hostilePlugins {
		t.Run(h.name, func(t *testing.T) {
			e := env.withT(t)
			name := h.name + "-" + policy
			f := pluginFields{"name": name, "failurePolicy": policy}
			for k, v := range h.extra {
				f[k] = v
			}
			e.installPlugin(h.wasm, f)
			pod := e.CreatePod("p-" + h.name)
			e.CreateContainer(pod, "app", nil, "sleep", "1000")

			r := e.Run("pod", "start", pod)
			e.checkDaemonUp("pod start with " + name)
			if pid := e.DaemonPID(); pid != daemon {
				t.Errorf("daemon pid changed from %d to %d: it restarted", daemon, pid)
			}
			if h.failure == "" || policy == "ignore" {
				if r.Code != 0 {
					t.Errorf("pod start with %s: exit %d: %s, want 0", name, r.Code, r.Stderr)
				}
			} else {
				if r.Code != 125 {
					t.Errorf("pod start with %s: exit %d, want 125", name, r.Code)
				}
				for _, want := range []string{name, h.failure, h.message} {
					if !strings.Contains(r.Stderr, want) {
						t.Errorf("pod start stderr %q lacks %q", r.Stderr, want)
					}
				}
			}

			stats := e.inspectPlugin(name).Stats
			if h.failure != "" && stats.Failures[h.failure] != 1 {
				t.Errorf("plugin inspect %s Failures = %v, want one %s", name, stats.Failures,
					h.failure)
			}
			if h.failure == "" && len(stats.Failures) != 0 {
				t.Errorf("plugin inspect %s Failures = %v, want none", name, stats.Failures)
			}
			if h.name == "log-flood" && stats.LogLinesDropped == 0 {
				t.Errorf("plugin inspect %s LogLinesDropped = 0, want the flood counted", name)
			}
			e.MustRun("plugin", "rm", name)
			e.MustRun("pod", "rm", "--force", "--time", "0", pod)
		})
	}
}

func TestPluginInstallRejectsBadModules(t *testing.T) {
	env := NewEnv(t)
	cases := []struct {
		name   string
		wasm   string
		fields pluginFields
		want   []string
	}{
		{"wrong ABI version", wrongVersionWasm, nil,
			[]string{"abi_mismatch", "podplug_abi_version returned 2"}},
		{"missing buffer export", missingBufferWasm, nil,
			[]string{"abi_mismatch", "does not export podplug_buffer"}},
		{"missing hook export", wasiWasm, nil,
			[]string{"does not export podplug_pre_start"}},
		{"sha256 pin mismatch", trapWasm, pluginFields{"sha256": strings.Repeat("ab", 32)},
			[]string{"sha256 mismatch", strings.Repeat("ab", 32)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env.withT(t)
			f := pluginFields{"name": "bad"}
			for k, v := range tc.fields {
				f[k] = v
			}
			r := e.Run("plugin", "install", tc.wasm, "--manifest", writeManifest(t, tc.wasm, f))
			if r.Code != 125 {
				t.Errorf("plugin install: exit %d, want 125", r.Code)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("plugin install stderr %q lacks %q", r.Stderr, want)
				}
			}
			if out := e.MustRun("plugin", "ls", "-q"); out != "" {
				t.Errorf("plugin ls -q after a rejected install = %q, want empty", out)
			}
			e.checkDaemonUp("a rejected install")
		})
	}
}

func TestPluginEnvConflictNamesBoth(t *testing.T) {
	e := NewEnv(t)
	stamp := filepath.Join(examplePlugins(t), "stamp.wasm")
	for _, team := range []string{"blue", "red"} {
		e.installPlugin(stamp, pluginFields{"name": "stamp-" + team, "allowedChanges": []string{"env"},
			"config": map[string]any{"env": map[string]string{"TEAM": team}}})
	}
	e.CreatePod("clash")
	e.CreateContainer("clash", "app", nil, "sleep", "1000")

	r := e.Run("pod", "start", "clash")
	if r.Code != 125 {
		t.Errorf("pod start with two plugins setting TEAM: exit %d, want 125", r.Code)
	}
	for _, want := range []string{"stamp-blue", "stamp-red", "TEAM"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("pod start stderr %q lacks %q", r.Stderr, want)
		}
	}
	if got := e.ContainerState("app"); got == "running" {
		t.Errorf("container is %s after a plugin conflict, want not running", got)
	}
}

func TestPluginRequiredDisabledBlocksStart(t *testing.T) {
	e := NewEnv(t)
	stamp := filepath.Join(examplePlugins(t), "stamp.wasm")
	e.installPlugin(stamp, pluginFields{"name": "stamp", "required": true,
		"allowedChanges": []string{"env"},
		"config":         map[string]any{"env": map[string]string{"TEAM": "blue"}}})
	e.CreatePod("req")
	e.CreateContainer("req", "app", nil, "sleep", "1000")

	e.MustRun("plugin", "disable", "stamp")
	r := e.Run("pod", "start", "req")
	if r.Code != 125 {
		t.Errorf("pod start with a required plugin disabled: exit %d, want 125", r.Code)
	}
	if !strings.Contains(r.Stderr, "stamp (disabled)") {
		t.Errorf("pod start stderr %q does not name stamp as disabled", r.Stderr)
	}
	if got := e.ContainerState("app"); got == "running" {
		t.Errorf("container is %s with a required plugin disabled, want not running", got)
	}

	e.MustRun("plugin", "enable", "stamp")
	if r := e.Run("pod", "start", "req"); r.Code != 0 {
		t.Fatalf("pod start after enabling the required plugin: exit %d: %s", r.Code, r.Stderr)
	}
	if got := e.containerEnv("app", "TEAM"); got != "blue" {
		t.Errorf("TEAM after enabling the required plugin = %q, want blue", got)
	}
}

func TestPluginCircuitBreakerOpens(t *testing.T) {
	e := NewEnv(t)
	e.installPlugin(trapWasm, pluginFields{"name": "flaky", "failurePolicy": "ignore"})
	e.CreatePod("cb")
	e.CreateContainer("cb", "job", nil, "true")

	var state pluginState
	for start := 1; start <= 12; start++ {
		if r := e.Run("start", "job"); r.Code != 0 {
			t.Fatalf("start %d with a trapping plugin under ignore: exit %d: %s",
				start, r.Code, r.Stderr)
		}
		e.MustRun("wait", "job")
		state = e.inspectPlugin("flaky")
		if state.Stats.Breaker == "open" {
			break
		}
	}
	if state.Stats.Breaker != "open" {
		t.Fatalf("breaker of flaky = %s after 12 trapping starts, want open", state.Stats.Breaker)
	}
	if state.Stats.Failures["trap"] < 5 {
		t.Errorf("traps counted = %d, want at least 5 before the breaker opens",
			state.Stats.Failures["trap"])
	}
	if r := e.Run("start", "job"); r.Code != 0 {
		t.Errorf("start with the breaker open: exit %d: %s, want 0", r.Code, r.Stderr)
	}
}

func TestPluginTestCommand(t *testing.T) {
	e := NewEnv(t)
	dir := examplePlugins(t)
	input := filepath.Join(t.TempDir(), "input.json")
	doc := `{"pod": {"id": "p1", "name": "web", "labels": {}, "tenant": ""},
		"container": {"id": "c1", "name": "app", "image": "docker.io/library/nginx"},
		"containers": [{"name": "app", "image": "docker.io/library/nginx", "init": false}]}`
	if err := os.WriteFile(input, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	r := e.Run("plugin", "test", filepath.Join(dir, "stamp.wasm"), "--hook", "pre-start",
		"--input", input, "--manifest", filepath.Join(dir, "stamp.yaml"))
	if r.Code != 0 {
		t.Fatalf("plugin test stamp: exit %d: %s", r.Code, r.Stderr)
	}
	var res struct {
		Status  string
		Changes struct{ Env map[string]string }
	}
	decodeJSON(t, r.Stdout, &res)
	if res.Status != "ok" {
		t.Errorf("plugin test stamp status = %q, want ok", res.Status)
	}
	if res.Changes.Env["TEAM"] != "blue" {
		t.Errorf("plugin test stamp env changes = %v, want TEAM=blue", res.Changes.Env)
	}

	r = e.Run("plugin", "test", filepath.Join(dir, "imagegate.wasm"), "--hook", "pre-start",
		"--input", input, "--manifest", filepath.Join(dir, "imagegate.yaml"))
	if r.Code != 1 {
		t.Errorf("plugin test imagegate on docker.io/library/nginx: exit %d, want 1", r.Code)
	}
	if !strings.Contains(r.Stdout, `"status":"deny"`) ||
		!strings.Contains(r.Stdout, "docker.io/library/nginx") {
		t.Errorf("plugin test imagegate stdout %q, want a deny naming the image", r.Stdout)
	}
}

func TestPluginMonitorModeRecordsWouldDeny(t *testing.T) {
	e := NewEnv(t)
	e.installPlugin(filepath.Join(examplePlugins(t), "imagegate.wasm"), pluginFields{
		"name": "imagegate", "mode": "monitor",
		"config": map[string]any{"allow": []string{"localhost/allowed"}},
	})
	e.CreatePod("mon")
	e.CreateContainer("mon", "app", nil, "sleep", "1000")

	if r := e.Run("pod", "start", "mon"); r.Code != 0 {
		t.Fatalf("pod start with a monitor-mode gate: exit %d: %s, want 0", r.Code, r.Stderr)
	}
	if got := e.ContainerState("app"); got != "running" {
		t.Errorf("container under a monitor-mode gate is %s, want running", got)
	}
	var hookEvents []model.Event
	for _, ev := range e.events() {
		if ev.Type == "plugin" && ev.Action == "hook" && ev.Name == "imagegate" {
			hookEvents = append(hookEvents, ev)
		}
	}
	if len(hookEvents) != 1 {
		t.Fatalf("events show %d hook events of imagegate, want 1: %+v", len(hookEvents), hookEvents)
	}
	attrs := hookEvents[0].Attributes
	if attrs["result"] != "would-deny" {
		t.Errorf("hook event result = %q, want would-deny", attrs["result"])
	}
	if !strings.Contains(attrs["message"], "localhost/busybox") {
		t.Errorf("hook event message %q does not name the image", attrs["message"])
	}
	if attrs["container"] != "app" {
		t.Errorf("hook event container = %q, want app", attrs["container"])
	}
}
