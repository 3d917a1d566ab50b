package image

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine/model"
)

// shiftedDirName is the directory below a Store's root that holds copies of
// layers owned by the host ids of a user namespace:
// shifted/<uid>-<gid>-<size>/<hex>.
const shiftedDirName = "shifted"

// overflowID owns the files of a shifted copy whose owner in the layer lies
// outside the id map. The kernel shows unmapped owners as this id (nobody)
// inside a user namespace too; it is not the root of any tenant's range.
const overflowID = 65534

// ShiftedLayerDirs returns the directories of img's layers, in the order of
// LayerDirs, as copies in which every owner id N is host id m.HostUID+N
// (m.HostGID+N for groups). In a user namespace with map m, each file then
// shows the owner it has in the image.
//
// Why copies: runc 1.1 cannot give a mount an id map of its own. It
// implements runtime-spec 1.0.2, which has no uidMappings and gidMappings
// on mounts, and runc 1.1.5 silently ignores them there. podplug also
// mounts the overlay on the host before runc runs. Linux 6.18 could idmap
// each lower layer itself (mount_setattr with MOUNT_ATTR_IDMAP) without
// copying, but podplug does not do that yet.
//
// Cost: each copy is created once per layer and id map, atomically (a
// temporary directory renamed into place), and reused by every later
// container. It costs about as much as extracting the layer again, and its
// file data takes the layer's size again: copy_file_range shares extents
// only on file systems with reflinks (btrfs, XFS), not on ext4 or tmpfs.
// BenchmarkShiftBusybox on a 2 vCPU VM with ext4 on a virtual disk (Linux
// 6.18) copies a layer of a 1.9 MB static busybox and 269 symlinks in
// 150-210 ms, where extracting it takes 200-270 ms, because each new inode
// costs about 0.4 ms on that disk; the copy takes 1.9 MiB of disk.
//
// A copy is removed with its layer, when no image lists the layer any
// more, not when the last container of its id map goes away, so a tenant
// pays for a copy once per image.
//
// ShiftedLayerDirs is safe for concurrent use: a caller that needs a copy
// in progress waits for it, so each copy is made once. ctx cancels a copy
// in progress.
func (s *Store) ShiftedLayerDirs(ctx context.Context, img *model.Image, m model.IDMap) (
	[]string, error,
) {
	dirs := make([]string, 0, len(img.Layers))
	for _, digest := range slices.Backward(img.Layers) {
		hexDigest, err := layerHex(digest)
		if err != nil {
			return nil, err
		}
		dir, err := s.shiftedLayer(ctx, hexDigest, m)
		if err != nil {
			return nil, fmt.Errorf("shift owners of layer %s: %w", digest, err)
		}
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs, nil
}

func (s *Store) shiftedDir() string { return filepath.Join(s.root, shiftedDirName) }

// shiftedLayerDir returns the directory of the copy of a layer for m.
func (s *Store) shiftedLayerDir(m model.IDMap, hexDigest string) string {
	key := fmt.Sprintf("%d-%d-%d", m.HostUID, m.HostGID, m.Size)
	return filepath.Join(s.shiftedDir(), key, hexDigest)
}

// shiftedLayer returns the copy of a layer for m, creating it unless it
// exists or another caller is creating it, in which case it waits.
func (s *Store) shiftedLayer(ctx context.Context, hexDigest string, m model.IDMap) (string, error) {
	dst := s.shiftedLayerDir(m, hexDigest)
	for {
		if _, err := os.Lstat(dst); err == nil {
			return dst, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}

		s.shiftMu.Lock()
		if s.shifting == nil {
			s.shifting = map[string]chan struct{}{}
		}
		if done, ok := s.shifting[dst]; ok {
			s.shiftMu.Unlock()
			select {
			case <-done:
				continue // made by the other caller, or failed there: look again
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		done := make(chan struct{})
		s.shifting[dst] = done
		s.shiftMu.Unlock()

		err := s.createShifted(ctx, hexDigest, dst, m)

		s.shiftMu.Lock()
		delete(s.shifting, dst)
		close(done)
		s.shiftMu.Unlock()
		return dst, err
	}
}

// createShifted copies the layer into a temporary directory and renames it
// to dst, unless the layer was removed in the meantime.
func (s *Store) createShifted(ctx context.Context, hexDigest, dst string, m model.IDMap) error {
	start := time.Now()
	tmp, err := os.MkdirTemp(s.tmpDir(), "shift-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // no-op once the copy is in place

	if err := shiftTree(ctx, s.layerDir(hexDigest), tmp, m); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Lstat(s.layerDir(hexDigest)); err != nil {
		return fmt.Errorf("layer %s: %w", hexDigest, errLayerRemoved)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("store shifted copy: %w", err)
	}
	s.log.Info("created shifted layer copy", "layer", hexDigest, "uid", m.HostUID,
		"gid", m.HostGID, "duration", time.Since(start))
	return nil
}

// removeShifted removes the shifted copies of a layer for every id map.
func (s *Store) removeShifted(hexDigest string) error {
	keys, err := os.ReadDir(s.shiftedDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, key := range keys {
		dir := filepath.Join(s.shiftedDir(), key.Name())
		if err := s.removeToTrash(filepath.Join(dir, hexDigest)); err != nil {
			errs = append(errs, err)
		}
		_ = os.Remove(dir) // only succeeds once the id map has no copies left
	}
	return errors.Join(errs...)
}

// removeUnusedShifted removes the shifted copies of layers not in used,
// which maps hex digests of the layers that images list.
func (s *Store) removeUnusedShifted(used map[string]bool) error {
	keys, err := os.ReadDir(s.shiftedDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, key := range keys {
		dir := filepath.Join(s.shiftedDir(), key.Name())
		copies, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, c := range copies {
			if used[c.Name()] {
				continue
			}
			if err := s.removeToTrash(filepath.Join(dir, c.Name())); err != nil {
				return fmt.Errorf("remove unused shifted copy %s: %w", c.Name(), err)
			}
		}
		_ = os.Remove(dir)
	}
	return nil
}

// removeToTrash renames dir into root/tmp, so that a shifted copy is
// either complete or absent, and then removes it. A missing dir is not an
// error.
func (s *Store) removeToTrash(dir string) error {
	trash, err := os.MkdirTemp(s.tmpDir(), "remove-")
	if err != nil {
		return err
	}
	err = os.Rename(dir, filepath.Join(trash, "copy"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.Remove(trash)
		return err
	}
	return os.RemoveAll(trash)
}

// idShift maps the owners of a layer onto the host ids of an id map.
type idShift model.IDMap

func (m idShift) uid(id uint32) uint32 {
	if id >= m.Size {
		return overflowID
	}
	return m.HostUID + id
}

func (m idShift) gid(id uint32) uint32 {
	if id >= m.Size {
		return overflowID
	}
	return m.HostGID + id
}

// inode identifies a file for finding the other names of a hardlink.
type inode struct {
	dev, ino uint64
}

// dirTime is a directory's times, set after its contents are copied.
type dirTime struct {
	path  string
	times []unix.Timespec
}

// shiftTree copies the tree src into the existing directory dst with every
// owner shifted by m. It keeps modes (setuid and setgid included), times,
// extended attributes (overlayfs whiteout and opaque markers among them),
// hardlinks within src, symlinks, device nodes (whiteouts are 0:0
// character devices) and FIFOs. File capabilities and POSIX ACLs are
// rewritten for the shifted ids.
func shiftTree(ctx context.Context, src, dst string, m model.IDMap) error {
	shift := idShift(m)
	links := map[inode]string{}
	var dirs []dirTime
	err := filepath.WalkDir(src, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1 {
			id := inode{dev: st.Dev, ino: st.Ino}
			if first, ok := links[id]; ok {
				return os.Link(first, target)
			}
			links[id] = target
		}
		if err := copyEntry(path, target, rel == ".", &st); err != nil {
			return fmt.Errorf("copy %s: %w", rel, err)
		}
		if err := copyMetadata(path, target, &st, shift); err != nil {
			return fmt.Errorf("copy %s: %w", rel, err)
		}
		times := []unix.Timespec{st.Atim, st.Mtim}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			dirs = append(dirs, dirTime{path: target, times: times})
			return nil
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, target, times, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		return err
	}
	// Children change their directory's modification time, so directories
	// get theirs last, deepest first.
	for _, d := range slices.Backward(dirs) {
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, d.path, d.times, 0); err != nil {
			return fmt.Errorf("set times of %s: %w", d.path, err)
		}
	}
	return nil
}

// copyEntry creates target as a copy of path without its metadata. The
// root directory of the copy exists already.
func copyEntry(path, target string, isRoot bool, st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if isRoot {
			return nil
		}
		return os.Mkdir(target, 0o700)
	case unix.S_IFREG:
		return copyFileData(path, target)
	case unix.S_IFLNK:
		dest, err := os.Readlink(path)
		if err != nil {
			return err
		}
		return os.Symlink(dest, target)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
		return unix.Mknod(target, st.Mode, int(st.Rdev))
	}
	return fmt.Errorf("unknown file type %o", st.Mode&unix.S_IFMT)
}

func copyFileData(path, target string) error {
	in, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	// (*os.File).ReadFrom uses copy_file_range between regular files.
	_, err = io.Copy(out, in)
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	return err
}

// copyMetadata sets the shifted owner, the mode and the extended attributes
// of path on target.
func copyMetadata(path, target string, st *unix.Stat_t, shift idShift) error {
	err := unix.Lchown(target, int(shift.uid(st.Uid)), int(shift.gid(st.Gid)))
	if err != nil {
		return fmt.Errorf("set owner: %w", err)
	}
	// chown clears the setuid and setgid bits, so the mode comes after it.
	// Linux has no mode for symlinks.
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(target, st.Mode&0o7777); err != nil {
			return fmt.Errorf("set mode: %w", err)
		}
	}
	return copyXattrs(path, target, shift)
}

// Extended attributes whose values hold ids.
const (
	xattrCapability = "security.capability"
	xattrACLAccess  = "system.posix_acl_access"
	xattrACLDefault = "system.posix_acl_default"
)

func copyXattrs(path, target string, shift idShift) error {
	names, err := listXattrs(path)
	if err != nil {
		return fmt.Errorf("list xattrs: %w", err)
	}
	for _, name := range names {
		value, err := getXattr(path, name)
		if err != nil {
			return fmt.Errorf("read xattr %s: %w", name, err)
		}
		switch name {
		case xattrCapability:
			value = shiftCapability(value, shift)
		case xattrACLAccess, xattrACLDefault:
			value = shiftACL(value, shift)
		}
		err = unix.Lsetxattr(target, name, value, 0)
		// As in extraction, an attribute the file system does not support
		// is dropped rather than making the image unusable.
		if errors.Is(err, unix.ENOTSUP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("set xattr %s: %w", name, err)
		}
	}
	return nil
}

func listXattrs(path string) ([]string, error) {
	size, err := unix.Llistxattr(path, nil)
	if err != nil || size == 0 {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, err
	}
	buf := make([]byte, size)
	size, err = unix.Llistxattr(path, buf)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range strings.Split(string(buf[:size]), "\x00") {
		if name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}

func getXattr(path, name string) ([]byte, error) {
	size, err := unix.Lgetxattr(path, name, nil)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	size, err = unix.Lgetxattr(path, name, buf)
	if err != nil {
		return nil, err
	}
	return buf[:size], nil
}

// File capability formats (linux/capability.h). Version 2 is 20 bytes and
// applies to the user namespace of the file system's mount. Version 3 adds
// the host uid of the root they apply to.
const (
	vfsCapRevisionMask = 0xff000000
	vfsCapRevision2    = 0x02000000
	vfsCapRevision3    = 0x03000000
	vfsCapV2Size       = 20
	vfsCapV3Size       = 24
)

// shiftCapability rewrites file capabilities as version 3 with the shifted
// root uid, because the kernel ignores version 2 capabilities inside the
// user namespace. Values of another format are kept.
func shiftCapability(value []byte, shift idShift) []byte {
	if len(value) < vfsCapV2Size {
		return value
	}
	magic := binary.LittleEndian.Uint32(value)
	var rootID uint32
	switch {
	case magic&vfsCapRevisionMask == vfsCapRevision2 && len(value) == vfsCapV2Size:
	case magic&vfsCapRevisionMask == vfsCapRevision3 && len(value) == vfsCapV3Size:
		rootID = binary.LittleEndian.Uint32(value[vfsCapV2Size:])
	default:
		return value
	}
	out := make([]byte, vfsCapV3Size)
	copy(out, value[:vfsCapV2Size])
	flags := magic &^ vfsCapRevisionMask
	binary.LittleEndian.PutUint32(out, vfsCapRevision3|flags)
	binary.LittleEndian.PutUint32(out[vfsCapV2Size:], shift.uid(rootID))
	return out
}

// POSIX ACL xattr format (linux/posix_acl_xattr.h): a 4-byte version, then
// 8-byte entries of tag, permissions and id, little-endian.
const (
	aclHeaderSize = 4
	aclEntrySize  = 8
	aclTagUser    = 0x02
	aclTagGroup   = 0x08
)

// shiftACL shifts the ids of the named user and group entries of an ACL.
func shiftACL(value []byte, shift idShift) []byte {
	if len(value) < aclHeaderSize || (len(value)-aclHeaderSize)%aclEntrySize != 0 {
		return value
	}
	out := slices.Clone(value)
	for off := aclHeaderSize; off < len(out); off += aclEntrySize {
		tag := binary.LittleEndian.Uint16(out[off:])
		idField := out[off+4 : off+8]
		switch tag {
		case aclTagUser:
			binary.LittleEndian.PutUint32(idField, shift.uid(binary.LittleEndian.Uint32(idField)))
		case aclTagGroup:
			binary.LittleEndian.PutUint32(idField, shift.gid(binary.LittleEndian.Uint32(idField)))
		}
	}
	return out
}
