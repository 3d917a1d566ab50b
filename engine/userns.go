package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
)

// mountShiftedRootfs mounts the root file system of a container whose pod
// has an id map: the image's layers as copies owned by the mapped ids, and
// upper and work directories owned by the container's root. The container
// directory is group-owned by that root's host gid with mode 0710, so the
// container's root can reach its root file system and other host users
// cannot.
func (e *Engine) mountShiftedRootfs(ctx context.Context, pod *model.Pod, c *model.Container,
	img *model.Image) (string, error) {
	ids := pod.IDMap
	layers, err := e.images.ShiftedLayerDirs(ctx, img, *ids)
	if err != nil {
		return "", fmt.Errorf("container %s: %w", c.Name, err)
	}
	dir := e.containerDir(c)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.Lchown(dir, 0, int(ids.HostGID)); err != nil {
		return "", fmt.Errorf("container %s: %w", c.Name, err)
	}
	if err := os.Chmod(dir, 0o710); err != nil {
		return "", fmt.Errorf("container %s: %w", c.Name, err)
	}
	if err := image.OwnContainerDirs(dir, ids.HostUID, ids.HostGID); err != nil {
		return "", fmt.Errorf("container %s: %w", c.Name, err)
	}
	return image.MountRootfs(layers, dir)
}

// openRootForUserNS lets containers in user namespaces reach their root
// file systems below the engine's root. runc resolves the root file
// system's path inside the container's user namespace, where the host's
// root has no privilege, so every directory on that path must be
// searchable by others. openRootForUserNS gives others search permission,
// but not read permission, on Root and Root/containers. It makes
// Root/volumes private, because runc opens volume sources on the host. It
// returns an error naming the first directory above Root that others
// cannot search, for the operator to fix.
func (e *Engine) openRootForUserNS() error {
	root, err := filepath.Abs(e.cfg.Root)
	if err != nil {
		return err
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("directory %s (mode %04o) above the engine root is not searchable "+
				"by others, so containers in user namespaces cannot reach their root file systems: "+
				"run `chmod o+x %s` or use a root below searchable directories", dir,
				fi.Mode().Perm(), dir)
		}
		if dir == "/" {
			break
		}
	}
	for _, dir := range []string{root, filepath.Join(root, "containers")} {
		if err := addSearch(dir); err != nil {
			return err
		}
	}
	volumes := e.VolumeDir()
	if err := os.Chmod(volumes, 0o700); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// makePrivateDir creates dir with mode 0700, or sets that mode. A container
// outside a user namespace needs no more, and the engine's root may be
// searchable by others (see openRootForUserNS).
func makePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// addSearch creates dir if needed and gives others search permission on it.
func addSearch(dir string) error {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o011 == 0o011 {
		return nil
	}
	return os.Chmod(dir, fi.Mode().Perm()|0o011)
}

// infraMountPoints are the paths the infra container's spec mounts over.
// runc creates missing ones, but in a user namespace it cannot write to the
// infra root file system, which real root owns, so they exist beforehand.
var infraMountPoints = []struct {
	path string
	dir  bool
}{
	{"proc", true}, {"dev", true}, {"sys", true}, {"etc", true},
	{"etc/hosts", false}, {"etc/hostname", false}, {"etc/resolv.conf", false},
}

// makeInfraMountPoints creates infraMountPoints in the infra root file
// system dir.
func makeInfraMountPoints(dir string) error {
	for _, p := range infraMountPoints {
		path := filepath.Join(dir, p.path)
		if p.dir {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
			continue
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|unix.O_NOFOLLOW, 0o644)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// makeVolumeDir creates the data directory dir of a named volume, private
// to root above it, unless it exists. When a pod with id map ids uses the
// volume first, the new directory goes to the container's root, so that
// root in the container can write to it. Later users change nothing.
func makeVolumeDir(dir string, ids *model.IDMap) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil || ids == nil {
		return err
	}
	return os.Lchown(dir, int(ids.HostUID), int(ids.HostGID))
}
