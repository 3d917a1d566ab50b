package spec

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/common/pkg/capabilities"
	"go.podman.io/common/pkg/config"

	"github.com/podplug/podplug/engine/model"
)

// generateFor returns the spec of container c with a plain root file system.
func generateFor(t *testing.T, c *model.Container) *specs.Spec {
	t.Helper()
	c.Name, c.Command = "app", []string{"sh"}
	s, err := Generate(Options{Container: c, Rootfs: "/rootfs"})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return s
}

func findMount(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

// checkCapabilitySets fails unless the bounding, effective and permitted
// sets all equal want, in any order.
func checkCapabilitySets(t *testing.T, s *specs.Spec, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	caps := s.Process.Capabilities
	for name, set := range map[string][]string{
		"bounding": caps.Bounding, "effective": caps.Effective, "permitted": caps.Permitted,
	} {
		got := slices.Sorted(slices.Values(set))
		if !slices.Equal(got, want) {
			t.Errorf("%s set = %v, expected %v", name, got, want)
		}
	}
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

func boundingSet(t *testing.T) []string {
	t.Helper()
	set, err := capabilities.BoundingSet()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestGenerateCapabilities(t *testing.T) {
	tests := []struct {
		name string
		ctr  model.Container
		want func(t *testing.T) []string
	}{
		{
			name: "podman's defaults",
			want: func(*testing.T) []string { return config.DefaultCapabilities },
		},
		{
			name: "added",
			ctr:  model.Container{CapAdd: []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}},
			want: func(*testing.T) []string {
				return append(slices.Clone(config.DefaultCapabilities), "CAP_NET_ADMIN", "CAP_SYS_TIME")
			},
		},
		{
			name: "dropped",
			ctr:  model.Container{CapDrop: []string{"CAP_CHOWN", "CAP_KILL"}},
			want: func(*testing.T) []string {
				return without(config.DefaultCapabilities, "CAP_CHOWN", "CAP_KILL")
			},
		},
		{
			name: "all dropped, one added",
			ctr:  model.Container{CapAdd: []string{"CAP_NET_BIND_SERVICE"}, CapDrop: []string{"ALL"}},
			want: func(*testing.T) []string { return []string{"CAP_NET_BIND_SERVICE"} },
		},
		{
			name: "all added",
			ctr:  model.Container{CapAdd: []string{"ALL"}},
			want: boundingSet,
		},
		{
			name: "privileged",
			ctr:  model.Container{Privileged: true},
			want: boundingSet,
		},
		{
			name: "privileged with a drop",
			ctr:  model.Container{Privileged: true, CapDrop: []string{"CAP_SYS_ADMIN"}},
			want: func(t *testing.T) []string { return without(boundingSet(t), "CAP_SYS_ADMIN") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCapabilitySets(t, generateFor(t, &tt.ctr), tt.want(t))
		})
	}
}

func TestGenerateUnprivileged(t *testing.T) {
	s := generateFor(t, &model.Container{})
	if len(s.Linux.MaskedPaths) == 0 || len(s.Linux.ReadonlyPaths) == 0 {
		t.Errorf("masked paths %v and read-only paths %v, expected podman's defaults",
			s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	wantDevices := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	if !slices.Equal(s.Linux.Resources.Devices, wantDevices) {
		t.Errorf("device rules = %+v, expected %+v", s.Linux.Resources.Devices, wantDevices)
	}
	if len(s.Linux.Devices) != 0 {
		t.Errorf("devices = %d, expected none beyond runc's defaults", len(s.Linux.Devices))
	}
	for _, dest := range []string{"/sys", "/sys/fs/cgroup"} {
		if m := findMount(s, dest); m == nil || !slices.Contains(m.Options, "ro") {
			t.Errorf("mount %s = %+v, expected it read-only", dest, m)
		}
	}
	if s.Root.Readonly {
		t.Error("root file system is read-only, expected writable")
	}
}

func TestGeneratePrivileged(t *testing.T) {
	s := generateFor(t, &model.Container{Privileged: true})
	if len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 {
		t.Errorf("masked paths %v and read-only paths %v, expected none",
			s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	wantDevices := []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	if !slices.Equal(s.Linux.Resources.Devices, wantDevices) {
		t.Errorf("device rules = %+v, expected %+v", s.Linux.Resources.Devices, wantDevices)
	}
	var null *specs.LinuxDevice
	for i, d := range s.Linux.Devices {
		if d.Path == "/dev/null" {
			null = &s.Linux.Devices[i]
		}
		if strings.HasPrefix(d.Path, "/dev/pts/") || d.Path == "/dev/ptmx" {
			t.Errorf("device %s is the host's, expected the container's own", d.Path)
		}
	}
	if null == nil {
		t.Fatalf("devices %v lack /dev/null", s.Linux.Devices)
	}
	if null.Type != "c" || null.Major != 1 || null.Minor != 3 {
		t.Errorf("/dev/null = %s %d:%d, expected c 1:3", null.Type, null.Major, null.Minor)
	}
	for _, dest := range []string{"/sys", "/sys/fs/cgroup"} {
		if m := findMount(s, dest); m == nil || !slices.Contains(m.Options, "rw") {
			t.Errorf("mount %s = %+v, expected it writable", dest, m)
		}
	}
}

func TestGenerateReadOnlyRootfs(t *testing.T) {
	s := generateFor(t, &model.Container{ReadOnlyRootfs: true})
	if !s.Root.Readonly {
		t.Error("root file system is writable, expected read-only")
	}
}

func TestGenerateInfraSysfsWritable(t *testing.T) {
	s := generateFor(t, &model.Container{Infra: true})
	if m := findMount(s, "/sys"); m == nil || !slices.Contains(m.Options, "rw") {
		t.Errorf("infra /sys = %+v, expected it writable so privileged containers get a writable sysfs", m)
	}
	if m := findMount(s, "/sys/fs/cgroup"); m == nil || !slices.Contains(m.Options, "ro") {
		t.Errorf("infra /sys/fs/cgroup = %+v, expected it read-only", m)
	}
	if len(s.Linux.MaskedPaths) == 0 {
		t.Error("infra container has no masked paths, expected podman's defaults")
	}
}
