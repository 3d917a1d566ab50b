package test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/api"
)

var (
	// binDir holds podplug and podplug-pause built for this test run.
	binDir string
	// skipReason is why end-to-end tests cannot run here, or empty.
	skipReason string
	// busyboxTar is a root file system tarball with a static busybox.
	busyboxTar string
)

// busyboxPath is where Debian's busybox-static installs the binary.
const busyboxPath = "/bin/busybox"

func TestMain(m *testing.M) {
	skipReason = checkHost()
	var err error
	binDir, err = os.MkdirTemp("", "podplug-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if skipReason == "" {
		if err := buildBinaries(binDir); err != nil {
			fmt.Fprintln(os.Stderr, "build podplug:", err)
			os.Exit(1)
		}
		busyboxTar = filepath.Join(binDir, "busybox.tar")
		if err := writeBusyboxTar(busyboxTar); err != nil {
			fmt.Fprintln(os.Stderr, "make busybox root file system:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

func checkHost() string {
	if os.Geteuid() != 0 {
		return "end-to-end tests need root (run `sudo make test`)"
	}
	for _, bin := range []string{"runc", "conmon"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " is not installed (apt-get install runc conmon)"
		}
	}
	if _, err := os.Stat(busyboxPath); err != nil {
		return "static busybox is missing at " + busyboxPath + " (apt-get install busybox-static)"
	}
	return ""
}

func buildBinaries(dir string) error {
	builds := [][]string{
		{"build", "-o", filepath.Join(dir, "podplug"), "../cmd/podplug"},
		{"build", "-ldflags=-s -w", "-o", filepath.Join(dir, "podplug-pause"), "../cmd/podplug-pause"},
	}
	for _, args := range builds {
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// writeBusyboxTar writes a root file system: busybox with a link per applet,
// /etc/passwd and /etc/group with root and nobody, and empty /tmp and /www.
func writeBusyboxTar(path string) error {
	bin, err := os.ReadFile(busyboxPath)
	if err != nil {
		return err
	}
	applets, err := exec.Command(busyboxPath, "--list").Output()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"bin", "etc", "tmp", "www", "root"} {
		mode := int64(0o755)
		if dir == "tmp" {
			mode = 0o1777
		}
		_ = tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: mode})
	}
	_ = tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755,
		Size: int64(len(bin))})
	_, _ = tw.Write(bin)
	sc := bufio.NewScanner(bytes.NewReader(applets))
	for sc.Scan() {
		if name := sc.Text(); name != "" && name != "busybox" {
			_ = tw.WriteHeader(&tar.Header{Name: "bin/" + name, Typeflag: tar.TypeSymlink,
				Linkname: "busybox"})
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		_ = tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644,
			Size: int64(len(content))})
		_, _ = tw.Write([]byte(content))
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// Env is one engine with its own --root and --run-root, its daemon started
// by the first command, and busybox imported as localhost/busybox.
type Env struct {
	t       *testing.T
	Root    string
	RunRoot string
	// serve is the daemon that NewTenantEnv started, or nil when the first
	// command starts one.
	serve *serveProcess
}

// Result is what one CLI command did.
type Result struct {
	Stdout string
	Stderr string
	Code   int
}

// NewEnv sets up an engine for one test and tears it down when it ends:
// every pod removed, the daemon stopped, mounts released, files deleted.
func NewEnv(t *testing.T) *Env {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	// A short base path: conmon's attach sockets live under --run-root and a
	// socket path must stay under 108 bytes.
	base, err := os.MkdirTemp("/tmp", "ppe")
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{t: t, Root: filepath.Join(base, "root"), RunRoot: filepath.Join(base, "run")}
	t.Cleanup(func() { e.teardown(base) })
	e.MustRun("image", "import", busyboxTar, "localhost/busybox")
	return e
}

func (e *Env) teardown(base string) {
	zero := []string{"pod", "rm", "--all", "--force", "--time", "0"}
	if e.serve != nil && e.serve.exited() {
		e.t.Logf("teardown: the daemon had exited, pods stay in %s", base)
	} else if r := e.Run(zero...); r.Code != 0 {
		e.t.Logf("teardown: %s", r.Stderr)
	}
	e.StopDaemon()
	unmountUnder(base)
	if err := os.RemoveAll(base); err != nil {
		e.t.Logf("teardown: %v", err)
	}
}

// Run runs podplug as root with args and returns its output and exit code.
func (e *Env) Run(args ...string) Result {
	e.t.Helper()
	return e.RunAs(nil, args...)
}

// RunAs runs podplug with args as the user and groups of cred, or as root
// when cred is nil, and returns its output and exit code. When the daemon
// that NewTenantEnv started has exited, RunAs fails the test instead of
// letting a root command start a daemon without the tenants and policies.
func (e *Env) RunAs(cred *syscall.Credential, args ...string) Result {
	e.t.Helper()
	if e.serve != nil && e.serve.exited() {
		e.t.Fatalf("podplug %s: the daemon has exited; its log:\n%s",
			strings.Join(args, " "), e.serve.log())
	}
	full := append([]string{"--root", e.Root, "--run-root", e.RunRoot}, args...)
	cmd := exec.Command(filepath.Join(binDir, "podplug"), full...)
	asUser(cmd, cred)
	var stdout, stderr bytes.Buffer
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

// MustRun runs podplug and fails the test unless it exits 0; it returns
// standard output without the trailing newline.
func (e *Env) MustRun(args ...string) string {
	e.t.Helper()
	r := e.Run(args...)
	if r.Code != 0 {
		e.t.Fatalf("podplug %s: exit %d\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return strings.TrimRight(r.Stdout, "\n")
}

// InspectPod returns `pod inspect` decoded.
func (e *Env) InspectPod(pod string) engine.PodInspect {
	e.t.Helper()
	var out engine.PodInspect
	if err := json.Unmarshal([]byte(e.MustRun("pod", "inspect", pod)), &out); err != nil {
		e.t.Fatalf("decode pod inspect: %v", err)
	}
	return out
}

// InspectContainer returns `inspect` decoded.
func (e *Env) InspectContainer(ctr string) engine.ContainerInspect {
	e.t.Helper()
	var out engine.ContainerInspect
	if err := json.Unmarshal([]byte(e.MustRun("inspect", ctr)), &out); err != nil {
		e.t.Fatalf("decode inspect: %v", err)
	}
	return out
}

// PodState returns the pod's derived state, such as Running.
func (e *Env) PodState(pod string) string {
	e.t.Helper()
	return string(e.InspectPod(pod).State)
}

// ContainerState returns a container's state, such as running or exited.
func (e *Env) ContainerState(ctr string) string {
	e.t.Helper()
	return string(e.InspectContainer(ctr).State.State)
}

// Eventually polls cond every 100ms until it holds or timeout passes.
func (e *Env) Eventually(timeout time.Duration, what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// DaemonPID returns the running daemon's pid, or 0 when none runs.
func (e *Env) DaemonPID() int {
	data, err := os.ReadFile(filepath.Join(e.RunRoot, "daemon.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid > 0 && syscall.Kill(pid, 0) != nil {
		return 0
	}
	return pid
}

// KillDaemon sends sig to the daemon and waits until it is gone.
func (e *Env) KillDaemon(sig syscall.Signal) {
	e.t.Helper()
	pid := e.DaemonPID()
	if pid == 0 {
		e.t.Fatal("no daemon runs")
	}
	if err := syscall.Kill(pid, sig); err != nil {
		e.t.Fatalf("signal daemon: %v", err)
	}
	e.Eventually(20*time.Second, "the daemon to exit", func() bool {
		return syscall.Kill(pid, 0) != nil
	})
}

// StopDaemon stops the daemon with SIGTERM if one runs.
func (e *Env) StopDaemon() {
	if e.DaemonPID() != 0 {
		e.KillDaemon(syscall.SIGTERM)
	}
}

// CreatePod creates a pod with extra flags and returns its name.
func (e *Env) CreatePod(name string, flags ...string) string {
	e.t.Helper()
	e.MustRun(append([]string{"pod", "create", "--name", name}, flags...)...)
	return name
}

// CreateContainer creates a busybox container in pod running command.
func (e *Env) CreateContainer(pod, name string, flags []string, command ...string) string {
	e.t.Helper()
	args := append([]string{"create", "--pod", pod, "--name", name}, flags...)
	args = append(append(args, "localhost/busybox"), command...)
	e.MustRun(args...)
	return name
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var targets []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			targets = append(targets, fields[4])
		}
	}
	for i := len(targets) - 1; i >= 0; i-- {
		_ = syscall.Unmount(targets[i], syscall.MNT_DETACH)
	}
}

// TenantEnvOptions configures NewTenantEnv.
type TenantEnvOptions struct {
	// Tenants is the content of the tenants file, in YAML.
	Tenants string
	// PolicyDir is the daemon's --policy-dir; ../examples/policies when empty.
	PolicyDir string
}

// NewTenantEnv sets up an engine like NewEnv, but starts its daemon itself
// with `serve --tenants-file --policy-dir --decision-log`, so that users
// other than root can connect. The socket's directory is readable by all,
// and the daemon sets the socket's mode from the tenants file. Commands run
// with Run and RunAs use this daemon and never start another.
func NewTenantEnv(t *testing.T, opts TenantEnvOptions) *Env {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	policyDir := opts.PolicyDir
	if policyDir == "" {
		policyDir = "../examples/policies"
	}
	policyDir, err := filepath.Abs(policyDir)
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.MkdirTemp("/tmp", "ppe")
	if err != nil {
		t.Fatal(err)
	}
	// Other users run podplug from binDir and reach the socket under base.
	for _, dir := range []string{binDir, base} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tenantsFile := filepath.Join(base, "tenants.yaml")
	if err := os.WriteFile(tenantsFile, []byte(opts.Tenants), 0o644); err != nil {
		t.Fatal(err)
	}

	e := &Env{t: t, Root: filepath.Join(base, "root"), RunRoot: filepath.Join(base, "run")}
	e.serve = launchServe(t, e.Root, e.RunRoot, serveFlags{TenantsFile: tenantsFile,
		PolicyDir: policyDir, DecisionLog: filepath.Join(base, "decisions.log")})
	t.Cleanup(func() { e.teardown(base) })
	e.serve.waitReady(t)
	e.MustRun("image", "import", busyboxTar, "localhost/busybox")
	return e
}

// serveFlags are the flags of `podplug serve` that tests set.
type serveFlags struct {
	TenantsFile string // --tenants-file; none when empty
	PolicyDir   string // --policy-dir; none when empty
	DecisionLog string // --decision-log; none when empty
}

func (f serveFlags) args() []string {
	var args []string
	for _, flag := range []struct{ name, value string }{
		{"--tenants-file", f.TenantsFile},
		{"--policy-dir", f.PolicyDir},
		{"--decision-log", f.DecisionLog},
	} {
		if flag.value != "" {
			args = append(args, flag.name, flag.value)
		}
	}
	return args
}

// serveProcess is a daemon that a test started with `podplug serve`.
type serveProcess struct {
	flags   serveFlags
	socket  string
	logPath string
	cmd     *exec.Cmd
	// done is closed once the daemon has exited and been reaped.
	done chan struct{}
}

// launchServe starts `podplug serve` in the background, in a session of its
// own, with its output in runRoot/daemon.log. It does not wait for the
// socket: see waitReady.
func launchServe(tb testing.TB, root, runRoot string, flags serveFlags) *serveProcess {
	tb.Helper()
	if err := os.MkdirAll(runRoot, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(runRoot, 0o755); err != nil {
		tb.Fatal(err)
	}
	p := &serveProcess{flags: flags, socket: filepath.Join(runRoot, "podplug.sock"),
		logPath: filepath.Join(runRoot, "daemon.log"), done: make(chan struct{})}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer logFile.Close()

	args := append([]string{"--root", root, "--run-root", runRoot, "serve"}, flags.args()...)
	p.cmd = exec.Command(filepath.Join(binDir, "podplug"), args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start podplug serve: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// serveReadyTimeout bounds how long a test waits for a daemon it started
// to reply to a ping on its socket.
const serveReadyTimeout = 20 * time.Second

// waitReady waits until the daemon replies to a ping on its socket, and
// fails the test when it exits first or does not reply within
// serveReadyTimeout.
func (p *serveProcess) waitReady(tb testing.TB) {
	tb.Helper()
	client := api.NewClient(p.socket)
	deadline := time.Now().Add(serveReadyTimeout)
	for time.Now().Before(deadline) {
		if p.exited() {
			tb.Fatalf("podplug serve exited before it replied on %s; its log:\n%s", p.socket, p.log())
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := client.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("podplug serve did not reply on %s within %s; its log:\n%s",
		p.socket, serveReadyTimeout, p.log())
}

func (p *serveProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the daemon to exit, killing it after
// serveReadyTimeout.
func (p *serveProcess) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(serveReadyTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// log returns the daemon's output so far.
func (p *serveProcess) log() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// asUser makes cmd run as the user and groups of cred, from the root
// directory and with an environment of its own, so that nothing of root's
// environment leaks into the command. A nil cred leaves cmd as it is.
func asUser(cmd *exec.Cmd, cred *syscall.Credential) {
	if cred == nil {
		return
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/"}
}
