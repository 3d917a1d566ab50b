package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// volumeKind is the kind of host object that a pod volume becomes.
type volumeKind int

const (
	// volumeEmptyDir is a named volume unique to the pod, removed by
	// `kube down`.
	volumeEmptyDir volumeKind = iota
	// volumeMemory is an emptyDir with medium Memory: a tmpfs, when only
	// one container mounts it.
	volumeMemory
	// volumeHostPath is a bind mount of a host path.
	volumeHostPath
	// volumeClaim is a named volume called after the claim, which stays
	// after `kube down`.
	volumeClaim
)

// volume is one entry of spec.volumes.
type volume struct {
	name     string
	kind     volumeKind
	source   string // host path or claim name
	hostType string // v1.HostPathType of a hostPath
	readOnly bool   // every mount of it is read-only
	path     string // field path, for messages
	users    []string
}

// mount is a container's use of a volume.
type mount struct {
	volume      *volume
	destination string
	readOnly    bool
}

// volumeOption returns the engine's -v option for the mount of a pod with
// podID.
func (m mount) volumeOption(podID string) string {
	source := m.volume.source
	if m.volume.kind == volumeEmptyDir || m.volume.kind == volumeMemory {
		source = EmptyDirVolume(podID, m.volume.name)
	}
	option := source + ":" + m.destination
	if m.readOnly {
		option += ":ro"
	}
	return option
}

// HostPath is a hostPath volume: a path on the host and the Kubernetes
// type that the file at the path must have.
type HostPath struct {
	Path string
	// Type is a v1.HostPathType, such as DirectoryOrCreate; empty means no
	// check.
	Type string
}

var hostPathTypes = map[v1.HostPathType]bool{
	v1.HostPathUnset: true, v1.HostPathDirectoryOrCreate: true, v1.HostPathDirectory: true,
	v1.HostPathFileOrCreate: true, v1.HostPathFile: true, v1.HostPathSocket: true,
	v1.HostPathCharDev: true, v1.HostPathBlockDev: true,
}

func (t *translator) translateVolumes() error {
	t.volumes = map[string]*volume{}
	for i, v := range t.pod.Spec.Volumes {
		path := fmt.Sprintf("spec.volumes[%d]", i)
		if v.Name == "" || !validName.MatchString(v.Name) {
			return t.invalid(path+".name", "%q: use letters, digits, _ . - and start with a letter or digit",
				v.Name)
		}
		if _, dup := t.volumes[v.Name]; dup {
			return t.invalid(path+".name", "%s: another volume of pod %s has this name", v.Name, t.out.Name)
		}
		vol, err := t.translateVolume(v, path)
		if err != nil {
			return err
		}
		t.volumes[v.Name] = vol
	}
	return nil
}

func (t *translator) translateVolume(v v1.Volume, path string) (*volume, error) {
	vol := &volume{name: v.Name, path: path}
	types := 0
	if v.EmptyDir != nil {
		types++
		switch v.EmptyDir.Medium {
		case v1.StorageMediumDefault:
			vol.kind = volumeEmptyDir
		case v1.StorageMediumMemory:
			vol.kind = volumeMemory
		default:
			return nil, t.unsupported(path+".emptyDir.medium",
				"%q is not supported: use Memory or leave it out",
				v.EmptyDir.Medium)
		}
	}
	if v.HostPath != nil {
		types++
		if err := t.translateHostPath(v.HostPath, path+".hostPath", vol); err != nil {
			return nil, err
		}
	}
	if claim := v.PersistentVolumeClaim; claim != nil {
		types++
		if !validName.MatchString(claim.ClaimName) {
			return nil, t.invalid(path+".persistentVolumeClaim.claimName",
				"%q: use letters, digits, _ . - and start with a letter or digit", claim.ClaimName)
		}
		vol.kind, vol.source, vol.readOnly = volumeClaim, claim.ClaimName, claim.ReadOnly
	}
	switch types {
	case 0:
		return nil, t.invalid(path, "volume %s has no type: use emptyDir, hostPath or persistentVolumeClaim",
			v.Name)
	case 1:
		return vol, nil
	}
	return nil, t.invalid(path, "volume %s has %d types: give one", v.Name, types)
}

func (t *translator) translateHostPath(h *v1.HostPathVolumeSource, path string, vol *volume) error {
	if !filepath.IsAbs(h.Path) || strings.Contains(h.Path, ":") {
		return t.invalid(path+".path", "%q: use an absolute path without ':'", h.Path)
	}
	hostType := v1.HostPathUnset
	if h.Type != nil {
		hostType = *h.Type
	}
	if !hostPathTypes[hostType] {
		return t.invalid(path+".type", "%q: use DirectoryOrCreate, Directory, FileOrCreate, File, Socket, "+
			"CharDevice, BlockDevice or leave it out", hostType)
	}
	vol.kind, vol.source, vol.hostType = volumeHostPath, filepath.Clean(h.Path), string(hostType)
	return nil
}

// containerMounts translates a container's volumeMounts.
func (t *translator) containerMounts(c *v1.Container, path string, ctr *container) error {
	seen := map[string]bool{}
	for i, vm := range c.VolumeMounts {
		mountPath := fmt.Sprintf("%s.volumeMounts[%d]", path, i)
		vol, ok := t.volumes[vm.Name]
		if !ok {
			return t.invalid(mountPath+".name", "no volume %q in spec.volumes", vm.Name)
		}
		if !filepath.IsAbs(vm.MountPath) || strings.Contains(vm.MountPath, ":") {
			return t.invalid(mountPath+".mountPath", "%q: use an absolute path without ':'", vm.MountPath)
		}
		destination := filepath.Clean(vm.MountPath)
		if seen[destination] {
			return t.invalid(mountPath+".mountPath", "%s is mounted twice in container %s",
				destination, c.Name)
		}
		seen[destination] = true
		if vol.kind == volumeMemory && vm.ReadOnly {
			t.warn(mountPath+".readOnly",
				"a Memory emptyDir is a tmpfs that starts empty: readOnly is ignored")
		}
		vol.users = append(vol.users, c.Name)
		ctr.mounts = append(ctr.mounts, mount{volume: vol, destination: destination,
			readOnly: vm.ReadOnly || vol.readOnly})
	}
	return nil
}

// checkVolumeUse turns a Memory emptyDir that several containers mount
// into a volume on disk, because each container gets a tmpfs of its own.
func (t *translator) checkVolumeUse() error {
	for _, v := range t.pod.Spec.Volumes {
		vol := t.volumes[v.Name]
		if vol.kind == volumeMemory && len(vol.users) > 1 {
			t.warn(vol.path+".emptyDir.medium", "containers %s share this volume, and a tmpfs cannot be "+
				"shared: it is a volume on disk", strings.Join(vol.users, ", "))
			vol.kind = volumeEmptyDir
		}
	}
	return nil
}

// PrepareHostPaths checks each hostPath against its type and creates the
// DirectoryOrCreate and FileOrCreate ones that are missing, as the kubelet
// does. It changes the host, so the daemon calls it only after policy
// allowed the container that mounts them.
func PrepareHostPaths(paths []HostPath) error {
	for _, h := range paths {
		if err := prepareHostPath(h); err != nil {
			return fmt.Errorf("hostPath %s: %w", h.Path, err)
		}
	}
	return nil
}

func prepareHostPath(h HostPath) error {
	info, err := os.Stat(h.Path)
	missing := errors.Is(err, fs.ErrNotExist)
	switch {
	case missing && h.Type == string(v1.HostPathDirectoryOrCreate):
		return os.MkdirAll(h.Path, 0o755)
	case missing && h.Type == string(v1.HostPathFileOrCreate):
		if err := os.MkdirAll(filepath.Dir(h.Path), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(h.Path, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		return f.Close()
	case missing:
		return fmt.Errorf("does not exist: create it first: %w", ErrInvalid)
	case err != nil:
		return err
	}
	want := map[string]fs.FileMode{
		string(v1.HostPathDirectoryOrCreate): fs.ModeDir, string(v1.HostPathDirectory): fs.ModeDir,
		string(v1.HostPathFileOrCreate): 0, string(v1.HostPathFile): 0,
		string(v1.HostPathSocket):   fs.ModeSocket,
		string(v1.HostPathCharDev):  fs.ModeDevice | fs.ModeCharDevice,
		string(v1.HostPathBlockDev): fs.ModeDevice,
	}
	mode, checked := want[h.Type]
	if !checked || info.Mode().Type() == mode {
		return nil
	}
	return fmt.Errorf("is not of type %s: %w", h.Type, ErrInvalid)
}
