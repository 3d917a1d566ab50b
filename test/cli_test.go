package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/api"
	"github.com/podplug/podplug/engine/model"
)

// fullID is a container, pod or image ID as `-q` prints it.
var fullID = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestCLIRejectsBadInput(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "app", nil, "sleep", "1000")
	e.MustRun("pod", "start", "web")
	e.CreatePod("other")
	e.CreateContainer("other", "db", nil, "sleep", "1000")

	newCtr := func(flags ...string) []string {
		args := append([]string{"create", "--pod", "web", "--name", "fresh"}, flags...)
		return append(args, "localhost/busybox", "true")
	}
	ctrIn := func(pod, name, image string) []string {
		return []string{"create", "--pod", pod, "--name", name, image, "true"}
	}
	newPod := func(flags ...string) []string {
		return append([]string{"pod", "create", "--name", "fresh"}, flags...)
	}
	cases := []struct {
		name string
		args []string
		// want is what stderr must name: the bad value or the object.
		want string
	}{
		{"pod start unknown pod", []string{"pod", "start", "nosuch"}, "nosuch"},
		{"pod stop unknown pod", []string{"pod", "stop", "nosuch"}, "nosuch"},
		{"pod restart unknown pod", []string{"pod", "restart", "nosuch"}, "nosuch"},
		{"pod inspect unknown pod", []string{"pod", "inspect", "nosuch"}, "nosuch"},
		{"pod rm unknown pod", []string{"pod", "rm", "nosuch"}, "nosuch"},
		{"pod kill unknown pod", []string{"pod", "kill", "nosuch"}, "nosuch"},
		{"pod pause unknown pod", []string{"pod", "pause", "nosuch"}, "nosuch"},
		{"pod unpause unknown pod", []string{"pod", "unpause", "nosuch"}, "nosuch"},
		{"pod logs unknown pod", []string{"pod", "logs", "nosuch"}, "nosuch"},
		{"pod logs unknown container", []string{"pod", "logs", "-c", "ghost", "web"}, "ghost"},
		{"start unknown container", []string{"start", "nosuch"}, "nosuch"},
		{"stop unknown container", []string{"stop", "nosuch"}, "nosuch"},
		{"inspect unknown container", []string{"inspect", "nosuch"}, "nosuch"},
		{"rm unknown container", []string{"rm", "nosuch"}, "nosuch"},
		{"kill unknown container", []string{"kill", "nosuch"}, "nosuch"},
		{"logs unknown container", []string{"logs", "nosuch"}, "nosuch"},
		{"wait unknown container", []string{"wait", "nosuch"}, "nosuch"},
		{"exec unknown container", []string{"exec", "nosuch", "true"}, "nosuch"},
		{"pod kill bad signal", []string{"pod", "kill", "-s", "NOPE", "web"}, "NOPE"},
		{"kill bad signal", []string{"kill", "-s", "NOPE", "app"}, "NOPE"},
		{"pod name taken", []string{"pod", "create", "--name", "web"}, "web"},
		{"container name taken", ctrIn("web", "app", "localhost/busybox"), "app"},
		{"container name taken in another pod", ctrIn("other", "app", "localhost/busybox"), "app"},
		{"create in unknown pod", ctrIn("nosuch", "fresh", "localhost/busybox"), "nosuch"},
		{"missing image", ctrIn("web", "fresh", "localhost/nosuchimage"), "localhost/nosuchimage"},
		{"restart policy", newCtr("--restart", "sometimes"), "sometimes"},
		{"stop signal", newCtr("--stop-signal", "NOPE"), "NOPE"},
		{"volume without colon", newCtr("-v", "nocolon"), "nocolon"},
		{"init mode", newCtr("--init-ctr", "twice"), "twice"},
		{"environment without equals", newCtr("--env", "NOEQUALS"), "NOEQUALS"},
		{"container name", ctrIn("web", "bad/name", "localhost/busybox"), "bad/name"},
		{"requires container of another pod", newCtr("--requires", "db"), "db"},
		{"requires unknown container", newCtr("--requires", "ghost"), "ghost"},
		{"pod memory", newPod("--memory", "lots"), "lots"},
		{"pod share", newPod("--share", "bogus"), "bogus"},
		{"pod exit policy", newPod("--exit-policy", "maybe"), "maybe"},
		{"pod name", []string{"pod", "create", "--name", "bad/name"}, "bad/name"},
		{"pod label", newPod("--label", "novalue"), "novalue"},
		{"pod network", newPod("--network", "overlay"), "overlay"},
		{"publish without bridge", newPod("--network", "none", "--publish", "8080:80"), "publish"},
	}
	before := e.snapshot()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			command := strings.Join(tc.args, " ")
			r := e.Run(tc.args...)
			if r.Code != 125 {
				t.Errorf("podplug %s: exit %d, want 125\nstderr: %s", command, r.Code, r.Stderr)
			}
			if !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("podplug %s: stderr does not name %q:\n%s", command, tc.want, r.Stderr)
			}
			if after := e.snapshot(); after != before {
				t.Errorf("podplug %s changed state:\nbefore: %s\nafter:  %s", command, before, after)
			}
		})
	}
}

// snapshot returns what `pod ps`, `ps -a` and `image ls` list as JSON, with
// the "Up N seconds" status column dropped because it changes by itself.
func (e *Env) snapshot() string {
	e.t.Helper()
	var ctrs []map[string]any
	decodeJSON(e.t, e.MustRun("ps", "-a", "--format", "json"), &ctrs)
	for _, c := range ctrs {
		delete(c, "Status")
	}
	ctrJSON, err := json.Marshal(ctrs)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.MustRun("pod", "ps", "--format", "json") + "\n" + string(ctrJSON) + "\n" +
		e.MustRun("image", "ls", "--format", "json")
}

func TestPodExists(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	if r := e.Run("pod", "exists", "web"); r.Code != 0 {
		t.Errorf("pod exists web: exit %d, want 0: %s", r.Code, r.Stderr)
	}
	r := e.Run("pod", "exists", "nosuch")
	if r.Code != 1 {
		t.Errorf("pod exists nosuch: exit %d, want 1: %s", r.Code, r.Stderr)
	}
	if r.Stderr != "" {
		t.Errorf("pod exists nosuch printed %q, want nothing", r.Stderr)
	}
}

func TestPodPruneRemovesStoppedOnly(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("up")
	e.CreateContainer("up", "up-app", nil, "sleep", "1000")
	e.CreatePod("part")
	e.CreateContainer("part", "part-long", nil, "sleep", "1000")
	e.CreateContainer("part", "part-short", nil, "true")
	e.CreatePod("down")
	e.CreateContainer("down", "down-app", nil, "sleep", "1000")
	e.CreatePod("done", "--exit-policy", "stop")
	e.CreateContainer("done", "done-app", nil, "true")
	for _, pod := range []string{"up", "part", "down", "done"} {
		e.MustRun("pod", "start", pod)
	}
	e.MustRun("pod", "stop", "-t", "0", "down")
	wantStates := map[string]string{
		"up": "Running", "part": "Degraded", "down": "Stopped", "done": "Exited",
	}
	for pod, want := range wantStates {
		e.Eventually(settleTimeout, "pod "+pod+" to be "+want, func() bool {
			return e.PodState(pod) == want
		})
	}

	out := strings.Fields(e.MustRun("pod", "prune"))
	slices.Sort(out)
	if want := []string{"done", "down"}; !slices.Equal(out, want) {
		t.Errorf("pod prune printed %v, want %v", out, want)
	}
	if got, want := e.podNames(), []string{"part", "up"}; !slices.Equal(got, want) {
		t.Errorf("pods after prune = %v, want %v", got, want)
	}
	for _, c := range e.containers() {
		if c.PodName == "" || strings.HasPrefix(c.Name, "down-") || strings.HasPrefix(c.Name, "done-") {
			t.Errorf("container %s of a pruned pod is still listed", c.Name)
		}
	}
}

func TestListFormats(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "app", nil, "sleep", "1000")
	e.MustRun("pod", "start", "web")

	tables := []struct {
		args    []string
		heading []string
		row     []string
	}{
		{
			args:    []string{"pod", "ps"},
			heading: []string{"POD ID", "NAME", "STATUS", "CREATED", "INFRA ID", "# OF CONTAINERS"},
			row:     []string{"web", "Running"},
		},
		{
			args:    []string{"ps", "-a"},
			heading: []string{"CONTAINER ID", "IMAGE", "COMMAND", "STATUS", "POD", "NAMES"},
			row:     []string{"app", "web", "sleep 1000"},
		},
		{
			args:    []string{"image", "ls"},
			heading: []string{"IMAGE ID", "NAMES", "SIZE", "CREATED"},
			row:     []string{"localhost/busybox"},
		},
	}
	for _, tc := range tables {
		lines := strings.Split(e.MustRun(tc.args...), "\n")
		for _, h := range tc.heading {
			if !strings.Contains(lines[0], h) {
				t.Errorf("%s: heading %q lacks %q", strings.Join(tc.args, " "), lines[0], h)
			}
		}
		if !slices.ContainsFunc(lines[1:], func(l string) bool { return containsAll(l, tc.row) }) {
			t.Errorf("%s: no row with %v:\n%s",
				strings.Join(tc.args, " "), tc.row, strings.Join(lines, "\n"))
		}
	}

	if got := e.podNames(); !slices.Equal(got, []string{"web"}) {
		t.Errorf("pod ps --format json names = %v, want [web]", got)
	}
	var ctrNames []string
	for _, c := range e.containers() {
		ctrNames = append(ctrNames, c.Name)
	}
	if !slices.Contains(ctrNames, "app") || len(ctrNames) != 2 {
		t.Errorf("ps -a --format json names = %v, want app and the infra container", ctrNames)
	}
	var images []model.Image
	decodeJSON(t, e.MustRun("image", "ls", "--format", "json"), &images)
	if len(images) != 1 || !slices.ContainsFunc(images[0].Names, func(n string) bool {
		return strings.HasPrefix(n, "localhost/busybox")
	}) {
		t.Errorf("image ls --format json = %+v, want one image named localhost/busybox", images)
	}

	if got := e.MustRun("pod", "ps", "--format", "{{.Name}} {{.State}}"); got != "web Running" {
		t.Errorf("pod ps --format '{{.Name}} {{.State}}' = %q, want %q", got, "web Running")
	}

	quiet := []struct {
		args  []string
		count int
	}{
		{[]string{"pod", "ps", "-q"}, 1},
		{[]string{"ps", "-q"}, 2},
		{[]string{"ps", "-a", "-q"}, 2},
		{[]string{"image", "ls", "-q"}, 1},
	}
	for _, tc := range quiet {
		lines := strings.Split(e.MustRun(tc.args...), "\n")
		if len(lines) != tc.count {
			t.Errorf("%s printed %d lines, want %d: %q",
				strings.Join(tc.args, " "), len(lines), tc.count, lines)
		}
		for _, l := range lines {
			if !fullID.MatchString(l) {
				t.Errorf("%s printed %q, want a 64-character hex ID", strings.Join(tc.args, " "), l)
			}
		}
	}
	if got, want := e.MustRun("pod", "ps", "-q"), e.InspectPod("web").ID; got != want {
		t.Errorf("pod ps -q = %s, want the ID of web %s", got, want)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestLogsStdoutAndStderr(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "talk", nil, "sh", "-c", "echo out1; echo err1 >&2; echo out2")
	e.MustRun("pod", "start", "web")
	e.MustRun("wait", "talk")

	r := e.Run("logs", "talk")
	if r.Code != 0 {
		t.Fatalf("logs talk: exit %d: %s", r.Code, r.Stderr)
	}
	if r.Stdout != "out1\nout2\n" {
		t.Errorf("logs talk stdout = %q, want %q", r.Stdout, "out1\nout2\n")
	}
	if r.Stderr != "err1\n" {
		t.Errorf("logs talk stderr = %q, want %q", r.Stderr, "err1\n")
	}
}

func TestLogsFollowUntilExit(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "count", nil,
		"sh", "-c", "for i in 1 2 3 4 5; do echo $i; sleep 0.2; done")
	e.MustRun("pod", "start", "web")

	start := time.Now()
	out := e.MustRun("logs", "-f", "count")
	elapsed := time.Since(start)

	if out != "1\n2\n3\n4\n5" {
		t.Errorf("logs -f count = %q, want 1 to 5, one a line", out)
	}
	if got := e.ContainerState("count"); got != "exited" {
		t.Errorf("state when logs -f returned = %s, want exited", got)
	}
	if elapsed > 10*time.Second {
		t.Errorf("logs -f took %s for a container that runs 1s", elapsed)
	}
}

func TestPodLogsPrefixAndFilter(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("duo")
	e.CreateContainer("duo", "a", nil, "echo", "from-a")
	// The second container's name is a prefix of the first one's ID, so
	// -c must prefer an exact name over an ID prefix.
	b := e.InspectContainer("a").ID[:4]
	e.CreateContainer("duo", b, nil, "echo", "from-b")
	e.MustRun("pod", "start", "duo")
	e.MustRun("wait", "a", b)

	lines := strings.Split(e.MustRun("pod", "logs", "duo"), "\n")
	slices.Sort(lines)
	want := []string{"a from-a", b + " from-b"}
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("pod logs duo = %q, want %q", lines, want)
	}
	if got := e.MustRun("pod", "logs", "-c", "a", "duo"); got != "a from-a" {
		t.Errorf("pod logs -c a duo = %q, want %q", got, "a from-a")
	}
	if got := e.MustRun("pod", "logs", "-c", b, "duo"); got != b+" from-b" {
		t.Errorf("pod logs -c %s duo = %q, want only %q", b, got, b+" from-b")
	}
}

func TestWaitPrintsExitCode(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "five", nil, "sh", "-c", "sleep 1; exit 5")
	e.MustRun("pod", "start", "web")

	if got := e.MustRun("wait", "five"); got != "5" {
		t.Errorf("wait five printed %q, want 5", got)
	}
	if got := e.ContainerState("five"); got != "exited" {
		t.Errorf("state after wait = %s, want exited", got)
	}
	if got := e.MustRun("wait", "five"); got != "5" {
		t.Errorf("wait on an exited container printed %q, want 5", got)
	}
}

func TestExec(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "srv", nil, "sleep", "1000")
	e.MustRun("pod", "start", "web")

	r := e.Run("exec", "srv", "sh", "-c", "echo hi; echo oops >&2; exit 3")
	if r.Code != 3 {
		t.Errorf("exec exit 3: exit %d, want 3: %s", r.Code, r.Stderr)
	}
	if r.Stdout != "hi\n" {
		t.Errorf("exec stdout = %q, want %q", r.Stdout, "hi\n")
	}
	if r.Stderr != "oops\n" {
		t.Errorf("exec stderr = %q, want %q", r.Stderr, "oops\n")
	}

	in := e.runInput("hello\n", "exec", "-i", "srv", "cat")
	if in.Code != 0 || in.Stdout != "hello\n" {
		t.Errorf("echo hello | exec -i srv cat: exit %d, stdout %q, want 0 and %q: %s",
			in.Code, in.Stdout, "hello\n", in.Stderr)
	}

	e.MustRun("pod", "stop", "-t", "0", "web")
	stopped := e.Run("exec", "srv", "true")
	if stopped.Code != 125 {
		t.Errorf("exec in a stopped container: exit %d, want 125", stopped.Code)
	}
	if !strings.Contains(stopped.Stderr, "srv") {
		t.Errorf("exec in a stopped container: stderr does not name srv: %s", stopped.Stderr)
	}
}

// runInput runs podplug with args and stdin as its standard input.
func (e *Env) runInput(stdin string, args ...string) Result {
	e.t.Helper()
	cmd := e.command(context.Background(), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		res.Code = exitErr.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run podplug %s: %v", strings.Join(args, " "), err)
	}
	return res
}

func TestEventsSinceAndFilter(t *testing.T) {
	e := NewEnv(t)
	for pod, ctr := range map[string]string{"ev": "c1", "other": "c2"} {
		e.CreatePod(pod)
		e.CreateContainer(pod, ctr, nil, "true")
		e.MustRun("pod", "start", pod)
	}
	e.MustRun("wait", "c1", "c2")

	want := []struct{ typ, action, name string }{
		{"pod", "create", "ev"}, {"pod", "start", "ev"},
		{"container", "start", "c1"}, {"container", "died", "c1"},
	}
	all := e.events()
	for _, w := range want {
		if countEvents(all, w.typ, w.action, w.name) == 0 {
			t.Errorf("events --since 1m lacks %s %s %s", w.typ, w.action, w.name)
		}
	}
	if countEvents(all, "container", "died", "c2") == 0 {
		t.Errorf("events --since 1m lacks the other pod's container died event")
	}

	filtered := e.events("--filter", "pod=ev")
	for _, w := range want {
		if countEvents(filtered, w.typ, w.action, w.name) == 0 {
			t.Errorf("events --filter pod=ev lacks %s %s %s", w.typ, w.action, w.name)
		}
	}
	for _, ev := range filtered {
		if ev.PodName != "ev" {
			t.Errorf("events --filter pod=ev printed %s %s %s of pod %q",
				ev.Type, ev.Action, ev.Name, ev.PodName)
		}
	}
	for _, ev := range filtered {
		if ev.Type == "container" && ev.Action == "died" && ev.Attributes["exitCode"] != "0" {
			t.Errorf("died event of %s has exitCode %q, want 0", ev.Name, ev.Attributes["exitCode"])
		}
	}
}

// eventsTimeout is how long events runs before the test stops it, because
// events streams until it is interrupted.
const eventsTimeout = 3 * time.Second

// events runs `events --since 1m --format json` with extra args for
// eventsTimeout and returns the events it printed.
func (e *Env) events(args ...string) []model.Event {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventsTimeout)
	defer cancel()
	full := append([]string{"events", "--since", "1m", "--format", "json"}, args...)
	cmd := e.command(ctx, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() == nil {
		e.t.Fatalf("podplug %s ended before it was stopped: %v: %s",
			strings.Join(full, " "), err, stderr.String())
	}
	var out []model.Event
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var ev model.Event
		decodeJSON(e.t, line, &ev)
		out = append(out, ev)
	}
	return out
}

func countEvents(events []model.Event, typ, action, name string) int {
	n := 0
	for _, ev := range events {
		if ev.Type == typ && ev.Action == action && ev.Name == name {
			n++
		}
	}
	return n
}

func TestImageRemoveInUse(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "app", []string{"--stop-timeout", "0"}, "sleep", "1000")
	e.MustRun("pod", "start", "web")

	r := e.Run("image", "rm", "localhost/busybox")
	if r.Code != 125 {
		t.Errorf("image rm of an image in use: exit %d, want 125", r.Code)
	}
	if !strings.Contains(r.Stderr, "app") {
		t.Errorf("image rm of an image in use: stderr does not name container app: %s", r.Stderr)
	}
	if got := e.ContainerState("app"); got != "running" {
		t.Errorf("app after a refused image rm = %s, want running", got)
	}
	if got := e.imageCount(); got != 1 {
		t.Errorf("images after a refused image rm = %d, want 1", got)
	}

	e.MustRun("image", "rm", "-f", "localhost/busybox")
	if got := e.imageCount(); got != 0 {
		t.Errorf("images after image rm -f = %d, want 0", got)
	}
	for _, c := range e.containers() {
		if c.Name == "app" {
			t.Errorf("container app still listed (%s) after image rm -f", c.State)
		}
	}
}

func (e *Env) imageCount() int {
	e.t.Helper()
	var images []model.Image
	decodeJSON(e.t, e.MustRun("image", "ls", "--format", "json"), &images)
	return len(images)
}

func TestImageTagUsableInCreate(t *testing.T) {
	e := NewEnv(t)
	e.MustRun("image", "tag", "localhost/busybox", "localhost/tagged")
	var images []model.Image
	decodeJSON(t, e.MustRun("image", "ls", "--format", "json"), &images)
	if len(images) != 1 || len(images[0].Names) != 2 {
		t.Errorf("image ls after tag = %+v, want one image with two names", images)
	}

	e.CreatePod("web")
	e.CreateContainer("web", "app", nil, "true")
	e.MustRun("create", "--pod", "web", "--name", "viatag", "localhost/tagged", "echo", "tagged")
	if a, b := e.InspectContainer("app").ImageID, e.InspectContainer("viatag").ImageID; a != b {
		t.Errorf("image of a container created by the tag = %s, want %s", b, a)
	}
	e.MustRun("pod", "start", "web")
	if got := e.MustRun("wait", "viatag"); got != "0" {
		t.Errorf("wait viatag = %s, want 0", got)
	}
	if got := e.MustRun("logs", "viatag"); got != "tagged" {
		t.Errorf("logs viatag = %q, want tagged", got)
	}
}

func TestImageImportCorruptArchive(t *testing.T) {
	e := NewEnv(t)
	dir := t.TempDir()
	noise := make([]byte, 64<<10)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(busyboxTar)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"random bytes", noise},
		{"truncated tar", whole[:len(whole)/2]},
	}
	before := e.MustRun("image", "ls", "--format", "json")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".tar")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			r := e.Run("image", "import", path, "localhost/corrupt")
			if r.Code != 125 {
				t.Errorf("image import of %s: exit %d, want 125", tc.name, r.Code)
			}
			if !strings.Contains(r.Stderr, "localhost/corrupt") {
				t.Errorf("image import of %s: stderr does not name the image: %s", tc.name, r.Stderr)
			}
			if after := e.MustRun("image", "ls", "--format", "json"); after != before {
				t.Errorf("image ls after a failed import:\n%s\nwant:\n%s", after, before)
			}
			tmp, err := os.ReadDir(filepath.Join(e.Root, "images", "tmp"))
			if err != nil || len(tmp) != 0 {
				t.Errorf("images/tmp after a failed import: %d entries, error %v; want empty", len(tmp), err)
			}
		})
	}
}

func TestInfoAndVersion(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "app", nil, "sleep", "1000")
	e.MustRun("pod", "start", "web")
	pid := e.DaemonPID()

	text := e.MustRun("info")
	for _, want := range []string{
		"root:           " + e.Root, "run root:       " + e.RunRoot,
		"daemon pid:     " + strconv.Itoa(pid), "pods:           1",
		"containers:     2 (2 running)", "images:         1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("info lacks %q:\n%s", want, text)
		}
	}
	var info api.Info
	decodeJSON(t, e.MustRun("info", "--format", "json"), &info)
	if info.DaemonPID != pid || info.Pods != 1 || info.Images != 1 || info.Version != api.Version {
		t.Errorf("info --format json = %+v, want daemon %d, 1 pod, 1 image, version %s",
			info, pid, api.Version)
	}
	if info.Runc == "unknown" || info.Conmon == "unknown" {
		t.Errorf("info reports runc %q and conmon %q, want their versions", info.Runc, info.Conmon)
	}

	version := e.MustRun("version")
	if !strings.Contains(version, "Client: podplug "+api.Version) {
		t.Errorf("version lacks the client line:\n%s", version)
	}
	server := "Server: podplug " + api.Version + " (pid " + strconv.Itoa(pid) + ")"
	if !strings.Contains(version, server) {
		t.Errorf("version lacks %q:\n%s", server, version)
	}
}

func TestRootAndRunRootRespected(t *testing.T) {
	e := NewEnv(t)
	e.CreatePod("web")
	e.CreateContainer("web", "app", nil, "sleep", "1000")
	e.MustRun("pod", "start", "web")
	app := e.InspectContainer("app")

	paths := []string{
		filepath.Join(e.Root, "db"),
		filepath.Join(e.Root, "images", "layers"),
		filepath.Join(e.Root, "containers", app.ID),
		app.LogPath,
		filepath.Join(e.RunRoot, "podplug.sock"),
		filepath.Join(e.RunRoot, "daemon.pid"),
		filepath.Join(e.RunRoot, "daemon.log"),
		filepath.Join(e.RunRoot, "runc", app.ID),
		filepath.Join(app.BundlePath, "config.json"),
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	if !strings.HasPrefix(app.LogPath, e.Root+"/") {
		t.Errorf("log path %s is outside --root %s", app.LogPath, e.Root)
	}
	if !strings.HasPrefix(app.BundlePath, e.RunRoot+"/") {
		t.Errorf("bundle path %s is outside --run-root %s", app.BundlePath, e.RunRoot)
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(e.DaemonPID()), "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(string(cmdline), "\x00")
	for _, pair := range [][2]string{{"--root", e.Root}, {"--run-root", e.RunRoot}} {
		i := slices.Index(args, pair[0])
		if i < 0 || i+1 >= len(args) || args[i+1] != pair[1] {
			t.Errorf("daemon command line %q lacks %s %s", args, pair[0], pair[1])
		}
	}
	var pods []engine.PodSummary
	decodeJSON(t, e.MustRun("pod", "ps", "--format", "json"), &pods)
	if len(pods) != 1 {
		t.Errorf("pod ps in a fresh root lists %d pods, want 1", len(pods))
	}
}
