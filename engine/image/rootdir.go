package image

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// rootDir is an open directory that names are resolved in as if it were the
// root directory, so that no name and no symlink can lead outside it.
type rootDir struct {
	fd int
}

func openRoot(dir string) (*rootDir, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open destination %s: %w", dir, err)
	}
	return &rootDir{fd: fd}, nil
}

func (r *rootDir) close() {
	unix.Close(r.fd)
}

// maxResolveRetries bounds the retries of openat2, which fails with EAGAIN
// under RESOLVE_IN_ROOT when a rename elsewhere on the file system raced
// with the lookup.
const maxResolveRetries = 16

// openDir opens the directory rel, a cleaned relative name, as an O_PATH
// descriptor. The kernel resolves ".." and every symlink on the way with r
// as the root (RESOLVE_IN_ROOT), so an absolute symlink target such as /etc
// means r/etc. Magic links such as /proc/self/root are rejected.
func (r *rootDir) openDir(rel string) (int, error) {
	openHow := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for range maxResolveRetries {
		fd, err := unix.Openat2(r.fd, rel, &openHow)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "openat2", Path: rel, Err: err}
		}
		return fd, nil
	}
	return -1, &os.PathError{Op: "openat2", Path: rel, Err: unix.EAGAIN}
}

// openFile opens the regular file rel for reading. Unlike openDir it
// follows no symlink at all (RESOLVE_NO_SYMLINKS), and it rejects anything
// but a regular file.
func (r *rootDir) openFile(rel string) (*os.File, error) {
	openHow := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	var fd int
	var err error
	for range maxResolveRetries {
		fd, err = unix.Openat2(r.fd, rel, &openHow)
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: rel, Err: err}
	}

	f := os.NewFile(uintptr(fd), rel)
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", rel)
	}
	return f, nil
}

// mkdirAll opens the directory rel like openDir, first creating the missing
// directories on the way with mode 0755.
func (r *rootDir) mkdirAll(rel string) (int, error) {
	fd, err := r.openDir(rel)
	if err == nil || !errors.Is(err, unix.ENOENT) || rel == "." {
		return fd, err
	}

	parent, err := r.mkdirAll(path.Dir(rel))
	if err != nil {
		return -1, err
	}
	defer unix.Close(parent)

	// EEXIST means rel is there but could not be opened, such as a
	// dangling symlink: the second openDir below returns that error.
	err = unix.Mkdirat(parent, path.Base(rel), 0o755)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, &os.PathError{Op: "mkdirat", Path: rel, Err: err}
	}
	return r.openDir(rel)
}

// fdPath returns a path that names base inside the directory open as fd.
// The kernel follows the /proc/self/fd link to the directory itself, and
// calls that do not follow symlinks (lsetxattr, os.RemoveAll) then act on
// base without following it. This needs /proc mounted.
func fdPath(fd int, base string) string {
	return "/proc/self/fd/" + strconv.Itoa(fd) + "/" + base
}
