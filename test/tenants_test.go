package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/api"
	"github.com/podplug/podplug/engine/model"
)

// tenantsYAML puts ppt-alice in tenant blue by user name and ppt-bob in
// tenant red by group. Both groups may use the socket. The containers of
// each tenant run in a user namespace mapped onto the tenant's host ids.
const tenantsYAML = `socketGroups: [ppt-alice, ppt-bob]
tenants:
  - name: blue
    users: [ppt-alice]
    ids: {start: 1000000, size: 65536}
  - name: red
    groups: [ppt-bob]
    ids: {start: 1065536, size: 65536}
`

// podLimits are the pod limits that quotas.rego requires of non-admins.
var podLimits = []string{"--cpus", "0.5", "--memory", "64m"}

// hostUser is an unprivileged host user created for one test.
type hostUser struct {
	name string
	uid  uint32
	gid  uint32
}

// cred runs a process as u, with u's own group as its only group.
func (u hostUser) cred() *syscall.Credential {
	return &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{u.gid}}
}

// addHostUser creates the user name with a group of the same name and no
// home directory, and removes both when the test ends. A user of that name
// left over by an interrupted run is removed first. Only names starting
// with "ppt-" are accepted, so a test never touches another user.
func addHostUser(t *testing.T, name string) hostUser {
	t.Helper()
	if !strings.HasPrefix(name, "ppt-") {
		t.Fatalf("host user %q: test users must be named ppt-*", name)
	}
	lockHostUsers(t)
	if _, err := user.Lookup(name); err == nil {
		removeHostUser(t, name)
	}
	out, err := exec.Command("useradd", "-M", "-U", "-s", "/usr/sbin/nologin", name).CombinedOutput()
	if err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { removeHostUser(t, name) })

	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("look up %s after useradd: %v", name, err)
	}
	uid, uidErr := strconv.ParseUint(u.Uid, 10, 32)
	gid, gidErr := strconv.ParseUint(u.Gid, 10, 32)
	if uidErr != nil || gidErr != nil {
		t.Fatalf("user %s has uid %q and gid %q, want numbers", name, u.Uid, u.Gid)
	}
	return hostUser{name: name, uid: uint32(uid), gid: uint32(gid)}
}

// userdelTimeout bounds how long removeHostUser retries while processes of
// the user, such as a CLI killed at the end of a test, are still exiting.
const userdelTimeout = 5 * time.Second

func removeHostUser(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(userdelTimeout)
	for {
		// userdel warns that the home directory and mail spool do not
		// exist, and still exits 0. It exits 8 while the user has processes.
		out, err := exec.Command("userdel", "-r", name).CombinedOutput()
		var exitErr *exec.ExitError
		if err == nil {
			return
		}
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 8 || time.Now().After(deadline) {
			t.Errorf("userdel -r %s: %v: %s", name, err, out)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hostUsersLock is the lock file that lockHostUsers holds, or nil.
var hostUsersLock *os.File

// lockHostUsers makes the test the only one, across all processes running
// these tests, that creates host users until it ends. Without it, two runs
// at once would remove each other's ppt-alice, because addHostUser removes
// users left over by interrupted runs. The lock is held once per test.
func lockHostUsers(t *testing.T) {
	t.Helper()
	if hostUsersLock != nil {
		return
	}
	path := filepath.Join(os.TempDir(), "podplug-test-users.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", path, err)
	}
	hostUsersLock = f
	// Registered before the users' removal, so it runs after it.
	t.Cleanup(func() {
		hostUsersLock = nil
		f.Close()
	})
}

// tenantFixture is an engine whose tenants file puts ppt-alice in tenant
// blue and ppt-bob in tenant red.
type tenantFixture struct {
	*Env
	alice hostUser
	bob   hostUser
}

// newTenantFixture creates the users and starts the daemon with tenantsYAML
// and the policies in policyDir (the shipped ones when empty).
func newTenantFixture(t *testing.T, policyDir string) *tenantFixture {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	f := &tenantFixture{alice: addHostUser(t, "ppt-alice"), bob: addHostUser(t, "ppt-bob")}
	f.Env = NewTenantEnv(t, TenantEnvOptions{Tenants: tenantsYAML, PolicyDir: policyDir})
	return f
}

// with returns f for the subtest t, so that its helpers fail t and not the
// parent test.
func (f *tenantFixture) with(t *testing.T) *tenantFixture {
	env := *f.Env
	env.t = t
	return &tenantFixture{Env: &env, alice: f.alice, bob: f.bob}
}

// as runs podplug as u.
func (f *tenantFixture) as(u hostUser, args ...string) Result {
	f.t.Helper()
	return f.RunAs(u.cred(), args...)
}

// mustAs runs podplug as u, fails the test unless it exits 0, and returns
// standard output without the trailing newline.
func (f *tenantFixture) mustAs(u hostUser, args ...string) string {
	f.t.Helper()
	r := f.as(u, args...)
	if r.Code != 0 {
		f.t.Fatalf("podplug %s as %s: exit %d\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), u.name, r.Code, r.Stdout, r.Stderr)
	}
	return strings.TrimRight(r.Stdout, "\n")
}

// createPodAs creates a pod with podLimits as u and returns its ID.
func (f *tenantFixture) createPodAs(u hostUser, name string) string {
	f.t.Helper()
	return f.mustAs(u, append([]string{"pod", "create", "--name", name}, podLimits...)...)
}

// createContainerAs creates a busybox container as u and returns its ID.
func (f *tenantFixture) createContainerAs(u hostUser, pod, name string, command ...string) string {
	f.t.Helper()
	args := append([]string{"create", "--pod", pod, "--name", name, "localhost/busybox"}, command...)
	return f.mustAs(u, args...)
}

// inspectPodAs returns `pod inspect` as u, decoded.
func (f *tenantFixture) inspectPodAs(u hostUser, pod string) engine.PodInspect {
	f.t.Helper()
	var out engine.PodInspect
	decodeJSON(f.t, f.mustAs(u, "pod", "inspect", pod), &out)
	return out
}

// podSnapshot describes a pod as its owner sees it: its state and, for
// each container, its ID, state, start time and restart count. Any
// operation that reached the pod changes it.
func (f *tenantFixture) podSnapshot(owner hostUser, pod string) string {
	f.t.Helper()
	p := f.inspectPodAs(owner, pod)
	var b strings.Builder
	fmt.Fprintf(&b, "pod %s %s", p.ID, p.State)
	for _, c := range p.Containers {
		fmt.Fprintf(&b, "\n  %s %s %s started %s restarts %d", c.Name, c.ID, c.State,
			c.StartedAt.Format(time.RFC3339Nano), c.Restarts)
	}
	return b.String()
}

// eventsAs runs `events --since 1h --format json` as u for eventsTimeout
// and returns what it printed.
func (f *tenantFixture) eventsAs(u hostUser) string {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventsTimeout)
	defer cancel()
	cmd := f.command(ctx, "events", "--since", "1h", "--format", "json")
	asUser(cmd, u.cred())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() == nil {
		f.t.Fatalf("podplug events as %s ended before it was stopped: %v: %s",
			u.name, err, stderr.String())
	}
	return stdout.String()
}

func TestTenantWhoami(t *testing.T) {
	f := newTenantFixture(t, "")
	// With two socket groups the socket is open to all, and the daemon
	// closes connections of users outside the tenants file.
	info, err := os.Stat(filepath.Join(f.RunRoot, "podplug.sock"))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o666 {
		t.Errorf("socket mode = %o, want 666", mode)
	}
	cases := []struct {
		name       string
		cred       *syscall.Credential
		wantUID    uint32
		wantUser   string
		wantTenant string
		wantAdmin  bool
	}{
		{"alice", f.alice.cred(), f.alice.uid, "ppt-alice", "blue", false},
		{"bob", f.bob.cred(), f.bob.uid, "ppt-bob", "red", false},
		{"root", nil, 0, "root", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := f.with(t)
			r := f.RunAs(c.cred, "whoami", "--format", "json")
			if r.Code != 0 {
				t.Fatalf("whoami: exit %d: %s", r.Code, r.Stderr)
			}
			var who api.Subject
			decodeJSON(t, r.Stdout, &who)
			if who.UID != c.wantUID {
				t.Errorf("uid = %d, want %d", who.UID, c.wantUID)
			}
			if who.User != c.wantUser {
				t.Errorf("user = %q, want %q", who.User, c.wantUser)
			}
			if who.Tenant != c.wantTenant {
				t.Errorf("tenant = %q, want %q", who.Tenant, c.wantTenant)
			}
			if who.Admin != c.wantAdmin {
				t.Errorf("admin = %v, want %v", who.Admin, c.wantAdmin)
			}
		})
	}
}

func TestTenantUnmappedUserRejected(t *testing.T) {
	f := newTenantFixture(t, "")
	eve := addHostUser(t, "ppt-eve")

	for _, args := range [][]string{{"whoami"}, {"pod", "ps"}} {
		r := f.as(eve, args...)
		if r.Code != 125 {
			t.Errorf("%s as a user in no tenant: exit %d, want 125", strings.Join(args, " "), r.Code)
		}
		if !strings.Contains(r.Stderr, "connect to the podplug daemon") {
			t.Errorf("%s as a user in no tenant: stderr %q, want a failed connection",
				strings.Join(args, " "), r.Stderr)
		}
		if r.Stdout != "" {
			t.Errorf("%s as a user in no tenant printed %q", strings.Join(args, " "), r.Stdout)
		}
	}
	log := f.serve.log()
	want := fmt.Sprintf("uid=%d", eve.uid)
	if !strings.Contains(log, "connection rejected") || !strings.Contains(log, want) {
		t.Errorf("daemon log lacks a rejected connection with %s:\n%s", want, log)
	}
	f.mustAs(f.alice, "whoami")
}

// tenantOp is one operation a tenant may try on a pod or container.
type tenantOp struct {
	name string
	// onPod is true when ref is a pod, false when it is a container.
	onPod bool
	args  func(ref string) []string
}

// isolationOps are the operations on another tenant's pod and containers.
var isolationOps = []tenantOp{
	{"pod start", true, func(ref string) []string { return []string{"pod", "start", ref} }},
	{"pod stop", true, func(ref string) []string { return []string{"pod", "stop", "-t", "0", ref} }},
	{"pod pause", true, func(ref string) []string { return []string{"pod", "pause", ref} }},
	{"pod unpause", true, func(ref string) []string { return []string{"pod", "unpause", ref} }},
	{"pod restart", true, func(ref string) []string {
		return []string{"pod", "restart", "-t", "0", ref}
	}},
	{"pod kill", true, func(ref string) []string { return []string{"pod", "kill", ref} }},
	{"pod inspect", true, func(ref string) []string { return []string{"pod", "inspect", ref} }},
	{"pod logs", true, func(ref string) []string { return []string{"pod", "logs", ref} }},
	{"pod rm", true, func(ref string) []string { return []string{"pod", "rm", "-f", "-t", "0", ref} }},
	{"create in pod", true, func(ref string) []string {
		return []string{"create", "--pod", ref, "--name", "intruder", "localhost/busybox", "true"}
	}},
	{"start", false, func(ref string) []string { return []string{"start", ref} }},
	{"stop", false, func(ref string) []string { return []string{"stop", "-t", "0", ref} }},
	{"restart", false, func(ref string) []string { return []string{"restart", "-t", "0", ref} }},
	{"kill", false, func(ref string) []string { return []string{"kill", ref} }},
	{"inspect", false, func(ref string) []string { return []string{"inspect", ref} }},
	{"logs", false, func(ref string) []string { return []string{"logs", ref} }},
	{"exec", false, func(ref string) []string { return []string{"exec", ref, "echo", "hi"} }},
	{"wait", false, func(ref string) []string { return []string{"wait", ref} }},
	{"rm", false, func(ref string) []string { return []string{"rm", "-f", "-t", "0", ref} }},
}

// ledgerCommand prints a line and runs until it is killed.
var ledgerCommand = []string{"sh", "-c", "echo ledger-ready; exec sleep 1000"}

func TestTenantIsolation(t *testing.T) {
	f := newTenantFixture(t, "")
	alicePod := f.createPodAs(f.alice, "web")
	f.createContainerAs(f.alice, "web", "ledger", ledgerCommand...)
	f.mustAs(f.alice, "pod", "start", "web")
	// Pod names are unique per tenant, so bob may use the name web too.
	bobPod := f.createPodAs(f.bob, "web")
	f.createContainerAs(f.bob, "web", "printer", sleeper...)
	if alicePod == bobPod {
		t.Fatalf("alice's and bob's pods web have one ID %s", alicePod)
	}
	before := f.podSnapshot(f.alice, "web")

	// Each tenant's pods run in a user namespace mapped onto the host ids
	// that tenantsYAML gives the tenant.
	for _, c := range []struct {
		owner   hostUser
		hostUID uint32
	}{{f.alice, 1000000}, {f.bob, 1065536}} {
		m := f.inspectPodAs(c.owner, "web").IDMap
		if m == nil || m.HostUID != c.hostUID || m.HostGID != c.hostUID || m.Size != 65536 {
			t.Errorf("%s's pod web has id map %+v, want host ids %d to %d", c.owner.name, m,
				c.hostUID, c.hostUID+65535)
		}
	}

	t.Run("other tenant denied", func(t *testing.T) {
		f := f.with(t)
		// A 64-digit ID and a name that no pod or container has.
		missingPod, missingCtr := strings.Repeat("0", 64), "nosuchctr"
		for _, op := range isolationOps {
			ref, missing := "ledger", missingCtr
			if op.onPod {
				ref, missing = alicePod, missingPod
			}
			r := f.as(f.bob, op.args(ref)...)
			if r.Code != 125 {
				t.Errorf("bob: %s on alice's %s: exit %d, want 125\nstdout: %s\nstderr: %s",
					op.name, ref, r.Code, r.Stdout, r.Stderr)
			}
			if !strings.Contains(r.Stderr, "tenant_isolation") {
				t.Errorf("bob: %s on alice's %s: stderr lacks tenant_isolation: %s", op.name, ref, r.Stderr)
			}
			absent := f.as(f.bob, op.args(missing)...)
			if absent.Code != r.Code {
				t.Errorf("bob: %s: exit %d for alice's object, %d for a missing one",
					op.name, r.Code, absent.Code)
			}
			got := strings.ReplaceAll(r.Stderr, ref, "REF")
			want := strings.ReplaceAll(absent.Stderr, missing, "REF")
			if got != want {
				t.Errorf("bob: %s: the reply for alice's object differs from a missing one's:\n"+
					"alice's: %s\nmissing: %s", op.name, got, want)
			}
			if after := f.podSnapshot(f.alice, "web"); after != before {
				t.Errorf("bob: %s changed alice's pod:\nbefore: %s\nafter:  %s", op.name, before, after)
			}
		}
		if got := f.podSnapshot(f.bob, "web"); !strings.Contains(got, bobPod) {
			t.Errorf("bob's own pod web is not %s after his attempts: %s", bobPod, got)
		}
	})

	t.Run("owner allowed", func(t *testing.T) {
		f := f.with(t)
		steps := []struct {
			args []string
			// wantOut, when set, must be part of standard output.
			wantOut string
		}{
			{args: []string{"pod", "pause", "web"}},
			{args: []string{"pod", "unpause", "web"}},
			{args: []string{"pod", "restart", "-t", "0", "web"}},
			{args: []string{"stop", "-t", "0", "ledger"}},
			{args: []string{"start", "ledger"}},
			{args: []string{"restart", "-t", "0", "ledger"}},
			{args: []string{"exec", "ledger", "echo", "hi"}, wantOut: "hi"},
			{args: []string{"inspect", "ledger"}, wantOut: `"Name": "ledger"`},
			{args: []string{"logs", "ledger"}, wantOut: "ledger-ready"},
			{args: []string{"kill", "ledger"}},
			{args: []string{"wait", "ledger"}, wantOut: "137"},
			{args: []string{"pod", "stop", "-t", "0", "web"}},
			{args: []string{"pod", "start", "web"}},
			{args: []string{"pod", "kill", "web"}},
			{args: []string{"pod", "inspect", "web"}, wantOut: alicePod},
			{args: []string{"pod", "logs", "web"}, wantOut: "ledger ledger-ready"},
			{args: []string{"rm", "-f", "-t", "0", "ledger"}},
			{args: []string{"pod", "rm", "-f", "-t", "0", "web"}},
		}
		for _, s := range steps {
			out := f.mustAs(f.alice, s.args...)
			if !strings.Contains(out, s.wantOut) {
				t.Errorf("alice: %s printed %q, want %q in it", strings.Join(s.args, " "), out, s.wantOut)
			}
		}
		if r := f.as(f.alice, "pod", "inspect", alicePod); r.Code != 125 {
			t.Errorf("alice's pod still exists after her pod rm: exit %d", r.Code)
		}
		if got := f.podSnapshot(f.bob, "web"); !strings.Contains(got, bobPod) {
			t.Errorf("bob's pod web is not %s after alice removed hers: %s", bobPod, got)
		}
	})
}

func TestTenantListingsHideOtherTenant(t *testing.T) {
	f := newTenantFixture(t, "")
	// Alice's pod vault and containers ledger and abacus have names that
	// bob's objects do not contain, so any trace of them in bob's output
	// is a leak. Her pod web shares bob's pod name, so only its ID counts.
	webID, vaultID := f.createPodAs(f.alice, "web"), f.createPodAs(f.alice, "vault")
	ledgerID := f.createContainerAs(f.alice, "web", "ledger", ledgerCommand...)
	abacusID := f.createContainerAs(f.alice, "vault", "abacus", ledgerCommand...)
	f.mustAs(f.alice, "pod", "start", "web")
	secrets := []string{"vault", "ledger", "abacus"}
	for _, id := range []string{webID, vaultID, ledgerID, abacusID} {
		secrets = append(secrets, id, id[:12])
	}
	for _, pod := range []string{"web", "vault"} {
		infra := f.inspectPodAs(f.alice, pod).InfraContainerID
		secrets = append(secrets, infra, infra[:12])
	}
	bobPod := f.createPodAs(f.bob, "web")
	f.createContainerAs(f.bob, "web", "printer", "sh", "-c", "echo printing; exec sleep 1000")
	f.mustAs(f.bob, "pod", "start", "web")

	// Failed attempts come first, so that the events and counts below
	// would show any trace they leave.
	for _, args := range [][]string{
		{"pod", "start", "vault"}, {"pod", "inspect", webID[:12]}, {"inspect", "ledger"},
		{"logs", "abacus"}, {"rm", "-f", "ledger"},
	} {
		if r := f.as(f.bob, args...); r.Code != 125 {
			t.Errorf("bob: %s: exit %d, want 125", strings.Join(args, " "), r.Code)
		}
	}

	// pod exists exits 1 for a pod of another tenant, as for a missing one.
	for _, ref := range []string{webID, "vault", strings.Repeat("0", 64)} {
		if r := f.as(f.bob, "pod", "exists", ref); r.Code != 1 {
			t.Errorf("bob: pod exists %s: exit %d, want 1", ref, r.Code)
		}
	}

	outputs := map[string]string{}
	for _, args := range [][]string{
		{"pod", "ps"}, {"pod", "ps", "--format", "json"}, {"ps", "-a"}, {"ps", "-a", "--format", "json"},
		{"pod", "inspect", "web"}, {"inspect", "printer"}, {"logs", "printer"}, {"pod", "logs", "web"},
		{"image", "ls"}, {"image", "ls", "--format", "json"}, {"info"}, {"info", "--format", "json"},
	} {
		outputs[strings.Join(args, " ")] = f.mustAs(f.bob, args...)
	}
	outputs["events --since 1h --format json"] = f.eventsAs(f.bob)
	for command, out := range outputs {
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Errorf("bob's %s shows alice's %q:\n%s", command, secret, out)
			}
		}
	}

	// Bob's own objects are listed, so the checks above saw real output.
	var pods []engine.PodSummary
	decodeJSON(t, outputs["pod ps --format json"], &pods)
	if len(pods) != 1 || pods[0].ID != bobPod {
		t.Errorf("bob's pod ps lists %+v, want his pod %s alone", pods, bobPod)
	}
	var ctrs []engine.ContainerSummary
	decodeJSON(t, outputs["ps -a --format json"], &ctrs)
	if len(ctrs) != 2 {
		t.Errorf("bob's ps -a lists %d containers, want 2 (infra and printer)", len(ctrs))
	}
	if !strings.Contains(outputs["logs printer"], "printing") {
		t.Errorf("bob's logs printer = %q, want his container's output", outputs["logs printer"])
	}
	if !strings.Contains(outputs["events --since 1h --format json"], bobPod) {
		t.Errorf("bob's events lack his own pod %s:\n%s", bobPod,
			outputs["events --since 1h --format json"])
	}
	var info api.Info
	decodeJSON(t, outputs["info --format json"], &info)
	if info.Pods != 1 || info.Containers != 2 || info.Running != 2 {
		t.Errorf("bob's info counts %d pods, %d containers, %d running; want 1, 2, 2",
			info.Pods, info.Containers, info.Running)
	}
	// Images have no owner: every tenant lists the name and ID of every
	// image, here the one root imported. Only admins may import, tag or
	// remove images, so a tenant cannot add names that others see.
	if info.Images != 1 {
		t.Errorf("bob's info counts %d images, want 1, the shared localhost/busybox", info.Images)
	}
	if !strings.Contains(outputs["image ls"], "localhost/busybox") {
		t.Errorf("bob's image ls lacks the shared localhost/busybox:\n%s", outputs["image ls"])
	}
}

func TestTenantNoPrivilegedMounts(t *testing.T) {
	f := newTenantFixture(t, "")
	f.createPodAs(f.alice, "web")

	r := f.as(f.alice, "create", "--pod", "web", "--name", "peek", "-v", "/etc:/hostetc",
		"localhost/busybox", "true")
	if r.Code != 125 {
		t.Errorf("alice: create with -v /etc:/hostetc: exit %d, want 125", r.Code)
	}
	if !strings.Contains(r.Stderr, "host_path_not_allowed") {
		t.Errorf("alice: create with -v /etc:/hostetc: stderr lacks host_path_not_allowed: %s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, `"/etc"`) || !strings.Contains(r.Stderr, "mounts[0]") {
		t.Errorf("alice: create with -v /etc:/hostetc: stderr does not name the mount: %s", r.Stderr)
	}
	if out := f.mustAs(f.alice, "ps", "-a", "--format", "{{.Name}}"); strings.Contains(out, "peek") {
		t.Errorf("the denied container peek exists: %s", out)
	}

	f.mustAs(f.alice, "create", "--pod", "web", "--name", "keep", "-v", "data:/data",
		"localhost/busybox", "sh", "-c", "echo kept > /data/file")
	f.mustAs(f.alice, "pod", "start", "web")
	if code := f.mustAs(f.alice, "wait", "keep"); code != "0" {
		t.Errorf("container keep with a named volume exited %s, want 0", code)
	}
}

func TestTenantPodLimitsRequired(t *testing.T) {
	f := newTenantFixture(t, "")
	cases := []struct {
		name     string
		flags    []string
		wantCode string // empty when the pod is allowed
		wantText string
	}{
		{"no memory", []string{"--cpus", "0.5"}, "limits_required", "memory_bytes is required"},
		{"no cpus", []string{"--memory", "64m"}, "limits_required", "cpus is required"},
		{"memory above quota", []string{"--cpus", "0.5", "--memory", "2g"}, "quota_limits",
			"memory_bytes 2147483648 exceeds the quota of 1073741824"},
		{"both within quota", podLimits, "", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := f.with(t)
			name := fmt.Sprintf("p%d", i)
			r := f.as(f.alice, append([]string{"pod", "create", "--name", name}, c.flags...)...)
			if c.wantCode == "" {
				if r.Code != 0 {
					t.Fatalf("pod create %v: exit %d: %s", c.flags, r.Code, r.Stderr)
				}
				return
			}
			if r.Code != 125 {
				t.Errorf("pod create %v: exit %d, want 125", c.flags, r.Code)
			}
			if !strings.Contains(r.Stderr, c.wantCode) || !strings.Contains(r.Stderr, c.wantText) {
				t.Errorf("pod create %v: stderr %q, want %s with %q", c.flags, r.Stderr,
					c.wantCode, c.wantText)
			}
			if exists := f.as(f.alice, "pod", "exists", name); exists.Code != 1 {
				t.Errorf("denied pod %s: pod exists exits %d, want 1", name, exists.Code)
			}
		})
	}
	// Admins are not held to quotas.
	f.MustRun("pod", "create", "--name", "admin-pod")
}

func TestTenantImageAllowList(t *testing.T) {
	f := newTenantFixture(t, "")
	// data.yaml allows every image under localhost/ and nothing else.
	data := readFile(t, "../examples/policies/data.yaml")
	if !regexp.MustCompile(`(?m)^\s+registries:\n\s+- localhost/$`).MatchString(data) {
		t.Fatalf("examples/policies/data.yaml no longer allows localhost/ alone:\n%s", data)
	}
	f.createPodAs(f.alice, "web")
	f.MustRun("pod", "create", "--name", "admin-web")

	denied := []struct {
		name string
		run  func(f *tenantFixture) Result
	}{
		{"tenant container", func(f *tenantFixture) Result {
			return f.as(f.alice, "create", "--pod", "web", "docker.io/library/alpine", "true")
		}},
		{"admin container", func(f *tenantFixture) Result {
			return f.Run("create", "--pod", "admin-web", "docker.io/library/alpine", "true")
		}},
		{"admin tag", func(f *tenantFixture) Result {
			return f.Run("image", "tag", "localhost/busybox", "example.org/busybox")
		}},
		{"admin import", func(f *tenantFixture) Result {
			return f.Run("image", "import", busyboxTar, "example.org/busybox")
		}},
	}
	for _, c := range denied {
		t.Run(c.name, func(t *testing.T) {
			r := c.run(f.with(t))
			if r.Code != 125 {
				t.Errorf("exit %d, want 125\nstdout: %s", r.Code, r.Stdout)
			}
			if !strings.Contains(r.Stderr, "image_not_allowed") {
				t.Errorf("stderr lacks image_not_allowed: %s", r.Stderr)
			}
		})
	}
	if out := f.MustRun("image", "ls"); strings.Contains(out, "example.org") {
		t.Errorf("a denied name reached the image store:\n%s", out)
	}

	f.createContainerAs(f.alice, "web", "allowed", "true")
	f.MustRun("image", "tag", "localhost/busybox", "localhost/busybox:stable")
	f.mustAs(f.alice, "create", "--pod", "web", "--name", "tagged", "localhost/busybox:stable", "true")
}

// decisionLine is one line of the decision log, as far as tests read it.
type decisionLine struct {
	Operation string `json:"operation"`
	Subject   struct {
		UID    uint32 `json:"uid"`
		Tenant string `json:"tenant"`
	} `json:"subject"`
	Target *struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"target"`
	Allowed bool `json:"allowed"`
	Reasons []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"reasons"`
}

// decisionLog returns the daemon's decision log, raw and decoded.
func (f *tenantFixture) decisionLog() (string, []decisionLine) {
	f.t.Helper()
	raw := readFile(f.t, f.serve.flags.DecisionLog)
	var lines []decisionLine
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		var d decisionLine
		decodeJSON(f.t, line, &d)
		lines = append(lines, d)
	}
	return raw, lines
}

// hasDenial reports whether lines hold a denial of operation for uid with
// a reason of code.
func hasDenial(lines []decisionLine, operation string, uid uint32, code string) bool {
	for _, d := range lines {
		if d.Operation != operation || d.Subject.UID != uid || d.Allowed {
			continue
		}
		for _, r := range d.Reasons {
			if r.Code == code {
				return true
			}
		}
	}
	return false
}

// hasDenyEvent reports whether events hold a policy denial of operation
// for uid with a reason of code.
func hasDenyEvent(events []model.Event, operation string, uid uint32, code string) bool {
	for _, ev := range events {
		if ev.Type != "policy" || ev.Action != "deny" || ev.Attributes["operation"] != operation ||
			ev.Attributes["uid"] != strconv.Itoa(int(uid)) {
			continue
		}
		for key, reason := range ev.Attributes {
			if strings.HasPrefix(key, "reason") && strings.HasPrefix(reason, code+":") {
				return true
			}
		}
	}
	return false
}

func TestTenantDenialsLogged(t *testing.T) {
	f := newTenantFixture(t, "")
	const secret = "hunter2"
	alicePod := f.createPodAs(f.alice, "web")
	f.createContainerAs(f.alice, "web", "app", "sh", "-c", "exec sleep 1000")
	f.mustAs(f.alice, "create", "--pod", "web", "--name", "keyed", "-e", "SECRET="+secret,
		"localhost/busybox", "sleep", "1000")
	f.mustAs(f.alice, "pod", "start", "web")
	f.mustAs(f.alice, "exec", "-e", "TOKEN="+secret, "keyed", "true")
	// Denied requests carry the secret too.
	if r := f.as(f.alice, "create", "--pod", "web", "--name", "peek", "-e", "SECRET="+secret,
		"-v", "/etc:/hostetc", "localhost/busybox", "true"); r.Code != 125 {
		t.Fatalf("alice: create with -v /etc:/hostetc: exit %d, want 125", r.Code)
	}
	if r := f.as(f.bob, "exec", "-e", "TOKEN="+secret, "keyed", "true"); r.Code != 125 {
		t.Fatalf("bob: exec in alice's keyed: exit %d, want 125", r.Code)
	}
	if r := f.as(f.bob, "pod", "start", alicePod); r.Code != 125 {
		t.Fatalf("bob: pod start of alice's pod: exit %d, want 125", r.Code)
	}

	denials := []struct {
		operation string
		uid       uint32
		code      string
	}{
		{"pod.start", f.bob.uid, "tenant_isolation"},
		{"container.exec", f.bob.uid, "tenant_isolation"},
		{"container.create", f.alice.uid, "host_path_not_allowed"},
	}
	if f.serve.exited() {
		t.Fatalf("the daemon has exited:\n%s", f.serve.log())
	}
	events := f.events()
	raw, lines := f.decisionLog()
	for _, d := range denials {
		if !hasDenyEvent(events, d.operation, d.uid, d.code) {
			t.Errorf("root's events lack a policy deny event: %s by uid %d with %s",
				d.operation, d.uid, d.code)
		}
		if !hasDenial(lines, d.operation, d.uid, d.code) {
			t.Errorf("the decision log lacks a denial: %s by uid %d with %s", d.operation, d.uid, d.code)
		}
	}
	aliceExec := false
	for _, d := range lines {
		if d.Operation == "container.exec" && d.Subject.UID == f.alice.uid && d.Allowed {
			aliceExec = true
		}
	}
	if !aliceExec {
		t.Errorf("the decision log lacks alice's allowed exec")
	}
	if strings.Contains(raw, secret) {
		t.Errorf("the decision log contains the environment value %q:\n%s", secret, raw)
	}
	// Bob's denials on alice's objects are not his tenant's events: they
	// would show him her pod's name and ID.
	if bobEvents := f.eventsAs(f.bob); strings.Contains(bobEvents, alicePod) {
		t.Errorf("bob's events show alice's pod %s:\n%s", alicePod, bobEvents)
	}
}

// brokenRego does not compile: line 4 uses an unbound variable.
const brokenRego = "package podplug\n\ndeny contains x if {\n\tx := y\n}\n"

// copyPolicies copies the shipped policies and their data into a new
// directory and returns it.
func copyPolicies(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../examples/policies/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		writeTestFile(t, filepath.Join(dir, filepath.Base(file)), readFile(t, file))
	}
	return dir
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTenantPolicyCompileErrorAtStart(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	dir := copyPolicies(t)
	writeTestFile(t, filepath.Join(dir, "broken.rego"), brokenRego)
	base := t.TempDir()
	tenantsFile := filepath.Join(base, "tenants.yaml")
	writeTestFile(t, tenantsFile, tenantsYAML)
	runRoot := filepath.Join(base, "run")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "podplug"),
		"--root", filepath.Join(base, "root"), "--run-root", runRoot,
		"serve", "--tenants-file", tenantsFile, "--policy-dir", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()

	if ctx.Err() != nil {
		t.Fatalf("serve with a broken policy still runs after 30s, want it to fail at once")
	}
	if err == nil {
		t.Errorf("serve with a broken policy exited 0, want a failure")
	}
	if want := "broken.rego:4"; !strings.Contains(stderr.String(), want) {
		t.Errorf("serve error does not name %s:\n%s", want, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(runRoot, "podplug.sock")); !os.IsNotExist(err) {
		t.Errorf("serve with a broken policy left a socket: stat: %v", err)
	}
	ping := api.NewClient(filepath.Join(runRoot, "podplug.sock")).Ping(context.Background())
	if ping == nil {
		t.Errorf("a daemon answers on %s after serve failed", runRoot)
	}
}

// createInput is a pod.create request with pod limits and usage, which the
// shipped policies allow for a tenant.
const createInput = `{"spec": {"pod": {"name": "p", "cpus": 0.5, "memory_bytes": 67108864},
 "containers": []}, "context": {"tenant_pods": 0, "tenant_containers": 0}}`

func TestTenantPolicyReload(t *testing.T) {
	dir := copyPolicies(t)
	f := newTenantFixture(t, dir)
	input := filepath.Join(t.TempDir(), "input.json")
	writeTestFile(t, input, createInput)
	eval := func(f *tenantFixture) Result {
		f.t.Helper()
		return f.Run("policy", "eval", "--op", "pod.create", "--as", strconv.Itoa(int(f.alice.uid)),
			"--input", input)
	}
	maintenance := "package podplug\n\ndeny contains {\"code\": \"maintenance\", " +
		"\"message\": \"pod creation is paused\"} if input.operation == \"pod.create\"\n"
	if r := eval(f); r.Code != 0 {
		t.Fatalf("policy eval pod.create as alice before any change: exit %d: %s%s",
			r.Code, r.Stdout, r.Stderr)
	}

	t.Run("broken file refused", func(t *testing.T) {
		f := f.with(t)
		writeTestFile(t, filepath.Join(dir, "maintenance.rego"), maintenance)
		writeTestFile(t, filepath.Join(dir, "broken.rego"), brokenRego)
		r := f.Run("policy", "reload")
		if r.Code != 125 {
			t.Errorf("policy reload with a broken file: exit %d, want 125", r.Code)
		}
		if !strings.Contains(r.Stderr, "broken.rego:4") {
			t.Errorf("policy reload error does not name broken.rego:4: %s", r.Stderr)
		}
		if r := eval(f); r.Code != 0 || strings.Contains(r.Stdout, "maintenance") {
			t.Errorf("after a refused reload, eval pod.create: exit %d, want 0 without maintenance:\n%s",
				r.Code, r.Stdout)
		}
		f.createPodAs(f.alice, "before-fix")
	})

	t.Run("fixed file loaded", func(t *testing.T) {
		f := f.with(t)
		if err := os.Remove(filepath.Join(dir, "broken.rego")); err != nil {
			t.Fatal(err)
		}
		if r := f.Run("policy", "reload"); r.Code != 0 {
			t.Fatalf("policy reload after the fix: exit %d: %s", r.Code, r.Stderr)
		}
		if r := eval(f); r.Code != 1 || !strings.Contains(r.Stdout, `"code": "maintenance"`) {
			t.Errorf("after reload, eval pod.create: exit %d, want 1 with maintenance:\n%s",
				r.Code, r.Stdout)
		}
		r := f.as(f.alice, append([]string{"pod", "create", "--name", "after-fix"}, podLimits...)...)
		if r.Code != 125 || !strings.Contains(r.Stderr, "maintenance: pod creation is paused") {
			t.Errorf("alice: pod create after reload: exit %d, want 125 with maintenance: %s",
				r.Code, r.Stderr)
		}
	})

	t.Run("SIGHUP", func(t *testing.T) {
		f := f.with(t)
		freeze := strings.ReplaceAll(maintenance, "maintenance", "change_freeze")
		writeTestFile(t, filepath.Join(dir, "freeze.rego"), freeze)
		if err := os.Remove(filepath.Join(dir, "maintenance.rego")); err != nil {
			t.Fatal(err)
		}
		f.hangUp()
		f.Eventually(10*time.Second, "eval to show change_freeze after SIGHUP", func() bool {
			r := eval(f)
			return r.Code == 1 && strings.Contains(r.Stdout, "change_freeze") &&
				!strings.Contains(r.Stdout, `"maintenance"`)
		})

		refusedReloads := strings.Count(f.serve.log(), "policy reload refused")
		writeTestFile(t, filepath.Join(dir, "broken.rego"), brokenRego)
		f.hangUp()
		f.Eventually(10*time.Second, "the daemon to refuse the broken file", func() bool {
			return strings.Count(f.serve.log(), "policy reload refused") > refusedReloads
		})
		if log := f.serve.log(); !strings.Contains(log, "broken.rego:4") {
			t.Errorf("the daemon log does not name broken.rego:4:\n%s", log)
		}
		if r := eval(f); r.Code != 1 || !strings.Contains(r.Stdout, "change_freeze") {
			t.Errorf("after a refused SIGHUP reload, eval: exit %d, want 1 with change_freeze:\n%s",
				r.Code, r.Stdout)
		}
	})
}

// hangUp sends SIGHUP to the daemon.
func (f *tenantFixture) hangUp() {
	f.t.Helper()
	if err := f.serve.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		f.t.Fatalf("send SIGHUP to the daemon: %v", err)
	}
}

func TestTenantPolicyTestAndEval(t *testing.T) {
	f := newTenantFixture(t, "")

	t.Run("policy test", func(t *testing.T) {
		f := f.with(t)
		r := f.Run("policy", "test", "../examples/policies")
		if r.Code != 0 {
			t.Fatalf("policy test examples/policies: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
		summary := regexp.MustCompile(`(?m)^([0-9]+) passed, 0 failed$`)
		match := summary.FindStringSubmatch(r.Stdout)
		if match == nil || match[1] == "0" {
			t.Fatalf("policy test output lacks a summary with passed tests:\n%s", r.Stdout)
		}
		if n := len(summary.FindAllString(r.Stdout, -1)); n != 1 {
			t.Errorf("policy test printed its summary %d times, want once:\n%s", n, r.Stdout)
		}
	})

	t.Run("policy eval", func(t *testing.T) {
		f := f.with(t)
		alicePod := f.createPodAs(f.alice, "web")
		target := map[string]any{"target": map[string]any{"kind": "pod", "name": "web", "id": alicePod,
			"owner": map[string]any{"uid": f.alice.uid, "tenant": "blue"}, "state": "Created"}}
		data, err := json.Marshal(target)
		if err != nil {
			t.Fatal(err)
		}
		input := filepath.Join(t.TempDir(), "input.json")
		writeTestFile(t, input, string(data))
		cases := []struct {
			name        string
			as          hostUser
			wantCode    int
			wantAllowed bool
			wantTenant  string
		}{
			{"other tenant", f.bob, 1, false, "red"},
			{"owner", f.alice, 0, true, "blue"},
		}
		for _, c := range cases {
			as := strconv.Itoa(int(c.as.uid))
			r := f.Run("policy", "eval", "--op", "pod.start", "--as", as, "--input", input)
			if r.Code != c.wantCode {
				t.Errorf("%s: policy eval: exit %d, want %d: %s", c.name, r.Code, c.wantCode, r.Stderr)
			}
			var res api.EvalResult
			decodeJSON(t, r.Stdout, &res)
			if res.Subject.Tenant != c.wantTenant {
				t.Errorf("%s: evaluated as tenant %q, want %q", c.name, res.Subject.Tenant, c.wantTenant)
			}
			if res.Allowed != c.wantAllowed {
				t.Errorf("%s: allowed = %v, want %v; reasons %v",
					c.name, res.Allowed, c.wantAllowed, res.Reasons)
			}
			if c.wantAllowed {
				continue
			}
			found := false
			for _, reason := range res.Reasons {
				found = found || reason.Code == "tenant_isolation" && reason.Message == "pod not found"
			}
			if !found {
				t.Errorf("%s: reasons %v lack tenant_isolation: pod not found", c.name, res.Reasons)
			}
		}
	})
}
