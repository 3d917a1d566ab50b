package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// extractor writes the entries of one archive below root.
type extractor struct {
	root *rootDir
	// dirs lists the directories whose times are set after the last entry,
	// because creating entries inside a directory changes its mtime.
	dirs []dirTimes
}

type dirTimes struct {
	name         string
	atime, mtime time.Time
}

// cleanName returns name cleaned and relative to the archive root, or
// ErrUnsafePath for a name that is absolute or starts with "..". The archive
// root itself is ".".
func cleanName(name string) (string, error) {
	if path.IsAbs(name) {
		return "", fmt.Errorf("%w: absolute name", ErrUnsafePath)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: name leaves the destination", ErrUnsafePath)
	}
	return clean, nil
}

// extractEntry writes one entry, whose data r returns.
func (e *extractor) extractEntry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err == nil {
		err = checkHeader(name, hdr)
	}
	if err == nil {
		err = e.createEntry(name, hdr, r)
	}
	if err != nil {
		return fmt.Errorf("extract %q: %w", hdr.Name, err)
	}
	return nil
}

// checkHeader rejects what createEntry cannot write, before anything on
// disk changes.
func checkHeader(name string, hdr *tar.Header) error {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeDir, tar.TypeSymlink, tar.TypeLink,
		tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return fmt.Errorf("%w: unsupported entry type %q", ErrInvalidArchive, hdr.Typeflag)
	}
	if name == "." && hdr.Typeflag != tar.TypeDir {
		return fmt.Errorf("%w: the archive root must be a directory", ErrInvalidArchive)
	}
	// -1 as a 32-bit id means "leave unchanged" to chown, so it is rejected.
	if hdr.Uid < 0 || hdr.Uid >= math.MaxUint32 || hdr.Gid < 0 || hdr.Gid >= math.MaxUint32 {
		return fmt.Errorf("%w: owner %d:%d out of range", ErrInvalidArchive, hdr.Uid, hdr.Gid)
	}
	return nil
}

// createEntry creates name, replacing what is there unless both are
// directories, and then sets its metadata.
func (e *extractor) createEntry(name string, hdr *tar.Header, r io.Reader) error {
	dir, base := path.Dir(name), path.Base(name)
	if inWhiteoutMetaDir(dir) {
		return nil
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		return e.createWhiteout(dir, base, hdr)
	}
	if hdr.Typeflag == tar.TypeLink {
		return e.createLink(name, hdr.Linkname)
	}

	parent, err := e.root.mkdirAll(dir)
	if err != nil {
		return fmt.Errorf("create parent directory: %w", err)
	}
	defer unix.Close(parent)

	if err := clearName(parent, base, hdr.Typeflag == tar.TypeDir); err != nil {
		return fmt.Errorf("replace existing entry: %w", err)
	}
	if err := createNode(parent, base, hdr, r); err != nil {
		return err
	}
	return e.setMetadata(parent, base, name, hdr)
}

// clearName removes base from the directory parent, unless it is a
// directory and keepDir is set. A directory is removed with its contents.
// Symlinks are removed, never followed.
func clearName(parent int, base string, keepDir bool) error {
	var st unix.Stat_t
	err := unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}

	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if isDir && keepDir {
		return nil
	}
	if isDir {
		return os.RemoveAll(fdPath(parent, base))
	}
	return unix.Unlinkat(parent, base, 0)
}

// createNode creates base in parent as the file, directory, symlink or
// device that hdr describes.
func createNode(parent int, base string, hdr *tar.Header, r io.Reader) error {
	var err error
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse:
		return writeFile(parent, base, r)
	case tar.TypeDir:
		err = unix.Mkdirat(parent, base, 0o755)
		if errors.Is(err, unix.EEXIST) {
			err = nil
		}
	case tar.TypeSymlink:
		err = unix.Symlinkat(hdr.Linkname, parent, base)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		err = makeNode(parent, base, hdr)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", typeName(hdr.Typeflag), err)
	}
	return nil
}

// writeFile creates base in parent, which must not exist, and copies r into
// it.
func writeFile(parent int, base string, r io.Reader) error {
	flags := unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(parent, base, flags, 0o600)
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	f := os.NewFile(uintptr(fd), base)

	_, err = io.Copy(f, archiveReader{r})
	closeErr := f.Close()
	if err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	if closeErr != nil {
		return fmt.Errorf("write file: %w", closeErr)
	}
	return nil
}

// archiveReader marks read errors from the archive as ErrInvalidArchive, to
// tell them apart from write errors in io.Copy.
type archiveReader struct {
	r io.Reader
}

func (a archiveReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: read data: %w", ErrInvalidArchive, err)
	}
	return n, err
}

func makeNode(parent int, base string, hdr *tar.Header) error {
	kind := map[byte]uint32{
		tar.TypeChar:  unix.S_IFCHR,
		tar.TypeBlock: unix.S_IFBLK,
		tar.TypeFifo:  unix.S_IFIFO,
	}[hdr.Typeflag]
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	// The mode given here is reduced by the umask, so setMetadata sets it
	// again.
	return unix.Mknodat(parent, base, kind|0o600, int(dev))
}

// createLink creates the hardlink name to target, both relative to the
// archive root. Its metadata is the target's, so the header's is not
// applied.
func (e *extractor) createLink(name, linkname string) error {
	target, err := cleanName(linkname)
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", linkname, err)
	}
	if target == name {
		return nil
	}

	targetDir, err := e.root.openDir(path.Dir(target))
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", linkname, err)
	}
	defer unix.Close(targetDir)
	parent, err := e.root.mkdirAll(path.Dir(name))
	if err != nil {
		return fmt.Errorf("create parent directory: %w", err)
	}
	defer unix.Close(parent)

	base := path.Base(name)
	if err := clearName(parent, base, false); err != nil {
		return fmt.Errorf("replace existing entry: %w", err)
	}
	// Flags 0: a target that is a symlink is linked itself, not followed.
	if err := unix.Linkat(targetDir, path.Base(target), parent, base, 0); err != nil {
		return fmt.Errorf("create hardlink to %q: %w", linkname, err)
	}
	return nil
}

// setMetadata sets the owner, mode, extended attributes and times of base
// in parent. Directory times are only recorded, for setDirTimes.
func (e *extractor) setMetadata(parent int, base, name string, hdr *tar.Header) error {
	err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("set owner %d:%d: %w", hdr.Uid, hdr.Gid, err)
	}

	// chown clears the setuid and setgid bits, so the mode comes after it.
	// Linux has no mode for symlinks. Fchmodat follows a symlink, but base
	// was just created as something else.
	if hdr.Typeflag != tar.TypeSymlink {
		mode := uint32(hdr.Mode) & 0o7777
		if err := unix.Fchmodat(parent, base, mode, 0); err != nil {
			return fmt.Errorf("set mode %04o: %w", mode, err)
		}
	}

	if err := setXattrs(parent, base, hdr.PAXRecords); err != nil {
		return err
	}

	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	if hdr.Typeflag == tar.TypeDir {
		e.dirs = append(e.dirs, dirTimes{name: name, atime: atime, mtime: hdr.ModTime})
		return nil
	}
	return setTimes(parent, base, atime, hdr.ModTime)
}

// paxXattrPrefix starts the PAX record keys that carry extended attributes,
// as GNU tar, bsdtar and archive/tar write them.
const paxXattrPrefix = "SCHILY.xattr."

// overlayXattrPrefix starts the attributes that overlayfs interprets, such
// as opaque and redirect. Only whiteout conversion may set them: an archive
// that sets them could make one layer show another layer's files.
const overlayXattrPrefix = "trusted.overlay."

// setXattrs sets the extended attributes in records on base, in key order.
func setXattrs(parent int, base string, records map[string]string) error {
	keys := make([]string, 0, len(records))
	for key := range records {
		if strings.HasPrefix(key, paxXattrPrefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)

	for _, key := range keys {
		attr := strings.TrimPrefix(key, paxXattrPrefix)
		if strings.HasPrefix(attr, overlayXattrPrefix) {
			return fmt.Errorf("%w: archive sets overlay attribute %s", ErrInvalidArchive, attr)
		}
		err := unix.Lsetxattr(fdPath(parent, base), attr, []byte(records[key]), 0)
		// A file system without a namespace (such as user.* on an older
		// tmpfs) returns ENOTSUP. The attribute is skipped: the file is
		// still usable, and failing would make the image unusable there.
		if errors.Is(err, unix.ENOTSUP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("set xattr %s: %w", attr, err)
		}
	}
	return nil
}

// setTimes sets the access and modification times of base in parent,
// without following a symlink.
func setTimes(parent int, base string, atime, mtime time.Time) error {
	times := make([]unix.Timespec, 2)
	var err error
	if times[0], err = unix.TimeToTimespec(atime); err != nil {
		return fmt.Errorf("set times: access time %v: %w", atime, err)
	}
	if times[1], err = unix.TimeToTimespec(mtime); err != nil {
		return fmt.Errorf("set times: modification time %v: %w", mtime, err)
	}
	if err := unix.UtimesNanoAt(parent, base, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

// setDirTimes sets the times recorded for directories, in archive order so
// that a later entry for the same directory wins. A directory that a later
// entry replaced or removed is skipped.
func (e *extractor) setDirTimes() error {
	for _, d := range e.dirs {
		if err := e.setDirTime(d); err != nil {
			return fmt.Errorf("extract %q: %w", d.name, err)
		}
	}
	return nil
}

func (e *extractor) setDirTime(d dirTimes) error {
	parent, err := e.root.openDir(path.Dir(d.name))
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(parent)

	base := path.Base(d.name)
	var st unix.Stat_t
	err = unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) || (err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR) {
		return nil
	}
	if err != nil {
		return err
	}
	return setTimes(parent, base, d.atime, d.mtime)
}

// typeName names a tar entry type in error messages.
func typeName(flag byte) string {
	switch flag {
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "fifo"
	}
	return "file"
}
