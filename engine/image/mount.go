package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Directories that MountRootfs creates in a container directory.
const (
	upperDirName  = "upper"  // the container's changes
	workDirName   = "work"   // overlayfs scratch space, on the same file system as upper
	mergedDirName = "merged" // the mount point: the container's root file system
)

// maxUnmounts bounds the unmount loop of UnmountRootfs, which unmounts
// mounts stacked on the same directory one by one.
const maxUnmounts = 16

// MountRootfs mounts an overlay file system on containerDir/merged and
// returns that path. layerDirs are the lower directories, top-most first, as
// Store.LayerDirs returns them; a single layer works too. The container's
// changes go to containerDir/upper. MountRootfs creates the three
// directories and containerDir itself as needed.
//
// If merged is already a mount point, MountRootfs returns it as it is,
// without comparing its options with layerDirs.
//
// The mount options are passed to mount(2), which accepts at most one page
// (4096 bytes on x86_64) of them, so the layer paths together must stay
// under about 3.5 KiB: some 30 layers below a root path of 40 characters.
// Longer lists fail with an error that says so. Layer paths must not
// contain ':' or ',', the separators of overlayfs options.
func MountRootfs(layerDirs []string, containerDir string) (string, error) {
	merged := filepath.Join(containerDir, mergedDirName)
	data, err := overlayOptions(layerDirs, containerDir)
	if err != nil {
		return "", fmt.Errorf("mount root file system %s: %w", merged, err)
	}
	if err := makeContainerDirs(containerDir); err != nil {
		return "", fmt.Errorf("mount root file system %s: %w", merged, err)
	}

	mounted, err := isMountPoint(merged)
	if err != nil {
		return "", fmt.Errorf("mount root file system %s: %w", merged, err)
	}
	if mounted {
		return merged, nil
	}
	if err := unix.Mount("overlay", merged, "overlay", 0, data); err != nil {
		return "", fmt.Errorf("mount root file system %s: mount overlay: %w", merged, err)
	}
	return merged, nil
}

// overlayOptions returns the overlayfs mount options for layerDirs and the
// upper and work directories of containerDir.
func overlayOptions(layerDirs []string, containerDir string) (string, error) {
	if len(layerDirs) == 0 {
		return "", errors.New("no layer directories")
	}
	dirs := make([]string, 0, len(layerDirs)+1)
	dirs = append(dirs, layerDirs...)
	dirs = append(dirs, containerDir)
	for i, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		if strings.ContainsAny(abs, ":,") {
			return "", fmt.Errorf("path %q contains ':' or ',', which overlayfs options "+
				"cannot carry", abs)
		}
		dirs[i] = abs
	}
	lower, container := dirs[:len(layerDirs)], dirs[len(layerDirs)]

	data := "lowerdir=" + strings.Join(lower, ":") +
		",upperdir=" + filepath.Join(container, upperDirName) +
		",workdir=" + filepath.Join(container, workDirName)
	if len(data) >= os.Getpagesize() {
		return "", fmt.Errorf("overlay options for %d layers are %d bytes long, "+
			"more than mount(2) accepts (%d)", len(layerDirs), len(data), os.Getpagesize()-1)
	}
	return data, nil
}

// OwnContainerDirs creates the directories MountRootfs uses in containerDir
// and gives the upper and work directories to uid and gid, the host ids of
// root in the container's user namespace, so that root there owns the
// container's root directory. Their contents keep their owners.
func OwnContainerDirs(containerDir string, uid, gid uint32) error {
	if err := makeContainerDirs(containerDir); err != nil {
		return err
	}
	for _, name := range []string{upperDirName, workDirName} {
		if err := os.Lchown(filepath.Join(containerDir, name), int(uid), int(gid)); err != nil {
			return err
		}
	}
	return nil
}

func makeContainerDirs(containerDir string) error {
	for _, name := range []string{upperDirName, workDirName, mergedDirName} {
		if err := os.MkdirAll(filepath.Join(containerDir, name), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// UnmountRootfs unmounts containerDir/merged, detaching it lazily
// (MNT_DETACH) when it is busy. It does nothing when merged is not mounted
// or does not exist. It leaves the upper and work directories, which hold
// the container's changes, for the caller to remove with the container.
func UnmountRootfs(containerDir string) error {
	merged := filepath.Join(containerDir, mergedDirName)
	for range maxUnmounts {
		mounted, err := isMountPoint(merged)
		if err != nil {
			return fmt.Errorf("unmount root file system %s: %w", merged, err)
		}
		if !mounted {
			return nil
		}

		err = unix.Unmount(merged, 0)
		if errors.Is(err, unix.EBUSY) {
			err = unix.Unmount(merged, unix.MNT_DETACH)
		}
		// EINVAL: another process unmounted it after the check.
		if err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount root file system %s: %w", merged, err)
		}
	}
	return fmt.Errorf("unmount root file system %s: still mounted after %d unmounts",
		merged, maxUnmounts)
}

// isMountPoint reports whether dir is a mount point in this process's mount
// namespace, from /proc/self/mountinfo. A missing dir is not.
func isMountPoint(dir string) (bool, error) {
	resolved, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	resolved, err = filepath.Abs(resolved)
	if err != nil {
		return false, err
	}

	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		// Field 5 is the mount point, with space, tab, newline and
		// backslash written as octal escapes, so it contains no spaces.
		fields := strings.Fields(line)
		if len(fields) > 4 && unescapeMountPath(fields[4]) == resolved {
			return true, nil
		}
	}
	return false, nil
}

// unescapeMountPath decodes the \NNN octal escapes of /proc mount tables.
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			n, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
			b.WriteByte(byte(n))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	for _, c := range s {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}
