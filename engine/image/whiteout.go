package image

import (
	"archive/tar"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// OCI layer whiteout names (image-spec, layer.md).
const (
	// whiteoutPrefix marks ".wh.NAME": NAME is deleted in this layer.
	whiteoutPrefix = ".wh."
	// whiteoutMetaPrefix starts names reserved for metadata, such as the
	// opaque marker and AUFS's ".wh..wh.plnk" hardlink directory.
	whiteoutMetaPrefix = whiteoutPrefix + whiteoutPrefix
	// opaqueWhiteout hides everything that lower layers have in its
	// directory.
	opaqueWhiteout = whiteoutMetaPrefix + ".opq"
)

// overlayOpaqueXattr marks a directory opaque to overlayfs.
const overlayOpaqueXattr = "trusted.overlay.opaque"

// inWhiteoutMetaDir reports whether dir is or is inside a directory with a
// reserved ".wh..wh." name, such as AUFS's ".wh..wh.plnk", whose contents
// have no overlayfs meaning and are skipped.
// NOTE: AUFS archives that hardlink to files in ".wh..wh.plnk" therefore
// fail with a missing hardlink target.
func inWhiteoutMetaDir(dir string) bool {
	for _, component := range strings.Split(dir, "/") {
		if strings.HasPrefix(component, whiteoutMetaPrefix) {
			return true
		}
	}
	return false
}

// createWhiteout turns the OCI whiteout base in dir into its overlayfs
// form: an opaque marker sets trusted.overlay.opaque=y on dir, and
// ".wh.NAME" becomes a character device 0:0 named NAME with the header's
// owner. Other reserved ".wh..wh." names have no overlayfs meaning and are
// skipped.
func (e *extractor) createWhiteout(dir, base string, hdr *tar.Header) error {
	if base != opaqueWhiteout && strings.HasPrefix(base, whiteoutMetaPrefix) {
		return nil
	}
	target := strings.TrimPrefix(base, whiteoutPrefix)
	if target == "" || target == "." || target == ".." {
		return fmt.Errorf("%w: whiteout %q names no file", ErrInvalidArchive, base)
	}

	parent, err := e.root.mkdirAll(dir)
	if err != nil {
		return fmt.Errorf("create parent directory: %w", err)
	}
	defer unix.Close(parent)

	if base == opaqueWhiteout {
		err := unix.Lsetxattr(fdPath(parent, "."), overlayOpaqueXattr, []byte("y"), 0)
		if err != nil {
			return fmt.Errorf("mark directory opaque: %w", err)
		}
		return nil
	}

	if err := clearName(parent, target, false); err != nil {
		return fmt.Errorf("replace existing entry: %w", err)
	}
	if err := unix.Mknodat(parent, target, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("create whiteout: %w", err)
	}
	err = unix.Fchownat(parent, target, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("set owner %d:%d: %w", hdr.Uid, hdr.Gid, err)
	}
	return nil
}
