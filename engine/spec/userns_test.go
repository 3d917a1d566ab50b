package spec

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podplug/podplug/engine/model"
)

var testIDMap = &model.IDMap{HostUID: 300000, HostGID: 400000, Size: 65536}

func generate(t *testing.T, o Options) *specs.Spec {
	t.Helper()
	o.Container = &model.Container{Name: "app", Command: []string{"sh"}}
	o.Rootfs = "/rootfs"
	s, err := Generate(o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return s
}

func mountAt(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestGenerateUserNamespace(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		wantUserNS specs.LinuxNamespace
		wantSysfs  string // type of the mount at /sys
	}{
		{name: "own namespaces",
			opts: Options{IDMap: testIDMap, New: []specs.LinuxNamespaceType{specs.MountNamespace,
				specs.NetworkNamespace, specs.UserNamespace}},
			wantUserNS: specs.LinuxNamespace{Type: specs.UserNamespace}, wantSysfs: "sysfs"},
		{name: "joins the infra's namespaces",
			opts: Options{IDMap: testIDMap, New: []specs.LinuxNamespaceType{specs.MountNamespace,
				specs.UserNamespace}, Join: map[specs.LinuxNamespaceType]string{
				specs.NetworkNamespace: "/proc/7/ns/net", specs.UserNamespace: "/proc/7/ns/user"}},
			wantUserNS: specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/7/ns/user"},
			wantSysfs:  "sysfs"},
		{name: "host network binds /sys",
			opts: Options{IDMap: testIDMap, New: []specs.LinuxNamespaceType{specs.MountNamespace,
				specs.UserNamespace}},
			wantUserNS: specs.LinuxNamespace{Type: specs.UserNamespace}, wantSysfs: "bind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := generate(t, tc.opts)
			var userNS []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type == specs.UserNamespace {
					userNS = append(userNS, ns)
				}
			}
			if len(userNS) != 1 || userNS[0] != tc.wantUserNS {
				t.Errorf("user namespaces %+v, want just %+v", userNS, tc.wantUserNS)
			}
			wantUIDs := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 300000, Size: 65536}}
			wantGIDs := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 400000, Size: 65536}}
			if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0] != wantUIDs[0] {
				t.Errorf("uid mappings = %+v, want %+v", s.Linux.UIDMappings, wantUIDs)
			}
			if len(s.Linux.GIDMappings) != 1 || s.Linux.GIDMappings[0] != wantGIDs[0] {
				t.Errorf("gid mappings = %+v, want %+v", s.Linux.GIDMappings, wantGIDs)
			}
			sys := mountAt(s, "/sys")
			if sys == nil {
				t.Fatal("no mount at /sys")
			}
			if sys.Type != tc.wantSysfs {
				t.Errorf("/sys mount type %q, want %q", sys.Type, tc.wantSysfs)
			}
		})
	}
}

func TestGenerateWithoutIDMap(t *testing.T) {
	s := generate(t, Options{New: []specs.LinuxNamespaceType{specs.MountNamespace}})
	if s.Linux.UIDMappings != nil || s.Linux.GIDMappings != nil {
		t.Errorf("mappings %+v %+v without an id map, want none", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			t.Errorf("user namespace %+v without an id map", ns)
		}
	}
	if sys := mountAt(s, "/sys"); sys == nil || sys.Type != "sysfs" {
		t.Errorf("/sys mount %+v, want sysfs", sys)
	}
}
