package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
)

// usernsTenantsYAML gives tenants blue and red host ids of their own and
// green none. The host has no /etc/subuid entry for user podplug in these
// tests, so green cannot get a block allotted.
const usernsTenantsYAML = `tenants:
  - name: blue
    users: [ppt-uns-blue]
    ids: {start: 300000, size: 65536}
  - name: red
    users: [ppt-uns-red]
    ids: {start: 365536, size: 65536}
  - name: green
    users: [ppt-uns-green]
`

// processUID returns the real uid of host process pid, from the Uid line
// of /proc/PID/status.
func processUID(t *testing.T, pid int) string {
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

func TestUserNSTenantPods(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if data, err := os.ReadFile("/etc/subuid"); err == nil && strings.Contains(string(data), "podplug:") {
		t.Skip("/etc/subuid has an entry for podplug, so tenant green would get ids")
	}
	users := map[string]hostUser{}
	for _, tenant := range []string{"blue", "red", "green"} {
		users[tenant] = addHostUser(t, "ppt-uns-"+tenant)
	}
	e := NewTenantEnv(t, TenantEnvOptions{Tenants: usernsTenantsYAML})
	limits := []string{"--network", "none", "--cpus", "0.5", "--memory", "64m"}

	tests := []struct {
		tenant string
		cred   *syscall.Credential // nil runs as root, an admin
		want   *model.IDMap
		uid    string
	}{
		{"blue", users["blue"].cred(), &model.IDMap{HostUID: 300000, HostGID: 300000, Size: 65536}, "300000"},
		{"red", users["red"].cred(), &model.IDMap{HostUID: 365536, HostGID: 365536, Size: 65536}, "365536"},
		{"admin", nil, nil, "0"},
	}
	for _, tc := range tests {
		t.Run(tc.tenant, func(t *testing.T) {
			run := func(args ...string) string {
				t.Helper()
				r := e.RunAs(tc.cred, args...)
				if r.Code != 0 {
					t.Fatalf("podplug %s as %s: exit %d\nstderr: %s", strings.Join(args, " "), tc.tenant,
						r.Code, r.Stderr)
				}
				return strings.TrimSpace(r.Stdout)
			}
			pod, ctr, volume := "web-"+tc.tenant, "app-"+tc.tenant, "data-"+tc.tenant
			run(append([]string{"pod", "create", "--name", pod}, limits...)...)
			run("create", "--pod", pod, "--name", ctr, "-v", volume+":/data", "localhost/busybox",
				"sh", "-c", "touch /data/file && exec sleep 1000")
			run("pod", "start", pod)

			var inspect engine.PodInspect
			decodeJSON(t, run("pod", "inspect", pod), &inspect)
			switch {
			case tc.want == nil && inspect.IDMap != nil:
				t.Errorf("pod inspect: IDMap %+v, want none", *inspect.IDMap)
			case tc.want != nil && (inspect.IDMap == nil || *inspect.IDMap != *tc.want):
				t.Errorf("pod inspect: IDMap %+v, want %+v", inspect.IDMap, *tc.want)
			}

			var c engine.ContainerInspect
			decodeJSON(t, run("inspect", ctr), &c)
			if got := processUID(t, c.State.PID); got != tc.uid {
				t.Errorf("host uid of the container's process = %s, want %s", got, tc.uid)
			}
			if got := run("exec", ctr, "id", "-u"); got != "0" {
				t.Errorf("`id -u` in the container = %q, want 0", got)
			}
			file := filepath.Join(e.Root, "volumes", volume, "_data", "file")
			var st syscall.Stat_t
			deadline := time.Now().Add(10 * time.Second)
			for syscall.Stat(file, &st) != nil {
				if time.Now().After(deadline) {
					t.Fatalf("the container did not create %s within 10s", file)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got := fmt.Sprint(st.Uid); got != tc.uid {
				t.Errorf("file the container wrote to its volume is owned by uid %s on the host, want %s",
					got, tc.uid)
			}
		})
	}

	t.Run("tenant without ids", func(t *testing.T) {
		r := e.RunAs(users["green"].cred(), append([]string{"pod", "create", "--name", "web"}, limits...)...)
		if r.Code == 0 {
			t.Fatal("pod create by a tenant without ids and no subordinate ids succeeded, want an error")
		}
		for _, hint := range []string{"ids: {start:", "podplug:START:COUNT", "/etc/subuid"} {
			if !strings.Contains(r.Stderr, hint) {
				t.Errorf("error %q does not tell the operator about %q", r.Stderr, hint)
			}
		}
	})
}
