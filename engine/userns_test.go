package engine

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// These tests run real containers with runc and conmon in user namespaces,
// so they need root, runc, conmon, Go (to build podplug-pause) and Debian's
// busybox-static.

const testBusybox = "/bin/busybox"

// blueIDs is the host range of tenant blue in these tests.
var blueIDs = model.IDMap{HostUID: 300000, HostGID: 300000, Size: 65536}

// recordCounter is a slog handler that counts records by message.
type recordCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (h *recordCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordCounter) WithGroup(string) slog.Handler            { return h }

func (h *recordCounter) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.counts == nil {
		h.counts = map[string]int{}
	}
	h.counts[r.Message]++
	return nil
}

func (h *recordCounter) count(message string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[message]
}

// usernsEnv is an engine with its own root and run root below /tmp and
// busybox imported as localhost/busybox.
type usernsEnv struct {
	t    *testing.T
	e    *Engine
	cfg  Config
	logs *recordCounter
}

// newUsernsEnv starts an engine for one test and removes everything it
// made when the test ends. cfg may set the subordinate id files.
func newUsernsEnv(t *testing.T, cfg Config) *usernsEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("user namespace tests run containers: run them as root")
	}
	for _, bin := range []string{"runc", "conmon", "go"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed, so containers cannot run here", bin)
		}
	}
	if _, err := os.Stat(testBusybox); err != nil {
		t.Skipf("static busybox missing at %s: apt-get install busybox-static", testBusybox)
	}

	// A short base: conmon's attach socket path must stay under 108 bytes.
	// Containers in user namespaces must be able to search it.
	base, err := os.MkdirTemp("/tmp", "ppu")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(base, 0o711); err != nil {
		t.Fatal(err)
	}
	cfg.Root, cfg.RunRoot = filepath.Join(base, "root"), filepath.Join(base, "run")
	cfg.PauseBinary = buildPause(t)
	logs := &recordCounter{}
	cfg.Logger = slog.New(logs)
	env := &usernsEnv{t: t, cfg: cfg, logs: logs}
	t.Cleanup(func() { env.teardown(base) })
	env.open()
	env.importBusybox()
	return env
}

func (env *usernsEnv) open() {
	env.t.Helper()
	e, err := New(env.cfg)
	if err != nil {
		env.t.Fatalf("start engine: %v", err)
	}
	env.e = e
}

func (env *usernsEnv) teardown(base string) {
	if env.e != nil {
		ctx := context.Background()
		zero := uint(0)
		pods, _ := env.e.ListPods(AllTenants)
		for _, p := range pods {
			err := env.e.RemovePod(ctx, AllTenants, p.ID, RemovePodOptions{Force: true, Timeout: &zero})
			if err != nil {
				env.t.Logf("teardown: %v", err)
			}
		}
		env.e.Close()
	}
	unmountBelow(base)
	if err := os.RemoveAll(base); err != nil {
		env.t.Logf("teardown: %v", err)
	}
}

// unmountBelow detaches every mount below dir, deepest first.
func unmountBelow(dir string) {
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

// buildPause builds podplug-pause into a temporary directory.
func buildPause(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "podplug-pause")
	cmd := exec.Command("go", "build", "-o", out, "../cmd/podplug-pause")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build podplug-pause: %v\n%s", err, msg)
	}
	return out
}

// importBusybox imports a root file system of busybox with a symlink per
// applet, a hardlink, /etc/passwd and /etc/group, and empty /tmp and /www.
func (env *usernsEnv) importBusybox() {
	env.t.Helper()
	bin, err := os.ReadFile(testBusybox)
	if err != nil {
		env.t.Fatal(err)
	}
	applets, err := exec.Command(testBusybox, "--list").Output()
	if err != nil {
		env.t.Fatal(err)
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"bin", "etc", "tmp", "www", "root"} {
		mode := int64(0o755)
		if dir == "tmp" {
			mode = 0o1777
		}
		mustWriteHeader(env.t, tw, &tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: mode})
	}
	mustWriteHeader(env.t, tw, &tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755,
		Size: int64(len(bin))})
	if _, err := tw.Write(bin); err != nil {
		env.t.Fatal(err)
	}
	mustWriteHeader(env.t, tw, &tar.Header{Name: "bin/busybox.hardlink", Typeflag: tar.TypeLink,
		Linkname: "bin/busybox"})
	sc := bufio.NewScanner(bytes.NewReader(applets))
	for sc.Scan() {
		if name := sc.Text(); name != "" && name != "busybox" {
			mustWriteHeader(env.t, tw, &tar.Header{Name: "bin/" + name, Typeflag: tar.TypeSymlink,
				Linkname: "busybox"})
		}
	}

	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		mustWriteHeader(env.t, tw, &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644,
			Size: int64(len(content))})
		if _, err := tw.Write([]byte(content)); err != nil {
			env.t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		env.t.Fatal(err)
	}

	if _, err := env.e.ImportImage(context.Background(), &buf, "localhost/busybox"); err != nil {
		env.t.Fatalf("import busybox: %v", err)
	}
}

func mustWriteHeader(t *testing.T, tw *tar.Writer, hdr *tar.Header) {
	t.Helper()
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
}

// createPod creates a pod with network none for tenant; ids nil means an
// admin's pod.
func (env *usernsEnv) createPod(tenant, name string, ids *model.IDMap, noInfra bool) {
	env.t.Helper()
	owner := model.Owner{UID: 1000, Tenant: tenant}
	if ids == nil {
		owner = model.Owner{}
	}
	_, err := env.e.CreatePod(context.Background(), PodSpec{Name: name, Owner: owner,
		Network: model.NetworkNone, NoInfra: noInfra, IDMap: ids})
	if err != nil {
		env.t.Fatalf("create pod %s: %v", name, err)
	}
}

// createContainer creates a busybox container in pod running command.
func (env *usernsEnv) createContainer(tenant, pod, name string, volumes []string, command ...string) {
	env.t.Helper()
	owner := model.Owner{UID: 1000, Tenant: tenant}
	if tenant == "" {
		owner = model.Owner{}
	}
	_, err := env.e.CreateContainer(context.Background(), ContainerSpec{Pod: pod, Name: name,
		Owner: owner, Image: "localhost/busybox", Command: command, Volumes: volumes})
	if err != nil {
		env.t.Fatalf("create container %s: %v", name, err)
	}
}

func (env *usernsEnv) startPod(tenant, pod string) {
	env.t.Helper()
	if err := env.e.StartPod(context.Background(), tenant, pod); err != nil {
		env.t.Fatalf("start pod %s: %v", pod, err)
	}
}

// container returns the stored record of a container.
func (env *usernsEnv) container(tenant, name string) *model.Container {
	env.t.Helper()
	c, err := env.e.LookupContainer(tenant, name)
	if err != nil {
		env.t.Fatalf("look up container %s: %v", name, err)
	}
	return c
}

// infra returns the infra container of a pod.
func (env *usernsEnv) infra(tenant, pod string) *model.Container {
	env.t.Helper()
	p, err := env.e.LookupPod(tenant, pod)
	if err != nil {
		env.t.Fatalf("look up pod %s: %v", pod, err)
	}
	return env.container(tenant, p.InfraID)
}

// exec runs command in a running container and returns its output.
func (env *usernsEnv) exec(tenant, ctr string, command ...string) string {
	env.t.Helper()
	var stdout, stderr bytes.Buffer
	code, err := env.e.Exec(context.Background(), tenant, ctr, ExecSpec{Command: command},
		ExecIO{Stdout: &stdout, Stderr: &stderr})
	if err != nil || code != 0 {
		env.t.Fatalf("exec %v in %s: exit %d, %v\nstderr: %s", command, ctr, code, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// hostUID returns the real uid of a host process, from /proc/PID/status.
func hostUID(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return ""
}

// namespaceOf returns the namespace identity, such as user:[4026531837],
// of process pid.
func namespaceOf(t *testing.T, pid any, ns string) string {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/%v/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// fileMode returns the permission bits of path.
func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// fileOwner returns the host uid and gid that own path.
func fileOwner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid
}

func TestUserNSContainerRootIsMappedID(t *testing.T) {
	env := newUsernsEnv(t, Config{})
	env.createPod("blue", "web", &blueIDs, false)
	env.createContainer("blue", "web", "app", []string{"vol:/data"},
		"sh", "-c", "id -u > /data/id && touch /data/file && exec sleep 1000")
	env.startPod("blue", "web")

	app := env.container("blue", "app")
	if got := hostUID(t, app.Status.PID); got != "300000" {
		t.Errorf("host uid of the container's init process = %s, want 300000", got)
	}
	if got := env.exec("blue", "app", "id", "-u"); got != "0" {
		t.Errorf("`id -u` in the container = %q, want 0", got)
	}
	if got := env.exec("blue", "app", "cat",
		"/proc/self/uid_map"); strings.Join(strings.Fields(got), " ") != "0 300000 65536" {
		t.Errorf("uid_map in the container = %q, want 0 300000 65536", got)
	}
	if got := hostUID(t, env.infra("blue", "web").Status.PID); got != "300000" {
		t.Errorf("host uid of the infra process = %s, want 300000", got)
	}

	data := filepath.Join(env.e.VolumeDir(), "vol", "_data")
	waitFor(t, "the container to write /data/file", func() bool {
		_, err := os.Stat(filepath.Join(data, "file"))
		return err == nil
	})
	if uid, gid := fileOwner(t, filepath.Join(data, "file")); uid != 300000 || gid != 300000 {
		t.Errorf("file written to the volume is owned by %d:%d on the host, want 300000:300000", uid, gid)
	}
	if uid, _ := fileOwner(t, data); uid != 300000 {
		t.Errorf("volume directory is owned by uid %d on the host, want 300000", uid)
	}
	dir := env.e.containerDir(app)
	if mode := fileMode(t, dir); mode != 0o710 {
		t.Errorf("container directory: mode %04o, want 0710 so only the mapped root's group can search it", mode)
	}
	if _, gid := fileOwner(t, dir); gid != 300000 {
		t.Errorf("container directory group %d, want 300000", gid)
	}
	if got := env.exec("blue", "app", "stat", "-c", "%u:%g", "/bin/busybox", "/"); got != "0:0\n0:0" {
		t.Errorf("owners of /bin/busybox and / in the container = %q, want 0:0 for both", got)
	}
}

// waitFor polls cond every 50ms for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestUserNSTenantsGetDisjointRanges(t *testing.T) {
	dir := t.TempDir()
	subuid, subgid := filepath.Join(dir, "subuid"), filepath.Join(dir, "subgid")
	for _, path := range []string{subuid, subgid} {
		if err := os.WriteFile(path, []byte("alice:100000:65536\npodplug:400000:131072\n"),
			0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := newUsernsEnv(t, Config{SubUIDFile: subuid, SubGIDFile: subgid})

	red, err := env.e.TenantIDMap("red", nil, nil)
	if err != nil {
		t.Fatalf("allot ids to red: %v", err)
	}
	green, err := env.e.TenantIDMap("green", nil, nil)
	if err != nil {
		t.Fatalf("allot ids to green: %v", err)
	}
	if want := (model.IDMap{HostUID: 400000, HostGID: 400000, Size: 65536}); *red != want {
		t.Errorf("red got %+v, want %+v", *red, want)
	}
	if want := (model.IDMap{HostUID: 465536, HostGID: 465536, Size: 65536}); *green != want {
		t.Errorf("green got %+v, want %+v", *green, want)
	}

	for _, tc := range []struct {
		tenant string
		ids    *model.IDMap
		want   string
	}{
		{"red", red, "400000"},
		{"green", green, "465536"},
	} {
		env.createPod(tc.tenant, "web", tc.ids, false)
		env.createContainer(tc.tenant, "web", "app", nil, "sleep", "1000")
		env.startPod(tc.tenant, "web")
		if got := hostUID(t, env.container(tc.tenant, "app").Status.PID); got != tc.want {
			t.Errorf("tenant %s: host uid of the container = %s, want %s", tc.tenant, got, tc.want)
		}
	}
	if got := env.logs.count("created shifted layer copy"); got != 2 {
		t.Errorf("shifted layer copies created = %d, want 2 (one per tenant)", got)
	}

	// The store keeps each tenant's block across restarts.
	if err := env.e.Close(); err != nil {
		t.Fatal(err)
	}
	env.open()
	again, err := env.e.TenantIDMap("green", nil, nil)
	if err != nil {
		t.Fatalf("ids of green after a restart: %v", err)
	}
	if *again != *green {
		t.Errorf("green after a restart got %+v, want %+v", *again, *green)
	}
}

func TestUserNSTenantIDMapErrors(t *testing.T) {
	dir := t.TempDir()
	subuid := filepath.Join(dir, "subuid")
	if err := os.WriteFile(subuid, []byte("podplug:400000:131072\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := newUsernsEnv(t, Config{SubUIDFile: subuid, SubGIDFile: subuid})
	orange := model.IDMap{HostUID: 400000, HostGID: 400000, Size: 65536}

	// The block that overlaps orange's configured ids is skipped.
	red, err := env.e.TenantIDMap("red", nil, []model.IDMap{orange})
	if err != nil {
		t.Fatalf("allot ids to red: %v", err)
	}
	if red.HostUID != 465536 {
		t.Errorf("red got uid %d, want 465536: the block after orange's ids", red.HostUID)
	}
	if _, err := env.e.TenantIDMap("green", nil, []model.IDMap{orange}); !errors.Is(err, ErrNoIDRange) {
		t.Errorf("allot ids with every block taken: got %v, want ErrNoIDRange", err)
	}
	clash := model.IDMap{HostUID: 470000, HostGID: 470000, Size: 65536}
	if _, err := env.e.TenantIDMap("blue", &clash, nil); !errors.Is(err, ErrConflict) {
		t.Errorf("configured ids inside red's block: got %v, want ErrConflict", err)
	}
	if _, err := env.e.TenantIDMap("red", nil, []model.IDMap{clash}); !errors.Is(err, ErrConflict) {
		t.Errorf("red's block inside another tenant's configured ids: got %v, want ErrConflict", err)
	}
	got, err := env.e.TenantIDMap("blue", &blueIDs, []model.IDMap{orange})
	if err != nil || *got != blueIDs {
		t.Errorf("configured ids of blue: got %+v, %v, want %+v", got, err, blueIDs)
	}

	env.cfg.SubUIDFile = filepath.Join(dir, "missing")
	env.e.Close()
	env.open()
	_, err = env.e.TenantIDMap("violet", nil, nil)
	if !errors.Is(err, ErrNoIDRange) {
		t.Fatalf("allot ids without subordinate ids: got %v, want ErrNoIDRange", err)
	}
	for _, hint := range []string{"ids: {start:", "podplug:START:COUNT"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q does not tell the operator to add %q", err, hint)
		}
	}
}

func TestUserNSAdminPodUsesHostUserNamespace(t *testing.T) {
	env := newUsernsEnv(t, Config{})
	env.createPod("", "admin", nil, false)
	env.createContainer("", "admin", "app", nil, "sleep", "1000")
	env.startPod("", "admin")

	app := env.container("", "app")
	pid := app.Status.PID
	if mode := fileMode(t, env.e.containerDir(app)); mode != 0o700 {
		t.Errorf("container directory of an admin's container: mode %04o, want 0700", mode)
	}
	if got := hostUID(t, pid); got != "0" {
		t.Errorf("host uid of an admin's container = %s, want 0", got)
	}
	if got, want := namespaceOf(t, pid, "user"), namespaceOf(t, "self", "user"); got != want {
		t.Errorf("user namespace of an admin's container = %s, want the host's %s", got, want)
	}
	if got := env.logs.count("created shifted layer copy"); got != 0 {
		t.Errorf("shifted layer copies for an admin's pod = %d, want 0", got)
	}
}

func TestUserNSPodSharesNamespacesWithInfra(t *testing.T) {
	env := newUsernsEnv(t, Config{})
	env.createPod("blue", "web", &blueIDs, false)
	env.createContainer("blue", "web", "server", nil, "sh", "-c",
		"echo hello from httpd > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www")
	env.createContainer("blue", "web", "client", nil, "sleep", "1000")
	env.startPod("blue", "web")

	infra := env.infra("blue", "web").Status.PID
	for _, name := range []string{"server", "client"} {
		pid := env.container("blue", name).Status.PID
		for _, ns := range []string{"user", "net", "ipc", "uts"} {
			if got, want := namespaceOf(t, pid, ns), namespaceOf(t, infra, ns); got != want {
				t.Errorf("%s: %s namespace = %s, want the infra's %s", name, ns, got, want)
			}
		}
	}
	if host := namespaceOf(t, "self", "user"); namespaceOf(t, infra, "user") == host {
		t.Errorf("infra runs in the host's user namespace %s", host)
	}

	var page string
	waitFor(t, "httpd to answer on the pod's loopback", func() bool {
		var stdout bytes.Buffer
		code, err := env.e.Exec(context.Background(), "blue", "client",
			ExecSpec{Command: []string{"wget", "-q", "-O", "-", "http://127.0.0.1:8080/"}},
			ExecIO{Stdout: &stdout, Stderr: &bytes.Buffer{}})
		page = strings.TrimSpace(stdout.String())
		return err == nil && code == 0
	})
	if page != "hello from httpd" {
		t.Errorf("page from httpd = %q, want %q", page, "hello from httpd")
	}
	if got := env.exec("blue", "client", "hostname"); got != "web" {
		t.Errorf("hostname in the client = %q, want the pod's, web", got)
	}
}

func TestUserNSPodWithoutInfra(t *testing.T) {
	env := newUsernsEnv(t, Config{})
	env.createPod("blue", "solo", &blueIDs, true)
	env.createContainer("blue", "solo", "one", nil, "sleep", "1000")
	env.createContainer("blue", "solo", "two", nil, "sleep", "1000")
	env.startPod("blue", "solo")

	one, two := env.container("blue", "one").Status.PID, env.container("blue", "two").Status.PID
	for name, pid := range map[string]int{"one": one, "two": two} {
		if got := hostUID(t, pid); got != "300000" {
			t.Errorf("%s: host uid = %s, want 300000", name, got)
		}
	}
	if namespaceOf(t, one, "user") == namespaceOf(t, two, "user") {
		t.Errorf("containers of a pod without infra share user namespace %s, want one each",
			namespaceOf(t, one, "user"))
	}
	if got := env.logs.count("created shifted layer copy"); got != 1 {
		t.Errorf("shifted layer copies created = %d, want 1 for both containers", got)
	}
}

func TestUserNSHostNetworkBindsSys(t *testing.T) {
	env := newUsernsEnv(t, Config{})
	_, err := env.e.CreatePod(context.Background(), PodSpec{Name: "hostnet",
		Owner: model.Owner{UID: 1000, Tenant: "blue"}, Network: model.NetworkHost, IDMap: &blueIDs})
	if err != nil {
		t.Fatal(err)
	}
	env.createContainer("blue", "hostnet", "app", nil, "sleep", "1000")
	env.startPod("blue", "hostnet")

	if got := env.exec("blue", "app", "id", "-u"); got != "0" {
		t.Errorf("`id -u` = %q, want 0", got)
	}
	if got := env.exec("blue", "app", "ls", "/sys/class/net"); !strings.Contains(got, "lo") {
		t.Errorf("/sys/class/net lists %q, want the host's interfaces, lo among them", got)
	}
}

func TestUserNSShiftedCopyReused(t *testing.T) {
	env := newUsernsEnv(t, Config{})
	env.createPod("blue", "web", &blueIDs, false)
	env.createContainer("blue", "web", "first", nil, "sleep", "1000")
	env.startPod("blue", "web")

	img, err := env.e.Images().Lookup("localhost/busybox")
	if err != nil {
		t.Fatal(err)
	}
	layer := strings.TrimPrefix(img.Layers[0], "sha256:")
	shifted := filepath.Join(env.cfg.Root, "images", "shifted", "300000-300000-65536", layer)
	if uid, _ := fileOwner(t, filepath.Join(shifted, "bin", "busybox")); uid != 300000 {
		t.Errorf("/bin/busybox of the shifted copy is owned by uid %d, want 300000", uid)
	}
	if !sameInode(t, filepath.Join(shifted, "bin", "busybox"), filepath.Join(shifted, "bin",
		"busybox.hardlink")) {
		t.Error("the shifted copy has two files where the layer has a hardlink")
	}
	size, files := diskUsage(t, shifted)
	t.Logf("shifted copy of the busybox layer: %d files, %d KiB on disk", files, size/1024)

	env.createContainer("blue", "web", "second", nil, "sleep", "1000")
	if err := env.e.StartContainer(context.Background(), "blue", "second"); err != nil {
		t.Fatalf("start second container: %v", err)
	}
	env.createPod("blue", "other", &blueIDs, false)
	env.createContainer("blue", "other", "third", nil, "sleep", "1000")
	env.startPod("blue", "other")
	if got := env.logs.count("created shifted layer copy"); got != 1 {
		t.Errorf("shifted layer copies created for three containers of one range = %d, want 1", got)
	}

	zero := uint(0)
	for _, pod := range []string{"web", "other"} {
		err := env.e.RemovePod(context.Background(), "blue", pod, RemovePodOptions{Force: true,
			Timeout: &zero})
		if err != nil {
			t.Fatalf("remove pod %s: %v", pod, err)
		}
	}
	_, err = env.e.RemoveImage(context.Background(), AllTenants, "localhost/busybox", RemoveImageOptions{})
	if err != nil {
		t.Fatalf("remove image: %v", err)
	}
	if _, err := os.Lstat(shifted); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shifted copy after removing its image: stat error %v, want it gone", err)
	}
}

// diskUsage returns the bytes allocated to the files below dir, counting
// hardlinked files once, and the number of names.
func diskUsage(t *testing.T, dir string) (int64, int) {
	t.Helper()
	var size int64
	var files int
	seen := map[uint64]bool{}
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		files++
		st := fi.Sys().(*syscall.Stat_t)
		if !seen[st.Ino] {
			seen[st.Ino] = true
			size += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return size, files
}

func sameInode(t *testing.T, a, b string) bool {
	t.Helper()
	var sa, sb syscall.Stat_t
	if err := syscall.Lstat(a, &sa); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Lstat(b, &sb); err != nil {
		t.Fatal(err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
