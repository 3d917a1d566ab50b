package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// archiveDir is an image archive (a docker-archive or an OCI layout in a
// tar stream) unpacked into a private directory. Only its directories and
// regular files are on disk. Its symlinks and hardlinks are kept in links
// and resolved by open, so nothing on disk points anywhere and readers that
// use plain paths, such as go-containerregistry's layout package, cannot
// be led outside the directory.
type archiveDir struct {
	dir  string
	root *rootDir
	// links maps the cleaned name of each symlink and hardlink to its
	// cleaned target, both relative to the archive root.
	links map[string]string
}

// maxLinkHops bounds how many links resolve follows for one name, so that
// link cycles fail instead of looping.
const maxLinkHops = 40

// unpackArchive unpacks the tar stream r, plain or compressed as Extract
// accepts it, into the existing empty directory dir. Entries other than
// directories, regular files, symlinks and hardlinks fail with
// ErrInvalidArchive, as do a truncated or corrupt stream and a link that
// leaves the archive. unpackArchive checks ctx between entries. On error
// the caller removes dir.
func unpackArchive(ctx context.Context, r io.Reader, dir string) (*archiveDir, error) {
	stream, err := decompress(r)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	hr := newHashingReader(stream)

	root, err := openRoot(dir)
	if err != nil {
		return nil, err
	}
	a := &archiveDir{dir: dir, root: root, links: make(map[string]string)}
	if err := a.unpackAll(ctx, tar.NewReader(hr)); err != nil {
		a.close()
		return nil, err
	}
	if err := finishStream(hr); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *archiveDir) close() {
	a.root.close()
}

func (a *archiveDir) unpackAll(ctx context.Context, tr *tar.Reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("unpack archive: %w", err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: read entry header: %w", ErrInvalidArchive, err)
		}
		if err := a.unpackEntry(hdr, tr); err != nil {
			return fmt.Errorf("unpack %q: %w", hdr.Name, err)
		}
	}
}

// unpackEntry writes one entry. A later entry with the same name replaces
// an earlier one, as tar(1) does.
func (a *archiveDir) unpackEntry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "." {
		if hdr.Typeflag == tar.TypeDir {
			return nil
		}
		return fmt.Errorf("%w: the archive root must be a directory", ErrInvalidArchive)
	}

	switch hdr.Typeflag {
	case tar.TypeDir:
		delete(a.links, name)
		fd, err := a.root.mkdirAll(name)
		if err != nil {
			return err
		}
		unix.Close(fd)
		return nil
	case tar.TypeReg:
		delete(a.links, name)
		return a.writeFile(name, r)
	case tar.TypeSymlink:
		return a.addLink(name, symlinkTarget(name, hdr.Linkname))
	case tar.TypeLink:
		return a.addLink(name, hdr.Linkname)
	}
	return fmt.Errorf("%w: unsupported entry type %q in an image archive",
		ErrInvalidArchive, hdr.Typeflag)
}

func (a *archiveDir) writeFile(name string, r io.Reader) error {
	parent, err := a.root.mkdirAll(path.Dir(name))
	if err != nil {
		return fmt.Errorf("create parent directory: %w", err)
	}
	defer unix.Close(parent)

	base := path.Base(name)
	if err := clearName(parent, base, false); err != nil {
		return fmt.Errorf("replace existing entry: %w", err)
	}
	return writeFile(parent, base, r)
}

// symlinkTarget returns the target of the symlink name as a name relative
// to the archive root: an absolute target starts at the archive root, a
// relative one at the symlink's directory.
func symlinkTarget(name, linkname string) string {
	if path.IsAbs(linkname) {
		return strings.TrimPrefix(path.Clean(linkname), "/")
	}
	return path.Join(path.Dir(name), linkname)
}

// addLink records name as a link to target and removes a file of that name
// that an earlier entry wrote.
func (a *archiveDir) addLink(name, target string) error {
	clean, err := cleanName(target)
	if err != nil {
		return fmt.Errorf("link target %q: %w", target, err)
	}
	a.links[name] = clean

	parent, err := a.root.openDir(path.Dir(name))
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	return clearName(parent, path.Base(name), false)
}

// resolve returns name with each link in it, in any component, replaced by
// the link's target.
func (a *archiveDir) resolve(name string) (string, error) {
	clean, err := cleanName(name)
	if err != nil {
		return "", err
	}
	for range maxLinkHops {
		next, replaced := a.replaceLink(clean)
		if !replaced {
			return clean, nil
		}
		clean = next
	}
	return "", fmt.Errorf("%w: %q: more than %d links, or a link cycle",
		ErrInvalidArchive, name, maxLinkHops)
}

// replaceLink replaces the shortest leading part of name that is a link by
// the link's target.
func (a *archiveDir) replaceLink(name string) (string, bool) {
	if len(a.links) == 0 || name == "." {
		return name, false
	}
	parts := strings.Split(name, "/")
	for i := 1; i <= len(parts); i++ {
		target, ok := a.links[strings.Join(parts[:i], "/")]
		if ok {
			return path.Join(target, strings.Join(parts[i:], "/")), true
		}
	}
	return name, false
}

// open opens the regular file that name, after resolve, names in the
// archive, and returns it with its size.
func (a *archiveDir) open(name string) (*os.File, int64, error) {
	resolved, err := a.resolve(name)
	if err != nil {
		return nil, 0, err
	}
	f, err := a.root.openFile(resolved)
	if errors.Is(err, unix.ENOENT) {
		return nil, 0, fmt.Errorf("%w: %q is missing from the archive", ErrInvalidArchive, name)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %q: %w", ErrInvalidArchive, name, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, info.Size(), nil
}

// has reports whether the archive contains name as a regular file.
func (a *archiveDir) has(name string) bool {
	f, _, err := a.open(name)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// readFile returns the contents of the regular file name, which must not be
// larger than maxSize bytes.
func (a *archiveDir) readFile(name string, maxSize int64) ([]byte, error) {
	f, size, err := a.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > maxSize {
		return nil, fmt.Errorf("%w: %q is %d bytes, more than the maximum of %d",
			ErrInvalidArchive, name, size, maxSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSize))
	if err != nil {
		return nil, fmt.Errorf("read %q from the archive: %w", name, err)
	}
	return data, nil
}
