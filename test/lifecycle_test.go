package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podplug/podplug/engine"
)

// termTrap is a command that exits 0 on SIGTERM. A plain `sleep` runs as
// PID 1 of its container and so ignores SIGTERM.
var termTrap = []string{"sh", "-c", `trap "exit 0" TERM; while :; do sleep 0.1; done`}

// sleeper is a command that runs until it is killed.
var sleeper = []string{"sleep", "1000"}

// member returns the container called name from a pod inspect, failing the
// test when the pod has none.
func member(t *testing.T, p engine.PodInspect, name string) engine.PodInspectMember {
	t.Helper()
	for _, m := range p.Containers {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("pod %s has no container %s", p.Name, name)
	return engine.PodInspectMember{}
}

// infraMember returns the infra container from a pod inspect.
func infraMember(t *testing.T, p engine.PodInspect) engine.PodInspectMember {
	t.Helper()
	for _, m := range p.Containers {
		if m.Infra {
			return m
		}
	}
	t.Fatalf("pod %s has no infra container", p.Name)
	return engine.PodInspectMember{}
}

// psAll returns `ps -a --format json` decoded.
func (e *Env) psAll() []engine.ContainerSummary {
	e.t.Helper()
	var out []engine.ContainerSummary
	if err := json.Unmarshal([]byte(e.MustRun("ps", "-a", "--format", "json")), &out); err != nil {
		e.t.Fatalf("decode ps -a: %v", err)
	}
	return out
}

// containerNames returns the names of every container `ps -a` lists.
func (e *Env) containerNames() []string {
	e.t.Helper()
	var names []string
	for _, c := range e.psAll() {
		names = append(names, c.Name)
	}
	return names
}

// volumeFile returns the host path of file inside the first mount of ctr.
func (e *Env) volumeFile(ctr, file string) string {
	e.t.Helper()
	mounts := e.InspectContainer(ctr).Mounts
	if len(mounts) == 0 {
		e.t.Fatalf("container %s has no mounts", ctr)
	}
	return filepath.Join(mounts[0].Source, file)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(data)
}

func TestInitContainersRunInOrder(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("init")
	vol := []string{"-v", "vol:/data"}
	// init1 waits before writing, so init2 would write first if the two ran
	// at the same time.
	e.CreateContainer(pod, "init1", append([]string{"--init-ctr", "once"}, vol...),
		"sh", "-c", "sleep 0.5; echo init1 >> /data/order")
	e.CreateContainer(pod, "init2", append([]string{"--init-ctr", "always"}, vol...),
		"sh", "-c", "echo init2 >> /data/order")
	e.CreateContainer(pod, "app", vol, "sh", "-c", "cp /data/order /data/seen; exec sleep 1000")

	e.MustRun("pod", "start", pod)
	seen := e.volumeFile("app", "seen")
	order := e.volumeFile("app", "order")
	e.Eventually(10*time.Second, "app to copy the order file", func() bool {
		_, err := os.Stat(seen)
		return err == nil
	})
	if got := strings.Join(strings.Fields(readFile(t, seen)), " "); got != "init1 init2" {
		t.Errorf("order seen by app after first start = %q, want %q", got, "init1 init2")
	}
	names := e.containerNames()
	if slices.Contains(names, "init1") {
		t.Errorf("ps -a lists the once init container init1 after its success: %v", names)
	}
	if !slices.Contains(names, "init2") {
		t.Errorf("ps -a does not list the always init container init2: %v", names)
	}
	p := e.InspectPod(pod)
	init2, app := member(t, p, "init2"), member(t, p, "app")
	if init2.State != "exited" || init2.ExitCode != 0 {
		t.Errorf("init2 = %s (exit %d), want exited (exit 0)", init2.State, init2.ExitCode)
	}
	if !app.StartedAt.After(init2.FinishedAt) {
		t.Errorf("app started at %s, not after init2 finished at %s", app.StartedAt, init2.FinishedAt)
	}
	if p.State != "Running" {
		t.Errorf("pod state after start = %s, want Running", p.State)
	}

	e.MustRun("pod", "stop", "-t", "0", pod)
	if err := os.Remove(seen); err != nil {
		t.Fatal(err)
	}
	e.MustRun("pod", "start", pod)
	e.Eventually(10*time.Second, "app to copy the order file again", func() bool {
		_, err := os.Stat(seen)
		return err == nil
	})
	if got := strings.Join(strings.Fields(readFile(t, seen)), " "); got != "init1 init2 init2" {
		t.Errorf("order seen by app after second start = %q, want %q", got, "init1 init2 init2")
	}
	if got := strings.Join(strings.Fields(readFile(t, order)), " "); got != "init1 init2 init2" {
		t.Errorf("order file after second start = %q, want %q", got, "init1 init2 init2")
	}
}

func TestInitContainerFailureAbortsStart(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("initfail")
	e.CreateContainer(pod, "prep", []string{"--init-ctr", "once"}, "sh", "-c", "exit 3")
	e.CreateContainer(pod, "a", nil, sleeper...)
	e.CreateContainer(pod, "b", []string{"--requires", "a"}, sleeper...)

	r := e.Run("pod", "start", pod)
	if r.Code != 125 {
		t.Errorf("pod start exit code = %d, want 125 (stderr: %s)", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "prep") {
		t.Errorf("pod start stderr does not name the init container prep: %s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "exited with code 3") {
		t.Errorf("pod start stderr does not say %q: %s", "exited with code 3", r.Stderr)
	}
	p := e.InspectPod(pod)
	for _, name := range []string{"a", "b"} {
		m := member(t, p, name)
		if m.State != "created" {
			t.Errorf("container %s state after failed init = %s, want created", name, m.State)
		}
		if !m.StartedAt.IsZero() {
			t.Errorf("container %s StartedAt after failed init = %s, want zero", name, m.StartedAt)
		}
	}
	if infra := infraMember(t, p); infra.State == "running" {
		t.Errorf("infra container still running after failed init")
	}
	if p.State != "Error" {
		t.Errorf("pod state after failed init = %s, want Error", p.State)
	}

	e.MustRun("rm", "prep")
	e.MustRun("pod", "start", pod)
	if got := e.PodState(pod); got != "Running" {
		t.Errorf("pod state after removing the failed init container and starting = %s, want Running", got)
	}
}

func TestStartWalksDependencies(t *testing.T) {
	t.Run("order", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("deps")
		// The dependency order db, api, web differs from the name order.
		e.CreateContainer(pod, "db", nil, sleeper...)
		e.CreateContainer(pod, "api", []string{"--requires", "db"}, sleeper...)
		e.CreateContainer(pod, "web", []string{"--requires", "api"}, sleeper...)
		e.MustRun("pod", "start", pod)

		p := e.InspectPod(pod)
		infra, db, api, web := infraMember(t, p), member(t, p, "db"), member(t, p, "api"), member(t, p, "web")
		if !infra.StartedAt.Before(db.StartedAt) {
			t.Errorf("infra started at %s, not before db at %s", infra.StartedAt, db.StartedAt)
		}
		if !db.StartedAt.Before(api.StartedAt) {
			t.Errorf("db started at %s, not before api at %s", db.StartedAt, api.StartedAt)
		}
		if !api.StartedAt.Before(web.StartedAt) {
			t.Errorf("api started at %s, not before web at %s", api.StartedAt, web.StartedAt)
		}
	})

	t.Run("failure", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("depfail")
		e.CreateContainer(pod, "bad", nil, "/nonexistent")
		e.CreateContainer(pod, "dep", []string{"--requires", "bad"}, sleeper...)
		e.CreateContainer(pod, "dep2", []string{"--requires", "dep"}, sleeper...)
		e.CreateContainer(pod, "solo", nil, sleeper...)

		r := e.Run("pod", "start", pod)
		if r.Code == 0 {
			t.Fatalf("pod start with a failing container exited 0")
		}
		for _, name := range []string{"bad", "dep", "dep2"} {
			if !strings.Contains(r.Stderr, name+":") {
				t.Errorf("pod start stderr does not list %s: %s", name, r.Stderr)
			}
		}
		if got := strings.Count(r.Stderr, "dependency failed"); got != 2 {
			t.Errorf("pod start stderr has %d %q, want 2 (dep, dep2): %s",
				got, "dependency failed", r.Stderr)
		}
		p := e.InspectPod(pod)
		for _, name := range []string{"dep", "dep2"} {
			m := member(t, p, name)
			if !m.StartedAt.IsZero() {
				t.Errorf("dependent %s was started at %s", name, m.StartedAt)
			}
			if m.State != "created" {
				t.Errorf("dependent %s state = %s, want created", name, m.State)
			}
			if !strings.Contains(m.Error, "dependency failed") {
				t.Errorf("dependent %s error = %q, want it to say dependency failed", name, m.Error)
			}
		}
		if got := member(t, p, "bad").State; got != "error" {
			t.Errorf("bad state = %s, want error", got)
		}
		if got := member(t, p, "solo").State; got != "running" {
			t.Errorf("independent container solo state = %s, want running", got)
		}
	})
}

func TestCreateRejectsBadRequires(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("main")
	other := e.CreatePod("other")
	e.CreateContainer(other, "elsewhere", nil, sleeper...)
	e.CreateContainer(pod, "prep", []string{"--init-ctr", "always"}, "true")
	e.CreateContainer(pod, "base", nil, sleeper...)
	infra := infraMember(t, e.InspectPod(pod)).Name

	cases := []struct {
		name     string
		requires string
	}{
		{"missing container", "ghost"},
		{"container in another pod", "elsewhere"},
		{"init container", "prep"},
		{"infra container", infra},
		{"one good one missing", "base,ghost"},
	}
	// The cases share one engine and run without t.Run, because the harness
	// reports failures on the test that created the engine.
	for _, tc := range cases {
		before := len(e.psAll())
		r := e.Run("create", "--pod", pod, "--name", "new", "--requires", tc.requires,
			"localhost/busybox", "sleep", "1000")
		if r.Code != 125 {
			t.Errorf("%s: create exit code = %d, want 125 (stderr: %s)", tc.name, r.Code, r.Stderr)
		}
		if !strings.Contains(r.Stderr, "requires") {
			t.Errorf("%s: create stderr does not explain the requirement: %s", tc.name, r.Stderr)
		}
		if after := len(e.psAll()); after != before {
			t.Errorf("%s: ps -a count after rejected create = %d, want %d", tc.name, after, before)
		}
	}
}

func TestStopGoesInReverseOrder(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("rev")
	flags := []string{"--stop-timeout", "5"}
	e.CreateContainer(pod, "db", flags, termTrap...)
	e.CreateContainer(pod, "api", append([]string{"--requires", "db"}, flags...), termTrap...)
	e.CreateContainer(pod, "web", append([]string{"--requires", "api"}, flags...), termTrap...)
	e.CreateContainer(pod, "done", nil, "true")
	e.MustRun("pod", "start", pod)
	e.Eventually(10*time.Second, "done to exit", func() bool { return e.ContainerState("done") == "exited" })
	doneBefore := e.InspectContainer("done").State

	r := e.Run("pod", "stop", pod)
	if r.Code != 0 {
		t.Fatalf("pod stop with an exited container: exit %d, stderr: %s", r.Code, r.Stderr)
	}
	p := e.InspectPod(pod)
	infra, db, api, web := infraMember(t, p), member(t, p, "db"), member(t, p, "api"), member(t, p, "web")
	for _, m := range []engine.PodInspectMember{infra, db, api, web} {
		if m.State != "exited" {
			t.Errorf("%s state after pod stop = %s, want exited", m.Name, m.State)
		}
	}
	if !web.FinishedAt.Before(api.FinishedAt) {
		t.Errorf("web finished at %s, not before api at %s", web.FinishedAt, api.FinishedAt)
	}
	if !api.FinishedAt.Before(db.FinishedAt) {
		t.Errorf("api finished at %s, not before db at %s", api.FinishedAt, db.FinishedAt)
	}
	if !db.FinishedAt.Before(infra.FinishedAt) {
		t.Errorf("db finished at %s, not before infra at %s", db.FinishedAt, infra.FinishedAt)
	}
	done := member(t, p, "done")
	if done.ExitCode != 0 || !done.FinishedAt.Equal(doneBefore.FinishedAt) {
		t.Errorf("already exited container changed by pod stop: exit %d finished %s, want exit 0 finished %s",
			done.ExitCode, done.FinishedAt, doneBefore.FinishedAt)
	}

	if r := e.Run("stop", "-t", "0", "web"); r.Code != 0 {
		t.Errorf("stop of an already stopped container: exit %d, stderr: %s", r.Code, r.Stderr)
	}
}

func TestStopRunsInParallel(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("many")
	const n = 20
	var names []string
	for i := range n {
		name := "c" + string(rune('a'+i))
		names = append(names, name)
		e.CreateContainer(pod, name, []string{"--stop-timeout", "2"}, sleeper...)
	}
	e.MustRun("pod", "start", pod)
	if got := e.PodState(pod); got != "Running" {
		t.Fatalf("pod state after start = %s, want Running", got)
	}

	begin := time.Now()
	e.MustRun("pod", "stop", pod)
	elapsed := time.Since(begin)
	// One at a time, 20 containers that ignore SIGTERM for 2s take 40s.
	if elapsed >= 12*time.Second {
		t.Errorf("pod stop of %d containers with a 2s stop timeout took %s, want under 12s", n, elapsed)
	}
	t.Logf("pod stop took %s", elapsed)
	p := e.InspectPod(pod)
	for _, name := range names {
		m := member(t, p, name)
		if m.State != "exited" || m.ExitCode != 137 {
			t.Errorf("%s after pod stop = %s (exit %d), want exited (exit 137)", name, m.State, m.ExitCode)
		}
	}
}

func TestStopTimeZeroKills(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("kill0")
	e.CreateContainer(pod, "app", []string{"--stop-timeout", "30"}, termTrap...)
	e.MustRun("pod", "start", pod)

	begin := time.Now()
	e.MustRun("pod", "stop", "-t", "0", pod)
	if elapsed := time.Since(begin); elapsed >= 5*time.Second {
		t.Errorf("pod stop -t 0 took %s, want under 5s", elapsed)
	}
	app := e.InspectContainer("app").State
	if app.State != "exited" || app.ExitCode != 137 {
		t.Errorf("app after pod stop -t 0 = %s (exit %d), want exited (exit 137: killed, not trapped TERM)",
			app.State, app.ExitCode)
	}

	for _, args := range [][]string{{"pod", "stop", pod}, {"pod", "stop", "-t", "0", pod}} {
		if r := e.Run(args...); r.Code != 0 {
			t.Errorf("%s on a stopped pod: exit %d, stderr: %s", strings.Join(args, " "), r.Code, r.Stderr)
		}
	}
	if got := e.PodState(pod); got != "Stopped" {
		t.Errorf("pod state after repeated stop = %s, want Stopped", got)
	}
	if got := e.InspectContainer("app").State; !got.FinishedAt.Equal(app.FinishedAt) {
		t.Errorf("app FinishedAt changed by a repeated stop: %s, was %s", got.FinishedAt, app.FinishedAt)
	}
}

// freezerState returns the cgroup v1 freezer state of a container.
func freezerState(t *testing.T, cgroupParent, id string) string {
	t.Helper()
	path := filepath.Join("/sys/fs/cgroup/freezer", cgroupParent, id, "freezer.state")
	return strings.TrimSpace(readFile(t, path))
}

func TestPausePod(t *testing.T) {
	t.Run("all running", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("frozen")
		e.CreateContainer(pod, "a", nil, sleeper...)
		e.CreateContainer(pod, "b", nil, sleeper...)
		e.MustRun("pod", "start", pod)

		e.MustRun("pod", "pause", pod)
		p := e.InspectPod(pod)
		if p.State != "Paused" {
			t.Errorf("pod state after pause = %s, want Paused", p.State)
		}
		for _, m := range p.Containers {
			if m.State != "paused" {
				t.Errorf("%s state after pod pause = %s, want paused", m.Name, m.State)
			}
		}
		if p.CgroupVersion == "v1" {
			a := member(t, p, "a")
			if got := freezerState(t, p.CgroupParent, a.ID); got != "FROZEN" {
				t.Errorf("freezer state of a after pause = %s, want FROZEN", got)
			}
		}

		e.MustRun("pod", "unpause", pod)
		p = e.InspectPod(pod)
		if p.State != "Running" {
			t.Errorf("pod state after unpause = %s, want Running", p.State)
		}
		for _, m := range p.Containers {
			if m.State != "running" {
				t.Errorf("%s state after pod unpause = %s, want running", m.Name, m.State)
			}
		}
		if out := e.MustRun("exec", "a", "echo", "thawed"); out != "thawed" {
			t.Errorf("exec in unpaused container = %q, want thawed", out)
		}
	})

	t.Run("degraded", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("partly")
		e.CreateContainer(pod, "a", nil, sleeper...)
		e.CreateContainer(pod, "quit", nil, "sh", "-c", "exit 0")
		e.MustRun("pod", "start", pod)
		e.Eventually(10*time.Second, "quit to exit",
			func() bool { return e.ContainerState("quit") == "exited" })
		if got := e.PodState(pod); got != "Degraded" {
			t.Fatalf("pod state with one exited container = %s, want Degraded", got)
		}

		e.MustRun("pod", "pause", pod)
		p := e.InspectPod(pod)
		if got := member(t, p, "a").State; got != "paused" {
			t.Errorf("a state after pause = %s, want paused", got)
		}
		if got := infraMember(t, p).State; got != "paused" {
			t.Errorf("infra state after pause = %s, want paused", got)
		}
		if got := member(t, p, "quit"); got.State != "exited" || got.ExitCode != 0 {
			t.Errorf("quit after pause = %s (exit %d), want exited (exit 0)", got.State, got.ExitCode)
		}
		if p.State != "Degraded" {
			t.Errorf("pod state after pausing a degraded pod = %s, want Degraded", p.State)
		}

		e.MustRun("pod", "unpause", pod)
		p = e.InspectPod(pod)
		if got := member(t, p, "a").State; got != "running" {
			t.Errorf("a state after unpause = %s, want running", got)
		}
		if got := member(t, p, "quit").State; got != "exited" {
			t.Errorf("quit state after unpause = %s, want exited", got)
		}
		if p.State != "Degraded" {
			t.Errorf("pod state after unpause = %s, want Degraded", p.State)
		}
	})

	t.Run("stop while paused", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("pausestop")
		e.CreateContainer(pod, "a", []string{"--stop-timeout", "5"}, termTrap...)
		e.MustRun("pod", "start", pod)
		e.MustRun("pod", "pause", pod)

		// A frozen process takes no signal until it is thawed, so stop must
		// thaw it after signalling.
		e.MustRun("pod", "stop", pod)
		p := e.InspectPod(pod)
		if got := member(t, p, "a"); got.State != "exited" || got.ExitCode != 0 {
			t.Errorf("a after stopping a paused pod = %s (exit %d), want exited (exit 0 from its TERM trap)",
				got.State, got.ExitCode)
		}
		if p.State != "Stopped" {
			t.Errorf("pod state after stopping a paused pod = %s, want Stopped", p.State)
		}
	})
}

func TestKillPod(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("kill")
	e.CreateContainer(pod, "a", nil, termTrap...)
	e.CreateContainer(pod, "b", nil, termTrap...)
	e.MustRun("pod", "start", pod)
	before := e.InspectPod(pod)

	r := e.Run("pod", "kill", "-s", "BOGUS", pod)
	if r.Code != 125 {
		t.Errorf("pod kill -s BOGUS exit code = %d, want 125 (stderr: %s)", r.Code, r.Stderr)
	}
	after := e.InspectPod(pod)
	for _, m := range after.Containers {
		if m.State != "running" {
			t.Errorf("%s state after a rejected kill = %s, want running", m.Name, m.State)
		}
		if was := member(t, before, m.Name); !m.StartedAt.Equal(was.StartedAt) {
			t.Errorf("%s restarted by a rejected kill: started %s, was %s", m.Name, m.StartedAt,
				was.StartedAt)
		}
	}

	cases := []struct {
		signal   string
		wantCode int // exit code of a and b, 0 from their TERM trap or 137 (128+9) for SIGKILL
	}{
		{"15", 0},
		{"TERM", 0},
		{"SIGTERM", 0},
		{"KILL", 137},
		{"9", 137},
		{"SIGKILL", 137},
	}
	for _, tc := range cases {
		if e.PodState(pod) != "Running" {
			e.MustRun("pod", "start", pod)
		}
		e.MustRun("pod", "kill", "-s", tc.signal, pod)
		e.Eventually(10*time.Second, "a and b to exit after pod kill -s "+tc.signal, func() bool {
			return e.ContainerState("a") == "exited" && e.ContainerState("b") == "exited"
		})
		p := e.InspectPod(pod)
		for _, name := range []string{"a", "b"} {
			if got := member(t, p, name).ExitCode; got != tc.wantCode {
				t.Errorf("pod kill -s %s: %s exit code = %d, want %d", tc.signal, name, got, tc.wantCode)
			}
		}
	}
}

func TestPodStateDerivation(t *testing.T) {
	cases := []struct {
		name  string
		flags []string // pod create flags
		setup func(e *Env, pod string)
		want  string
	}{
		{
			name: "fresh pod is Created",
			setup: func(e *Env, pod string) {
				e.CreateContainer(pod, "a", nil, sleeper...)
			},
			want: "Created",
		},
		{
			name: "started pod is Running",
			setup: func(e *Env, pod string) {
				e.CreateContainer(pod, "a", nil, sleeper...)
				e.CreateContainer(pod, "b", nil, sleeper...)
				e.MustRun("pod", "start", pod)
			},
			want: "Running",
		},
		{
			name: "one exited others running is Degraded",
			setup: func(e *Env, pod string) {
				e.CreateContainer(pod, "a", nil, sleeper...)
				e.CreateContainer(pod, "quit", nil, "sh", "-c", "exit 0")
				e.MustRun("pod", "start", pod)
				e.Eventually(10*time.Second, "quit to exit", func() bool {
					return e.ContainerState("quit") == "exited"
				})
			},
			want: "Degraded",
		},
		{
			name:  "all exited on their own is Exited",
			flags: []string{"--infra=false"},
			setup: func(e *Env, pod string) {
				e.CreateContainer(pod, "a", nil, "sh", "-c", "exit 0")
				e.CreateContainer(pod, "b", nil, "sh", "-c", "exit 2")
				e.MustRun("pod", "start", pod)
				e.Eventually(10*time.Second, "a and b to exit", func() bool {
					return e.ContainerState("a") == "exited" && e.ContainerState("b") == "exited"
				})
			},
			want: "Exited",
		},
		{
			name: "stopped pod is Stopped",
			setup: func(e *Env, pod string) {
				e.CreateContainer(pod, "a", nil, sleeper...)
				e.MustRun("pod", "start", pod)
				e.MustRun("pod", "stop", "-t", "0", pod)
			},
			want: "Stopped",
		},
		{
			name: "failed init container is Error",
			setup: func(e *Env, pod string) {
				e.CreateContainer(pod, "prep", []string{"--init-ctr", "once"}, "sh", "-c", "exit 3")
				e.CreateContainer(pod, "a", nil, sleeper...)
				if r := e.Run("pod", "start", pod); r.Code == 0 {
					e.t.Fatalf("pod start with a failing init container exited 0")
				}
			},
			want: "Error",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEnv(t)
			pod := e.CreatePod("state", tc.flags...)
			tc.setup(e, pod)
			if got := e.PodState(pod); got != tc.want {
				t.Errorf("pod state = %s, want %s", got, tc.want)
			}
			var listed []engine.PodSummary
			if err := json.Unmarshal([]byte(e.MustRun("pod", "ps", "--format", "json")),
				&listed); err != nil {
				t.Fatalf("decode pod ps: %v", err)
			}
			if len(listed) != 1 || string(listed[0].State) != tc.want {
				t.Errorf("pod ps = %+v, want one pod in state %s", listed, tc.want)
			}
		})
	}
}

func TestExitPolicy(t *testing.T) {
	cases := []struct {
		policy       string
		infraRunning bool
	}{
		{"stop", false},
		{"continue", true},
	}
	for _, tc := range cases {
		t.Run(tc.policy, func(t *testing.T) {
			e := NewEnv(t)
			pod := e.CreatePod("exitpol", "--exit-policy", tc.policy)
			e.CreateContainer(pod, "app", nil, "sleep", "1")
			e.MustRun("pod", "start", pod)
			e.Eventually(10*time.Second, "app to exit",
				func() bool { return e.ContainerState("app") == "exited" })

			if !tc.infraRunning {
				e.Eventually(10*time.Second, "infra to exit", func() bool {
					return infraMember(t, e.InspectPod(pod)).State == "exited"
				})
				if got := e.PodState(pod); got == "Running" || got == "Degraded" {
					t.Errorf("pod state after exit policy stop = %s, want neither Running nor Degraded", got)
				}
				return
			}
			// An exit policy acts right after the exit is recorded. The wait
			// lets a wrong stop happen before the check.
			time.Sleep(1500 * time.Millisecond)
			if got := infraMember(t, e.InspectPod(pod)).State; got != "running" {
				t.Errorf("infra state with exit policy continue = %s, want running", got)
			}
			if got := e.PodState(pod); got != "Degraded" {
				t.Errorf("pod state with exit policy continue = %s, want Degraded", got)
			}
		})
	}
}

func TestRestartPolicy(t *testing.T) {
	t.Run("on-failure limit", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("onfail")
		e.CreateContainer(pod, "keep", nil, sleeper...)
		e.CreateContainer(pod, "flaky", []string{"--restart", "on-failure:2"}, "sh", "-c", "exit 1")
		e.MustRun("pod", "start", pod)
		e.Eventually(15*time.Second, "flaky to be restarted twice", func() bool {
			st := e.InspectContainer("flaky").State
			return st.RestartCount == 2 && st.State == "exited"
		})
		// Restart delays start at 100ms and double, so a third restart would
		// come within a second.
		time.Sleep(2 * time.Second)
		st := e.InspectContainer("flaky").State
		if st.RestartCount != 2 {
			t.Errorf("flaky RestartCount = %d, want 2", st.RestartCount)
		}
		if st.State != "exited" || st.ExitCode != 1 {
			t.Errorf("flaky = %s (exit %d), want exited (exit 1)", st.State, st.ExitCode)
		}
	})

	t.Run("always after clean exit", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("always")
		e.CreateContainer(pod, "loop", []string{"--restart", "always"}, "sh", "-c", "exit 0")
		e.MustRun("pod", "start", pod)
		e.Eventually(15*time.Second, "loop to be restarted twice", func() bool {
			return e.InspectContainer("loop").State.RestartCount >= 2
		})
	})

	t.Run("always not undone by stop", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("stopped")
		e.CreateContainer(pod, "svc", []string{"--restart", "always", "--stop-timeout", "5"}, termTrap...)
		e.MustRun("pod", "start", pod)
		// The TERM trap exits 0, a clean exit the policy would restart.
		e.MustRun("pod", "stop", pod)
		st := e.InspectContainer("svc").State
		if st.State != "exited" || st.ExitCode != 0 {
			t.Fatalf("svc after pod stop = %s (exit %d), want exited (exit 0)", st.State, st.ExitCode)
		}
		time.Sleep(2 * time.Second)
		after := e.InspectContainer("svc").State
		if after.State != "exited" {
			t.Errorf("svc state 2s after pod stop = %s, want exited", after.State)
		}
		if after.RestartCount != st.RestartCount {
			t.Errorf("svc RestartCount 2s after pod stop = %d, want %d", after.RestartCount, st.RestartCount)
		}
		if got := e.PodState(pod); got != "Stopped" {
			t.Errorf("pod state = %s, want Stopped", got)
		}
	})
}

func TestPodRestartRerunsInit(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("again")
	vol := []string{"-v", "vol:/data"}
	e.CreateContainer(pod, "first", append([]string{"--init-ctr", "once"}, vol...),
		"sh", "-c", "echo first >> /data/order")
	e.CreateContainer(pod, "every", append([]string{"--init-ctr", "always"}, vol...),
		"sh", "-c", "echo every >> /data/order")
	e.CreateContainer(pod, "db", vol, sleeper...)
	e.CreateContainer(pod, "api", []string{"--requires", "db"}, sleeper...)
	e.MustRun("pod", "start", pod)
	order := e.volumeFile("db", "order")
	before := e.InspectPod(pod)

	e.MustRun("pod", "restart", "-t", "0", pod)
	if got := strings.Join(strings.Fields(readFile(t, order)), " "); got != "first every every" {
		t.Errorf("init runs after restart = %q, want %q", got, "first every every")
	}
	p := e.InspectPod(pod)
	if p.State != "Running" {
		t.Errorf("pod state after restart = %s, want Running", p.State)
	}
	db, api, every := member(t, p, "db"), member(t, p, "api"), member(t, p, "every")
	if !db.StartedAt.After(member(t, before, "db").StartedAt) {
		t.Errorf("db StartedAt not renewed by restart: %s", db.StartedAt)
	}
	if !every.FinishedAt.Before(db.StartedAt) {
		t.Errorf("init container every finished at %s, not before db started at %s",
			every.FinishedAt, db.StartedAt)
	}
	if !db.StartedAt.Before(api.StartedAt) {
		t.Errorf("db started at %s, not before api at %s", db.StartedAt, api.StartedAt)
	}
}

func TestPartialFailureListsEveryContainer(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("partial")
	e.CreateContainer(pod, "broken1", nil, "/nonexistent")
	e.CreateContainer(pod, "broken2", nil, "/missing/too")
	e.CreateContainer(pod, "fine", nil, sleeper...)

	r := e.Run("pod", "start", pod)
	if r.Code == 0 {
		t.Fatalf("pod start with two failing containers exited 0")
	}
	for _, name := range []string{"broken1", "broken2"} {
		if !strings.Contains(r.Stderr, name) {
			t.Errorf("pod start stderr does not name %s: %s", name, r.Stderr)
		}
	}
	if !strings.Contains(r.Stderr, "pod start") {
		t.Errorf("pod start stderr does not name the operation: %s", r.Stderr)
	}
	if strings.Contains(r.Stderr, "fine:") {
		t.Errorf("pod start stderr lists the container that started: %s", r.Stderr)
	}
	if got := e.ContainerState("fine"); got != "running" {
		t.Errorf("fine state = %s, want running", got)
	}
}

func TestPodInspectShowsConfig(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("cfg", "--label", "tier=web", "--label", "team=ops", "--hostname", "cfghost",
		"--exit-policy", "stop", "--cpus", "0.5", "--memory", "64m")
	e.CreateContainer(pod, "app", nil, sleeper...)
	e.CreateContainer(pod, "once", nil, "sh", "-c", "exit 4")
	custom := e.CreatePod("custom", "--share", "ipc,net,uts,pid")
	e.MustRun("pod", "start", pod)
	e.Eventually(10*time.Second, "once to exit", func() bool { return e.ContainerState("once") == "exited" })

	p := e.InspectPod(pod)
	if p.Labels["tier"] != "web" || p.Labels["team"] != "ops" {
		t.Errorf("labels = %v, want tier=web team=ops", p.Labels)
	}
	if p.Hostname != "cfghost" {
		t.Errorf("hostname = %q, want cfghost", p.Hostname)
	}
	if p.ExitPolicy != "stop" {
		t.Errorf("exit policy = %q, want stop", p.ExitPolicy)
	}
	infra := infraMember(t, p)
	if p.InfraContainerID == "" || p.InfraContainerID != infra.ID {
		t.Errorf("infra ID = %q, want the ID of the infra member %q", p.InfraContainerID, infra.ID)
	}
	if want := []string{"ipc", "net", "uts"}; !slices.Equal(p.SharedNamespaces, want) {
		t.Errorf("shared namespaces = %v, want %v", p.SharedNamespaces, want)
	}
	if want := []string{"ipc", "net", "uts",
		"pid"}; !slices.Equal(e.InspectPod(custom).SharedNamespaces, want) {
		t.Errorf("shared namespaces with --share = %v, want %v", e.InspectPod(custom).SharedNamespaces, want)
	}
	if !strings.Contains(p.CgroupParent, p.ID) {
		t.Errorf("cgroup parent = %q, want it to contain the pod ID", p.CgroupParent)
	}
	if p.CPUs != 0.5 {
		t.Errorf("CPUs = %v, want 0.5", p.CPUs)
	}
	if p.MemoryBytes != 64<<20 {
		t.Errorf("MemoryBytes = %d, want %d", p.MemoryBytes, 64<<20)
	}
	if p.CgroupVersion == "v1" {
		limit := filepath.Join("/sys/fs/cgroup/memory", p.CgroupParent, "memory.limit_in_bytes")
		if got := strings.TrimSpace(readFile(t, limit)); got != "67108864" {
			t.Errorf("%s = %s, want 67108864", limit, got)
		}
		quota := filepath.Join("/sys/fs/cgroup/cpu", p.CgroupParent, "cpu.cfs_quota_us")
		if got := strings.TrimSpace(readFile(t, quota)); got != "50000" {
			t.Errorf("%s = %s, want 50000", quota, got)
		}
	} else {
		limit := filepath.Join("/sys/fs/cgroup", p.CgroupParent, "memory.max")
		if got := strings.TrimSpace(readFile(t, limit)); got != "67108864" {
			t.Errorf("%s = %s, want 67108864", limit, got)
		}
	}
	if got := member(t, p, "app"); got.State != "running" {
		t.Errorf("app state = %s, want running", got.State)
	}
	if got := member(t, p, "once"); got.State != "exited" || got.ExitCode != 4 {
		t.Errorf("once = %s (exit %d), want exited (exit 4)", got.State, got.ExitCode)
	}
	if infra.State != "running" {
		t.Errorf("infra state = %s, want running", infra.State)
	}
	if len(p.Containers) != 3 {
		t.Errorf("pod inspect lists %d containers, want 3 (infra, app, once)", len(p.Containers))
	}

	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(e.MustRun("pod", "inspect", pod)), &raw); err != nil {
		t.Fatal(err)
	}
	if plugins := strings.TrimSpace(string(raw["Plugins"])); !strings.HasPrefix(plugins, "{") {
		t.Errorf("Plugins = %q, want a JSON object", plugins)
	}
}

func TestPodSharesNamespaces(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("shared", "--hostname", "podhost", "--share", "ipc,net,uts,pid")
	e.CreateContainer(pod, "web", nil, "sh", "-c",
		"echo hello-pod > /www/index.html; exec httpd -f -p 8080 -h /www")
	e.CreateContainer(pod, "client", nil, sleeper...)
	e.MustRun("pod", "start", pod)

	var body string
	e.Eventually(10*time.Second, "httpd in web to answer client", func() bool {
		r := e.Run("exec", "client", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/")
		body = strings.TrimSpace(r.Stdout)
		return r.Code == 0
	})
	if body != "hello-pod" {
		t.Errorf("client fetched %q from web over loopback, want hello-pod", body)
	}
	for _, ctr := range []string{"web", "client"} {
		if got := e.MustRun("exec", ctr, "hostname"); strings.TrimSpace(got) != "podhost" {
			t.Errorf("hostname in %s = %q, want podhost", ctr, got)
		}
	}
	// With the PID namespace shared, the infra container's pause process is
	// PID 1 of every container.
	if got := e.MustRun("exec", "client", "cat", "/proc/1/cmdline"); !strings.Contains(got, "pause") {
		t.Errorf("PID 1 in client = %q, want the infra pause process", got)
	}

	t.Run("without infra", func(t *testing.T) {
		e := NewEnv(t)
		pod := e.CreatePod("alone", "--infra=false")
		e.CreateContainer(pod, "web", nil, "sh", "-c",
			"echo hello-pod > /www/index.html; exec httpd -f -p 8080 -h /www")
		e.CreateContainer(pod, "client", nil, sleeper...)
		e.MustRun("pod", "start", pod)

		p := e.InspectPod(pod)
		if p.InfraContainerID != "" {
			t.Errorf("infra ID of a pod without infra = %q, want empty", p.InfraContainerID)
		}
		if len(p.Containers) != 2 {
			t.Errorf("pod without infra has %d containers, want 2", len(p.Containers))
		}
		for _, c := range e.psAll() {
			if c.IsInfra {
				t.Errorf("ps -a lists infra container %s in a pod without infra", c.Name)
			}
		}
		if p.State != "Running" {
			t.Errorf("pod state = %s, want Running", p.State)
		}
		e.Eventually(10*time.Second, "httpd in web to answer web itself", func() bool {
			return e.Run("exec", "web", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/").Code == 0
		})
		if r := e.Run("exec", "client", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/"); r.Code == 0 {
			t.Errorf("client reached web over loopback in a pod without infra: %q", r.Stdout)
		}
	})
}
