package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchImage is the name both engines give the busybox root file system.
const benchImage = "localhost/busybox"

// daemonStartTimeout bounds the wait for the podplug daemon's socket.
const daemonStartTimeout = 30 * time.Second

// lab holds both engines, their private directories and the facts the
// report states about how they were set up.
type lab struct {
	cfg       *config
	dir       string // state of both engines
	removeDir bool   // the directory was created here and goes at the end

	podplug     *engine
	podplugRoot string // --root of podplug
	podplugRun  string // --run-root of podplug
	daemon      *exec.Cmd
	daemonDone  chan struct{} // closed when the daemon process has exited
	profiles    []string      // CPU profiles written by the daemon

	podman       *engine
	podmanDir    string
	podmanDriver string   // storage driver in use: overlay, or vfs as fallback
	podmanConf   string   // text of the private containers.conf
	podmanInfra  string   // image of podman's infra containers
	notes        []string // set-up facts the report must state
}

// newLab creates the work directory, the busybox image of both engines and
// a warm-up pod on each, which also builds podman's infra image. The lab is
// returned also on error, so that the caller can clean up.
func newLab(ctx context.Context, cfg *config) (*lab, error) {
	l := &lab{cfg: cfg, dir: cfg.workDir}
	if l.dir == "" {
		dir, err := os.MkdirTemp("", "podplug-bench-")
		if err != nil {
			return nil, fmt.Errorf("create work directory: %w", err)
		}
		l.dir, l.removeDir = dir, true
	}
	dir, err := filepath.Abs(l.dir)
	if err != nil {
		return l, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return l, fmt.Errorf("create work directory: %w", err)
	}
	l.dir = dir
	logf("work directory %s", l.dir)

	tarball := filepath.Join(l.dir, "busybox.tar")
	if out, err := exec.CommandContext(ctx, cfg.rootfsScript, tarball).CombinedOutput(); err != nil {
		return l, fmt.Errorf("build busybox root file system with %s: %w: %s",
			cfg.rootfsScript, err, strings.TrimSpace(string(out)))
	}
	if err := l.setUpPodplug(ctx, tarball); err != nil {
		return l, err
	}
	if err := l.setUpPodmanWithFallback(ctx, tarball); err != nil {
		return l, err
	}
	return l, nil
}

// engines returns both engines in the order every run alternates them.
func (l *lab) engines() []*engine {
	return []*engine{l.podplug, l.podman}
}

func (l *lab) setUpPodplug(ctx context.Context, tarball string) error {
	bin, err := filepath.Abs(l.cfg.podplug)
	if err != nil {
		return err
	}
	pause := filepath.Join(filepath.Dir(bin), "podplug-pause")
	for _, path := range []string{bin, pause} {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("podplug binary missing: %w: run make build first", err)
		}
	}
	l.podplugRoot = filepath.Join(l.dir, "podplug", "root")
	l.podplugRun = filepath.Join(l.dir, "podplug", "run")
	l.podplug = &engine{name: "podplug",
		argv: []string{bin, "--root", l.podplugRoot, "--run-root", l.podplugRun}}

	if err := l.startDaemon(ctx, ""); err != nil {
		return err
	}
	defer l.stopDaemon()
	if _, err := l.podplug.run(ctx, "image", "import", tarball, benchImage); err != nil {
		return err
	}
	if err := warmUp(ctx, l.podplug); err != nil {
		return fmt.Errorf("podplug warm-up pod: %w", err)
	}
	return nil
}

// startDaemon runs `podplug serve` as a child of this process and waits for
// its socket. Every podplug command must run while this daemon is up: the
// CLI would otherwise start a detached daemon of its own.
func (l *lab) startDaemon(ctx context.Context, profile string) error {
	if err := os.MkdirAll(l.podplugRun, 0o700); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(l.dir, "podplug", "daemon.log"),
		os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start podplug daemon: %w", err)
	}
	defer logFile.Close()

	args := append(append([]string{}, l.podplug.argv[1:]...), "serve")
	if profile != "" {
		args = append(args, "--cpu-profile", profile)
	}
	cmd := exec.Command(l.podplug.argv[0], args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group keeps a terminal's Ctrl-C away from the daemon:
	// the clean-up removes the pods first, then stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start podplug daemon: %w", err)
	}
	l.daemon, l.daemonDone = cmd, make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		close(done)
	}(l.daemonDone)
	return l.waitForSocket(ctx)
}

func (l *lab) waitForSocket(ctx context.Context) error {
	socket := filepath.Join(l.podplugRun, "podplug.sock")
	deadline := time.Now().Add(daemonStartTimeout)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("unix", socket); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-l.daemonDone:
			return fmt.Errorf("podplug daemon exited at start: see %s/podplug/daemon.log", l.dir)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("podplug daemon socket %s not ready after %s", socket, daemonStartTimeout)
}

// stopDaemon sends SIGTERM to the daemon started by startDaemon and waits
// for it to exit (it writes its CPU profile on the way out), killing it
// after 30 seconds.
func (l *lab) stopDaemon() {
	if l.daemon == nil {
		return
	}
	l.daemon.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.daemonDone:
	case <-time.After(30 * time.Second):
		logf("podplug daemon %d did not stop on SIGTERM; killing it", l.daemon.Process.Pid)
		l.daemon.Process.Kill()
		<-l.daemonDone
	}
	l.daemon = nil
}

// setUpPodmanWithFallback sets podman up with the overlay storage driver
// and, when that fails, again from scratch with vfs.
func (l *lab) setUpPodmanWithFallback(ctx context.Context, tarball string) error {
	err := l.setUpPodman(ctx, tarball, "overlay")
	if err == nil || ctx.Err() != nil {
		return err
	}
	logf("podman with overlay storage failed; retrying with vfs: %v", err)
	l.cleanUpPodman()
	if err := os.RemoveAll(l.podmanDir); err != nil {
		return fmt.Errorf("reset podman storage: %w", err)
	}
	l.notes = append(l.notes, fmt.Sprintf(
		"podman's overlay storage driver failed here, so podman ran with vfs, "+
			"which copies each image per container. The overlay error: %v", err))
	return l.setUpPodman(ctx, tarball, "vfs")
}

func (l *lab) setUpPodman(ctx context.Context, tarball, driver string) error {
	if _, err := exec.LookPath(l.cfg.podman); err != nil {
		return fmt.Errorf("podman not found: %w: run scripts/install-bench-deps.sh", err)
	}
	l.podmanDir = filepath.Join(l.dir, "podman")
	l.podmanDriver = driver
	if err := l.writePodmanConfig(); err != nil {
		return err
	}
	l.podman = &engine{name: "podman",
		argv: []string{l.cfg.podman,
			"--root", filepath.Join(l.podmanDir, "root"),
			"--runroot", filepath.Join(l.podmanDir, "runroot"),
			"--storage-driver", driver,
			"--tmpdir", filepath.Join(l.podmanDir, "tmp")},
		env: []string{
			"CONTAINERS_CONF=" + filepath.Join(l.podmanDir, "containers.conf"),
			"CONTAINERS_STORAGE_CONF=" + filepath.Join(l.podmanDir, "storage.conf"),
			"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(l.podmanDir, "registries.conf"),
		}}

	if _, err := l.podman.run(ctx, "import", tarball, benchImage); err != nil {
		return err
	}
	if err := warmUp(ctx, l.podman); err != nil {
		return fmt.Errorf("podman warm-up pod: %w", err)
	}
	return l.findPodmanInfraImage(ctx)
}

// findPodmanInfraImage records the image of podman's infra containers. With
// no infra_image configured, podman 4.3.1 builds localhost/podman-pause from
// the host's catatonit at the first pod create, offline.
func (l *lab) findPodmanInfraImage(ctx context.Context) error {
	out, err := l.podman.run(ctx, "images", "--format", "{{.Repository}}:{{.Tag}}")
	if err != nil {
		return err
	}
	var infra []string
	for _, name := range strings.Fields(out) {
		if !strings.HasPrefix(name, benchImage+":") {
			infra = append(infra, name)
		}
	}
	l.podmanInfra = strings.Join(infra, ", ")
	return nil
}

// writePodmanConfig writes podman's private configuration. It selects runc
// because crun fails on hybrid cgroup v1 hosts, and lowers the nofile and
// nproc limits because such hosts reject podman's defaults. The empty
// registries.conf keeps podman from resolving a short image name against any
// remote registry.
func (l *lab) writePodmanConfig() error {
	for _, sub := range []string{"root", "runroot", "tmp", "networks"} {
		if err := os.MkdirAll(filepath.Join(l.podmanDir, sub), 0o700); err != nil {
			return err
		}
	}
	l.podmanConf = fmt.Sprintf(`[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q

[network]
network_config_dir = %q
`, filepath.Join(l.podmanDir, "events.log"), filepath.Join(l.podmanDir, "tmp"),
		filepath.Join(l.podmanDir, "networks"))
	storage := fmt.Sprintf("[storage]\ndriver = %q\ngraphroot = %q\nrunroot = %q\n",
		l.podmanDriver, filepath.Join(l.podmanDir, "root"), filepath.Join(l.podmanDir, "runroot"))
	files := map[string]string{
		"containers.conf": l.podmanConf,
		"storage.conf":    storage,
		"registries.conf": "unqualified-search-registries = []\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(l.podmanDir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// close removes every pod both engines still have, stops the podplug
// daemon, unmounts whatever is still mounted under the work directory and
// removes the directory unless asked to keep it.
func (l *lab) close() {
	if l.podplug != nil {
		l.cleanUpPodplug()
	}
	if l.podman != nil {
		l.cleanUpPodman()
	}
	unmountUnder(l.dir)
	if !l.removeDir || l.cfg.keep {
		logf("kept work directory %s", l.dir)
		return
	}
	if err := os.RemoveAll(l.dir); err != nil {
		logf("remove work directory: %v", err)
	}
}

func (l *lab) cleanUpPodplug() {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if l.daemon == nil {
		if err := l.startDaemon(ctx, ""); err != nil {
			logf("clean-up: %v", err)
		}
	}
	if l.daemon != nil {
		if _, err := l.podplug.run(ctx, "pod", "rm", "--all", "--force", "--time", "0"); err != nil {
			logf("clean-up: %v", err)
		}
	}
	l.stopDaemon()
	l.killStrayDaemon()
}

// killStrayDaemon stops a daemon on this lab's run root that a podplug
// command started because no daemon accepted its connection.
func (l *lab) killStrayDaemon() {
	data, err := os.ReadFile(filepath.Join(l.podplugRun, "daemon.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), l.podplugRun) {
		return
	}
	logf("stopping podplug daemon %d that a podplug command started", pid)
	syscall.Kill(pid, syscall.SIGTERM)
}

func (l *lab) cleanUpPodman() {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if _, err := l.podman.run(ctx, "pod", "rm", "--all", "--force", "--time", "0"); err != nil {
		logf("clean-up: %v", err)
	}
	if _, err := l.podman.run(ctx, "rm", "--all", "--force", "--time", "0"); err != nil {
		logf("clean-up: %v", err)
	}
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		point := unescapeMountPath(fields[4])
		if strings.HasPrefix(point, dir+"/") {
			points = append(points, point)
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		err := syscall.Unmount(points[i], syscall.MNT_DETACH)
		if err != nil && !errors.Is(err, syscall.EINVAL) {
			logf("unmount %s: %v", points[i], err)
		}
	}
}

// unescapeMountPath decodes the octal escapes (\040 for a space) that
// /proc/self/mountinfo uses in paths.
func unescapeMountPath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
}
