package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podplug/podplug/engine"
)

// settleTimeout bounds how long a test waits for the daemon to record what
// runc and conmon already did: an exit, a stop cut short, a restart.
const settleTimeout = 30 * time.Second

func TestDaemonSIGKILLKeepsContainers(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("web")
	e.CreateContainer(pod, "app", nil, "sleep", "1000")
	e.MustRun("pod", "start", pod)
	pids := e.containerPIDs(pod)
	oldDaemon := e.DaemonPID()

	e.KillDaemon(syscall.SIGKILL)

	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); err != nil {
			t.Errorf("container %s (pid %d) after daemon SIGKILL: %v, want still running", name, pid, err)
		}
	}
	if got := e.MustRun("pod", "ps", "--format", "{{.Name}} {{.State}}"); got != "web Running" {
		t.Errorf("pod ps after daemon SIGKILL = %q, want %q", got, "web Running")
	}
	newDaemon := e.DaemonPID()
	if newDaemon == 0 {
		t.Fatal("no daemon runs after a command following the SIGKILL")
	}
	if newDaemon == oldDaemon {
		t.Errorf("daemon pid after SIGKILL = %d, want a new daemon (old pid %d)", newDaemon, oldDaemon)
	}
	if got := e.containerPIDs(pod); !maps.Equal(got, pids) {
		t.Errorf("container pids recorded by the new daemon = %v, want %v", got, pids)
	}
}

func TestDaemonRecordsExitWhileDown(t *testing.T) {
	e := NewEnv(t)
	// Pod job stops by its exit policy, and flaky in pod retry is restarted
	// once by its restart policy.
	job := e.CreatePod("job", "--exit-policy", "stop")
	e.CreateContainer(job, "task", nil, "sh", "-c", "sleep 2; exit 7")
	retry := e.CreatePod("retry")
	e.CreateContainer(retry, "flaky", []string{"--restart", "on-failure:1"},
		"sh", "-c", "sleep 2; exit 7")
	e.MustRun("pod", "start", job)
	e.MustRun("pod", "start", retry)
	taskPID := e.InspectContainer("task").State.PID

	e.KillDaemon(syscall.SIGKILL)
	time.Sleep(3 * time.Second)
	if err := syscall.Kill(taskPID, 0); err == nil {
		t.Fatalf("container task (pid %d) still runs 3s after it should have exited", taskPID)
	}

	e.Eventually(settleTimeout, "task to be recorded as exited", func() bool {
		return e.ContainerState("task") == "exited"
	})
	if got := e.InspectContainer("task").State.ExitCode; got != 7 {
		t.Errorf("task exit code = %d, want 7", got)
	}
	infra := e.InspectPod(job).InfraContainerID
	e.Eventually(settleTimeout, "exit policy stop to stop the infra container of job", func() bool {
		return e.ContainerState(infra) == "exited"
	})
	if got := e.PodState(job); got != "Exited" {
		t.Errorf("pod job state = %s, want Exited", got)
	}
	e.Eventually(settleTimeout, "flaky to be restarted once by on-failure:1", func() bool {
		return e.InspectContainer("flaky").State.RestartCount == 1
	})
	if got := e.PodState(retry); got == "Stopped" || got == "Error" {
		t.Errorf("pod retry state = %s, want its container restarted", got)
	}
	died := countEvents(e.events("--filter", "pod="+job), "container", "died", "task")
	if died != 1 {
		t.Errorf("died events of task = %d, want exactly 1", died)
	}
}

// crashCase is one operation that the daemon is killed in the middle of.
type crashCase struct {
	name string
	// delays are the times after the command begins at which the daemon
	// gets SIGKILL. Where each lands depends on the machine's load.
	delays []time.Duration
	// setup creates (and starts) a pod named pod.
	setup func(e *Env, pod string)
	// args is the interrupted command.
	args func(pod string) []string
	// removes is true when the command removes the pod, so a finished
	// removal is a valid outcome.
	removes bool
}

func TestDaemonCrashMidOperation(t *testing.T) {
	cases := []crashCase{
		{
			name:   "pod start",
			delays: millis(50, 100, 140, 180, 220, 260),
			setup: func(e *Env, pod string) {
				e.CreatePod(pod)
				for i := range 10 {
					e.CreateContainer(pod, fmt.Sprintf("%s-c%d", pod, i), nil, "sleep", "1000")
				}
			},
			args: func(pod string) []string { return []string{"pod", "start", pod} },
		},
		{
			name:   "pod stop",
			delays: millis(100, 500, 2000),
			setup: func(e *Env, pod string) {
				e.CreatePod(pod)
				flags := []string{"--stop-timeout", "5"}
				for i := range 2 {
					e.CreateContainer(pod, fmt.Sprintf("%s-c%d", pod, i), flags,
						"sh", "-c", "trap '' TERM; while :; do sleep 1; done")
				}
				e.MustRun("pod", "start", pod)
			},
			args: func(pod string) []string { return []string{"pod", "stop", pod} },
		},
		{
			name:   "pod rm",
			delays: millis(50, 100, 600, 1100, 1200),
			setup: func(e *Env, pod string) {
				e.CreatePod(pod)
				for i := range 4 {
					e.CreateContainer(pod, fmt.Sprintf("%s-c%d", pod, i), []string{"--stop-timeout", "1"},
						"sleep", "1000")
				}
				e.MustRun("pod", "start", pod)
			},
			args:    func(pod string) []string { return []string{"pod", "rm", "-f", pod} },
			removes: true,
		},
		{
			// With -t 0 the stop is a SIGKILL, so the removal takes most of
			// the time and more of these crashes land in it.
			name:   "pod rm -t 0",
			delays: millis(40, 120, 180, 240),
			setup: func(e *Env, pod string) {
				e.CreatePod(pod)
				for i := range 4 {
					e.CreateContainer(pod, fmt.Sprintf("%s-c%d", pod, i), nil, "sleep", "1000")
				}
				e.MustRun("pod", "start", pod)
			},
			args:    func(pod string) []string { return []string{"pod", "rm", "-f", "-t", "0", pod} },
			removes: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEnv(t)
			var pids []int
			for i, delay := range tc.delays {
				pod := fmt.Sprintf("crash%d", i)
				tc.setup(e, pod)
				for _, c := range e.InspectPod(pod).Containers {
					if pid := e.InspectContainer(c.ID).State.PID; pid != 0 {
						pids = append(pids, pid)
					}
				}
				e.crashDuring(tc.args(pod), delay)
				e.checkAfterCrash(pod, tc.removes, delay)
			}
			e.Eventually(settleTimeout, "every container process of the removed pods to end", func() bool {
				return !slices.ContainsFunc(pids, func(pid int) bool { return syscall.Kill(pid, 0) == nil })
			})
			if left := e.runtimeProcesses(); len(left) > 0 {
				t.Errorf("processes still use %s after every pod was removed: %v", e.RunRoot, left)
			}
		})
	}
}

// millis returns durations of the given numbers of milliseconds.
func millis(values ...int) []time.Duration {
	out := make([]time.Duration, 0, len(values))
	for _, v := range values {
		out = append(out, time.Duration(v)*time.Millisecond)
	}
	return out
}

// crashDuring runs podplug with args in the background, SIGKILLs the
// daemon after delay and waits for the command to end.
func (e *Env) crashDuring(args []string, delay time.Duration) {
	e.t.Helper()
	cmd := e.command(context.Background(), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start podplug %s: %v", strings.Join(args, " "), err)
	}
	time.Sleep(delay)
	if e.DaemonPID() != 0 {
		e.KillDaemon(syscall.SIGKILL)
	}
	err := cmd.Wait()
	e.t.Logf("podplug %s, daemon killed after %s: %v: %s",
		strings.Join(args, " "), delay, err, out.String())
	logSize := e.daemonLogSize()
	states := map[string]int{}
	for _, c := range e.containers() {
		states[c.State]++
	}
	e.t.Logf("container states after the restart: %v; the new daemon's reconciliation:\n%s",
		states, e.reconcileLines(logSize))
}

func (e *Env) daemonLogSize() int64 {
	fi, err := os.Stat(filepath.Join(e.RunRoot, "daemon.log"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// reconcileLines returns the lines of the daemon log after offset that
// report finishing or adopting what a crash cut short.
func (e *Env) reconcileLines(offset int64) string {
	data, err := os.ReadFile(filepath.Join(e.RunRoot, "daemon.log"))
	if err != nil || int64(len(data)) < offset {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(string(data[offset:]), "\n") {
		if strings.Contains(l, "cut short") || strings.Contains(l, "adopting") ||
			strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// checkAfterCrash checks what a new daemon makes of a pod whose operation
// was cut short. The pod must still be there, unless removalAllowed and it
// is completely gone. No container may stay stopping or removing, and the
// pod must still stop, start and be removed.
func (e *Env) checkAfterCrash(pod string, removalAllowed bool, delay time.Duration) {
	e.t.Helper()
	at := fmt.Sprintf("pod %s, crash after %s", pod, delay)
	names := e.podNames()
	if !slices.Contains(names, pod) {
		if !removalAllowed {
			e.t.Fatalf("%s: pod ps lists %v, want the pod still there", at, names)
		}
		e.checkRemovedCompletely(pod, at)
		return
	}

	e.Eventually(settleTimeout, at+": no container stopping or removing", func() bool {
		for _, c := range e.containers() {
			if c.PodName == pod && (c.State == "stopping" || c.State == "removing") {
				return false
			}
		}
		return true
	})

	if r := e.Run("pod", "stop", "-t", "0", pod); r.Code != 0 {
		e.t.Errorf("%s: pod stop -t 0: exit %d: %s", at, r.Code, r.Stderr)
	}
	// A crash before the first container started leaves them all created,
	// and stopping a pod that never ran leaves it Created.
	for _, c := range e.InspectPod(pod).Containers {
		if c.State != "exited" && c.State != "created" {
			e.t.Errorf("%s: container %s after pod stop is %s, want exited or created", at, c.Name, c.State)
		}
	}

	if r := e.Run("pod", "start", pod); r.Code != 0 {
		e.t.Errorf("%s: pod start: exit %d: %s", at, r.Code, r.Stderr)
	}
	if got := e.PodState(pod); got != "Running" {
		e.t.Errorf("%s: state after pod start = %s, want Running", at, got)
	}

	if r := e.Run("pod", "rm", "-f", "-t", "0", pod); r.Code != 0 {
		e.t.Errorf("%s: pod rm -f: exit %d: %s", at, r.Code, r.Stderr)
	}
	e.checkRemovedCompletely(pod, at)
}

// checkRemovedCompletely checks that neither the pod nor any container of
// it is listed, and that runc keeps no container of it.
func (e *Env) checkRemovedCompletely(pod, at string) {
	e.t.Helper()
	if slices.Contains(e.podNames(), pod) {
		e.t.Errorf("%s: pod still listed after its removal", at)
	}
	for _, c := range e.containers() {
		if c.PodName == pod || strings.HasPrefix(c.Name, pod+"-") {
			e.t.Errorf("%s: container %s (%s) still listed after the pod's removal", at, c.Name, c.State)
		}
	}
	known := map[string]bool{}
	for _, c := range e.containers() {
		known[c.ID] = true
	}
	for _, id := range e.runcContainers() {
		if !known[id] {
			e.t.Errorf("%s: runc still has container %s that no pod lists", at, id)
		}
	}
	if mounts := e.containerMounts(); len(mounts) > len(known) {
		e.t.Errorf("%s: %d root file systems mounted for %d containers: %v",
			at, len(mounts), len(known), mounts)
	}
}

// containerMounts returns the mount points below ROOT/containers.
func (e *Env) containerMounts() []string {
	e.t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		e.t.Fatal(err)
	}
	prefix := filepath.Join(e.Root, "containers") + "/"
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) > 4 && strings.HasPrefix(fields[4], prefix) {
			out = append(out, fields[4])
		}
	}
	return out
}

// runtimeProcesses returns the processes other than the daemon whose
// command line names e's --run-root, such as a conmon left behind, as
// "pid: command line".
func (e *Env) runtimeProcesses() []string {
	e.t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		e.t.Fatal(err)
	}
	daemon := strconv.Itoa(e.DaemonPID())
	var out []string
	for _, entry := range entries {
		if _, err := strconv.Atoi(entry.Name()); err != nil || entry.Name() == daemon {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(e.RunRoot)) {
			continue
		}
		out = append(out, entry.Name()+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	}
	return out
}

func TestDaemonSIGTERMKeepsContainers(t *testing.T) {
	e := NewEnv(t)
	pod := e.CreatePod("web")
	e.CreateContainer(pod, "app", nil, "sleep", "1000")
	e.MustRun("pod", "start", pod)
	pids := e.containerPIDs(pod)
	oldDaemon := e.DaemonPID()

	e.KillDaemon(syscall.SIGTERM)

	for _, name := range []string{"daemon.pid", "podplug.sock"} {
		if _, err := os.Stat(filepath.Join(e.RunRoot, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after SIGTERM: stat error %v, want the file removed", name, err)
		}
	}
	daemonLog, err := os.ReadFile(filepath.Join(e.RunRoot, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(daemonLog), "daemon stopping") {
		t.Errorf("daemon log after SIGTERM lacks \"daemon stopping\":\n%s", daemonLog)
	}
	if strings.Contains(string(daemonLog), "level=ERROR") {
		t.Errorf("daemon log after SIGTERM has errors:\n%s", daemonLog)
	}
	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); err != nil {
			t.Errorf("container %s (pid %d) after daemon SIGTERM: %v, want still running", name, pid, err)
		}
	}
	if got := e.PodState(pod); got != "Running" {
		t.Errorf("pod state after daemon restart = %s, want Running", got)
	}
	if newDaemon := e.DaemonPID(); newDaemon == oldDaemon {
		t.Errorf("daemon pid after SIGTERM = %d, want a new daemon", newDaemon)
	}
	if got := e.containerPIDs(pod); !maps.Equal(got, pids) {
		t.Errorf("container pids after daemon restart = %v, want %v", got, pids)
	}
}

func TestDaemonEnginesSideBySide(t *testing.T) {
	a, b := NewEnv(t), NewEnv(t)
	// Both engines use the same pod and container names: names are unique
	// per engine only.
	for _, e := range []*Env{a, b} {
		e.CreatePod("shared")
		e.CreateContainer("shared", "app", nil, "sleep", "1000")
	}
	a.CreatePod("only-a")
	b.CreatePod("only-b")
	a.MustRun("pod", "start", "shared")
	b.MustRun("pod", "start", "shared")

	if a.DaemonPID() == b.DaemonPID() {
		t.Fatalf("both engines report daemon pid %d, want one daemon each", a.DaemonPID())
	}
	if got, want := a.podNames(), []string{"only-a", "shared"}; !slices.Equal(got, want) {
		t.Errorf("engine a lists pods %v, want %v", got, want)
	}
	if got, want := b.podNames(), []string{"only-b", "shared"}; !slices.Equal(got, want) {
		t.Errorf("engine b lists pods %v, want %v", got, want)
	}
	idA, idB := a.InspectContainer("app").ID, b.InspectContainer("app").ID
	if idA == idB {
		t.Errorf("both engines' app containers have ID %s", idA)
	}
	for _, c := range a.containers() {
		if c.ID == idB {
			t.Errorf("engine a lists engine b's container %s", c.Name)
		}
	}

	a.MustRun("pod", "stop", "-t", "0", "shared")
	if got := a.PodState("shared"); got != "Stopped" {
		t.Errorf("engine a pod shared = %s after its stop, want Stopped", got)
	}
	if got := b.PodState("shared"); got != "Running" {
		t.Errorf("engine b pod shared = %s after engine a stopped its own, want Running", got)
	}
	if r := a.Run("pod", "inspect", "only-b"); r.Code != 125 {
		t.Errorf("engine a: pod inspect only-b: exit %d, want 125 (not found)", r.Code)
	}
}

func TestDaemonSecondServeFails(t *testing.T) {
	e := NewEnv(t)
	first := e.DaemonPID()
	if first == 0 {
		t.Fatal("no daemon runs after NewEnv")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := e.command(ctx, "serve")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()

	if ctx.Err() != nil {
		t.Fatalf("second serve on %s still runs after 15s, want it to fail at once", e.Root)
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 125 {
		t.Errorf("second serve: %v, want exit status 125", err)
	}
	if !strings.Contains(stderr.String(), e.Root) {
		t.Errorf("second serve error does not name the root %s:\n%s", e.Root, stderr.String())
	}
	if got := e.DaemonPID(); got != first {
		t.Errorf("daemon pid after a second serve = %d, want the first daemon %d still serving",
			got, first)
	}
	e.MustRun("pod", "ps")
}

// command returns podplug with e's --root and --run-root and args, not yet
// started.
func (e *Env) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"--root", e.Root, "--run-root", e.RunRoot}, args...)
	return exec.CommandContext(ctx, filepath.Join(binDir, "podplug"), full...)
}

// podNames returns the names `pod ps` lists, sorted.
func (e *Env) podNames() []string {
	e.t.Helper()
	var pods []engine.PodSummary
	decodeJSON(e.t, e.MustRun("pod", "ps", "--format", "json"), &pods)
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// containers returns every container `ps -a` lists.
func (e *Env) containers() []engine.ContainerSummary {
	e.t.Helper()
	var ctrs []engine.ContainerSummary
	decodeJSON(e.t, e.MustRun("ps", "-a", "--format", "json"), &ctrs)
	return ctrs
}

// containerPIDs returns the process ID of each container of pod, by name.
func (e *Env) containerPIDs(pod string) map[string]int {
	e.t.Helper()
	pids := map[string]int{}
	for _, c := range e.InspectPod(pod).Containers {
		pid := e.InspectContainer(c.ID).State.PID
		if pid == 0 {
			e.t.Fatalf("container %s of pod %s has no pid (state %s)", c.Name, pod, c.State)
		}
		pids[c.Name] = pid
	}
	return pids
}

// runcContainers returns the IDs of the containers runc keeps for e.
func (e *Env) runcContainers() []string {
	e.t.Helper()
	out, err := exec.Command("runc", "--root", filepath.Join(e.RunRoot, "runc"),
		"list", "--format", "json").Output()
	if err != nil {
		e.t.Fatalf("runc list: %v", err)
	}
	var list []struct {
		ID string `json:"id"`
	}
	if trimmed := bytes.TrimSpace(out); len(trimmed) > 0 && string(trimmed) != "null" {
		decodeJSON(e.t, string(trimmed), &list)
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

func decodeJSON(t *testing.T, data string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, data)
	}
}
