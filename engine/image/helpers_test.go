package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testTime is the modification time of test entries that set none.
var testTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// tarEntry is one entry of a test archive. Zero fields get defaults in
// makeTar: a regular file, mode 0644 (0755 for directories), testTime.
type tarEntry struct {
	name  string
	typ   byte
	body  string
	link  string
	mode  int64
	uid   int
	gid   int
	major int64
	minor int64
	pax   map[string]string
	mtime time.Time
}

func file(name, body string) tarEntry { return tarEntry{name: name, body: body} }

func dir(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeDir} }

func symlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeSymlink, link: target}
}

func hardlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeLink, link: target}
}

// makeTar returns a tar archive of entries, ended by its end-of-archive
// marker.
func makeTar(tb testing.TB, entries ...tarEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := header(e)
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatalf("write header %q: %v", e.name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			tb.Fatalf("write body %q: %v", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatalf("close tar writer: %v", err)
	}
	return buf.Bytes()
}

func header(e tarEntry) *tar.Header {
	hdr := &tar.Header{
		Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode,
		Uid: e.uid, Gid: e.gid, Devmajor: e.major, Devminor: e.minor,
		PAXRecords: e.pax, ModTime: e.mtime,
	}
	if hdr.Typeflag == 0 {
		hdr.Typeflag = tar.TypeReg
	}
	if hdr.Typeflag == tar.TypeReg {
		hdr.Size = int64(len(e.body))
	}
	if hdr.Mode == 0 {
		hdr.Mode = 0o644
		if hdr.Typeflag == tar.TypeDir {
			hdr.Mode = 0o755
		}
	}
	if hdr.ModTime.IsZero() {
		hdr.ModTime = testTime
	}
	return hdr
}

func gzipBytes(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		tb.Fatalf("gzip: %v", err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatalf("gzip: %v", err)
	}
	return buf.Bytes()
}

// requireRoot skips t unless it runs as root, which extraction (chown,
// mknod, trusted.* xattrs) and mounts need.
func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("skipping: needs root for chown, mknod, trusted.* xattrs and mounts")
	}
}

// sandbox returns a destination directory three levels below a fresh
// temporary base, so that escapes through ".." land in base where
// checkOnlyInside finds them.
func sandbox(tb testing.TB) (base, dest string) {
	tb.Helper()
	base = tb.TempDir()
	dest = filepath.Join(base, "a", "b", "dest")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		tb.Fatal(err)
	}
	return base, dest
}

// checkOnlyInside fails tb if base contains anything but dest, its contents
// and the directories leading to it.
func checkOnlyInside(tb testing.TB, base, dest string) {
	tb.Helper()
	err := filepath.WalkDir(base, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dest || strings.HasPrefix(p, dest+"/") || strings.HasPrefix(dest, p+"/") ||
			p == base {
			return nil
		}
		tb.Errorf("found %s outside the destination %s", p, dest)
		return nil
	})
	if err != nil {
		tb.Fatalf("walk %s: %v", base, err)
	}
}

// readFile returns the contents of name, failing tb if it cannot be read.
func readFile(tb testing.TB, name string) string {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatalf("read %s: %v", name, err)
	}
	return string(data)
}
