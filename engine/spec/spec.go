// Package spec builds OCI runtime specs for podplug's containers from the
// model records, with podman's defaults from go.podman.io/common: default
// capabilities, masked and read-only paths, and rlimits capped to what this
// host allows.
package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/common/pkg/capabilities"
	"go.podman.io/common/pkg/config"
	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine/model"
)

// DefaultPath is PATH for containers whose image sets none.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Options is everything Generate needs beyond the container itself.
type Options struct {
	Container *model.Container
	Pod       *model.Pod
	// Rootfs is the container's mounted root file system.
	Rootfs   string
	ReadOnly bool
	// Join maps a namespace type to a path of a namespace to enter, such as
	// /proc/PID/ns/net of the infra container. A type in New and not in
	// Join gets a fresh namespace; a type in neither stays the host's.
	Join map[specs.LinuxNamespaceType]string
	New  []specs.LinuxNamespaceType
	// Hostname is set only when the container gets its own UTS namespace.
	Hostname    string
	CgroupsPath string
	// ExtraMounts are bind mounts the engine provides, such as /etc/hosts.
	ExtraMounts []specs.Mount
	// Process overrides the user (uid, gid) resolved from Container.User.
	UID, GID uint32
	// AdditionalGids are the user's supplementary groups.
	AdditionalGids []uint32
	// IDMap, when set, gives the spec uid and gid mappings for a user
	// namespace, which New or Join must then name.
	IDMap *model.IDMap
}

// Generate returns the OCI spec for one container. A privileged container
// gets every capability of the daemon's bounding set (less CapDrop), every
// host device, writable /sys and /sys/fs/cgroup, and no masked or read-only
// paths, as podman's --privileged does.
func Generate(o Options) (*specs.Spec, error) {
	c := o.Container
	if len(c.Command) == 0 {
		return nil, fmt.Errorf("container %s: no command: give one after the image", c.Name)
	}
	caps, err := capabilitySet(c)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.Name, err)
	}
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: o.Rootfs, Readonly: o.ReadOnly || c.ReadOnlyRootfs},
		Process: &specs.Process{
			Args:         append([]string(nil), c.Command...),
			Env:          environment(c.Env),
			Cwd:          workDir(c.WorkDir),
			User:         specs.User{UID: o.UID, GID: o.GID, AdditionalGids: o.AdditionalGids},
			Capabilities: caps,
			Rlimits:      rlimits(),
		},
		Hostname: o.Hostname,
		Mounts:   append(defaultMounts(c), userMounts(c.Mounts)...),
		Linux: &specs.Linux{
			CgroupsPath: o.CgroupsPath,
			Namespaces:  namespaces(o),
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
		},
	}
	if c.Privileged {
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		if s.Linux.Devices, err = hostDevices(); err != nil {
			return nil, fmt.Errorf("container %s: list host devices: %w", c.Name, err)
		}
	} else {
		s.Linux.MaskedPaths = config.DefaultMaskedPaths()
		s.Linux.ReadonlyPaths = append([]string(nil), config.DefaultReadOnlyPaths...)
	}
	s.Mounts = append(s.Mounts, o.ExtraMounts...)
	if o.IDMap != nil {
		setUserNamespace(s, o)
	}
	if len(c.Labels) > 0 {
		s.Annotations = map[string]string{}
		for k, v := range c.Labels {
			s.Annotations[k] = v
		}
	}
	if !hasNamespace(o, specs.UTSNamespace) {
		s.Hostname = ""
	}
	return s, nil
}

// setUserNamespace adds the id mappings of o.IDMap. runc 1.1 (tested with
// 1.1.5) needs them also when the container joins an existing user
// namespace, because it computes the owner of /dev and its device nodes
// from them. Without them it fails with "User namespaces enabled, but no
// uid mappings found". A joined namespace keeps its own mappings.
//
// sysfs can be mounted only by a user namespace that owns the network
// namespace, so a container in a user namespace without its own or a joined
// network namespace (network host) gets the host's /sys bound read-only.
// NOTE: policies see that bind mount as a host path mount of /sys.
func setUserNamespace(s *specs.Spec, o Options) {
	uids := specs.LinuxIDMapping{ContainerID: 0, HostID: o.IDMap.HostUID, Size: o.IDMap.Size}
	gids := specs.LinuxIDMapping{ContainerID: 0, HostID: o.IDMap.HostGID, Size: o.IDMap.Size}
	s.Linux.UIDMappings = []specs.LinuxIDMapping{uids}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{gids}
	if hasOrJoins(o, specs.NetworkNamespace) {
		return
	}
	for i, m := range s.Mounts {
		if m.Type == "sysfs" {
			s.Mounts[i] = specs.Mount{Destination: m.Destination, Type: "bind", Source: "/sys",
				Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
		}
	}
}

// hasOrJoins reports whether the container gets a namespace of type t of
// its own or joins one, rather than staying in the host's.
func hasOrJoins(o Options, t specs.LinuxNamespaceType) bool {
	if _, ok := o.Join[t]; ok {
		return true
	}
	return slices.Contains(o.New, t)
}

func hasNamespace(o Options, t specs.LinuxNamespaceType) bool {
	for _, n := range o.New {
		if n == t {
			_, joined := o.Join[t]
			return !joined
		}
	}
	return false
}

func namespaces(o Options) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, t := range []specs.LinuxNamespaceType{
		specs.UserNamespace, specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace,
		specs.UTSNamespace, specs.MountNamespace, specs.CgroupNamespace,
	} {
		if path, ok := o.Join[t]; ok {
			out = append(out, specs.LinuxNamespace{Type: t, Path: path})
			seen[t] = true
		}
	}
	for _, t := range o.New {
		if !seen[t] {
			out = append(out, specs.LinuxNamespace{Type: t})
			seen[t] = true
		}
	}
	return out
}

func environment(env []string) []string {
	out := make([]string, 0, len(env)+2)
	hasPath := false
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			hasPath = true
		}
	}
	if !hasPath {
		out = append(out, DefaultPath)
	}
	out = append(out, env...)
	return out
}

func workDir(dir string) string {
	if dir == "" {
		return "/"
	}
	return filepath.Clean(dir)
}

// capabilitySet applies CapAdd and CapDrop to podman's default set, or to
// the daemon's bounding set for a privileged container, and uses the result
// as the bounding, effective and permitted sets.
func capabilitySet(c *model.Container) (*specs.LinuxCapabilities, error) {
	base := config.DefaultCapabilities
	add := c.CapAdd
	if c.Privileged {
		bounding, err := capabilities.BoundingSet()
		if err != nil {
			return nil, fmt.Errorf("read the bounding set: %w", err)
		}
		base, add = bounding, nil
	}
	caps, err := capabilities.MergeCapabilities(base, add, c.CapDrop)
	if err != nil {
		return nil, err
	}
	return &specs.LinuxCapabilities{
		Bounding:  caps,
		Effective: append([]string(nil), caps...),
		Permitted: append([]string(nil), caps...),
	}, nil
}

// containerOwnDev lists the directories under /dev that every container
// gets its own of, so a privileged container does not copy the host's.
var containerOwnDev = map[string]bool{
	"/dev/pts": true, "/dev/shm": true, "/dev/mqueue": true, "/dev/fd": true,
}

// hostDevices lists the host's character and block devices. runc creates
// each one in the container's /dev; /dev/ptmx and /dev/console are left to
// runc's own setup.
func hostDevices() ([]specs.LinuxDevice, error) {
	var out []specs.LinuxDevice
	err := filepath.WalkDir("/dev", func(path string, entry fs.DirEntry, err error) error {
		if err != nil && path == "/dev" {
			return err
		}
		if err != nil {
			return nil // removed while /dev was read
		}
		if entry.IsDir() && containerOwnDev[path] {
			return filepath.SkipDir
		}
		if path == "/dev/ptmx" || path == "/dev/console" {
			return nil
		}
		if dev, ok := deviceAt(path); ok {
			out = append(out, dev)
		}
		return nil
	})
	return out, err
}

// deviceAt describes the device node at path; ok is false for anything else,
// including a node removed since /dev was read.
func deviceAt(path string) (dev specs.LinuxDevice, ok bool) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return dev, false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		dev.Type = "c"
	case unix.S_IFBLK:
		dev.Type = "b"
	default:
		return dev, false
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	dev.Path = path
	dev.Major = int64(unix.Major(st.Rdev))
	dev.Minor = int64(unix.Minor(st.Rdev))
	dev.FileMode, dev.UID, dev.GID = &mode, &uid, &gid
	return dev, true
}

// rlimits gives containers podman's root defaults for open files and
// processes, lowered to this host's hard limits so runc can apply them.
func rlimits() []specs.POSIXRlimit {
	want := []struct {
		name     string
		resource int
		value    uint64
	}{
		{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE, 1048576},
		{"RLIMIT_NPROC", unix.RLIMIT_NPROC, 4194304},
	}
	var out []specs.POSIXRlimit
	for _, w := range want {
		value := w.value
		var host unix.Rlimit
		if err := unix.Getrlimit(w.resource, &host); err == nil && host.Max < value {
			value = host.Max
		}
		out = append(out, specs.POSIXRlimit{Type: w.name, Hard: value, Soft: value})
	}
	return out
}

// defaultMounts returns the kernel file systems of every container. /sys
// and /sys/fs/cgroup are writable only in a privileged container. /sys is
// also writable in an infra container: every container of the pod's
// network namespace gets the sysfs superblock that the infra container
// creates, and a read-only superblock would leave /sys read-only in
// privileged containers too. Other containers still mount it read-only.
func defaultMounts(c *model.Container) []specs.Mount {
	sysMode, cgroupMode := "ro", "ro"
	if c.Privileged {
		sysMode, cgroupMode = "rw", "rw"
	}
	if c.Infra {
		sysMode = "rw"
	}
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc",
			Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue",
			Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs",
			Options: []string{"nosuid", "noexec", "nodev", sysMode}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
			Options: []string{"nosuid", "noexec", "nodev", "relatime", cgroupMode}},
	}
}

func userMounts(mounts []model.Mount) []specs.Mount {
	var out []specs.Mount
	for _, m := range mounts {
		switch m.Type {
		case model.MountTmpfs:
			out = append(out, specs.Mount{
				Destination: m.Destination, Type: "tmpfs", Source: "tmpfs",
				Options: []string{"nosuid", "nodev", "mode=1777"},
			})
		default:
			opts := []string{"rbind", "rprivate"}
			if m.ReadOnly {
				opts = append(opts, "ro")
			} else {
				opts = append(opts, "rw")
			}
			out = append(out, specs.Mount{
				Destination: m.Destination, Type: "bind", Source: m.Source, Options: opts,
			})
		}
	}
	return out
}
