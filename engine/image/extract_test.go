package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func lstat(t *testing.T, name string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(name, &st); err != nil {
		t.Fatalf("lstat %s: %v", name, err)
	}
	return &st
}

func checkType(t *testing.T, name string, want uint32) *unix.Stat_t {
	t.Helper()
	st := lstat(t, name)
	if got := st.Mode & unix.S_IFMT; got != want {
		t.Errorf("%s: file type %#o, want %#o", name, got, want)
	}
	return st
}

func checkMode(t *testing.T, name string, want uint32) {
	t.Helper()
	if got := lstat(t, name).Mode & 0o7777; got != want {
		t.Errorf("%s: mode %04o, want %04o", name, got, want)
	}
}

func checkMtime(t *testing.T, name string, want time.Time) {
	t.Helper()
	st := lstat(t, name)
	if got := time.Unix(st.Mtim.Unix()); !got.Equal(want) {
		t.Errorf("%s: mtime %v, want %v", name, got, want)
	}
}

func checkXattr(t *testing.T, name, attr, want string) {
	t.Helper()
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(name, attr, buf)
	if err != nil {
		t.Errorf("%s: get xattr %s: %v", name, attr, err)
		return
	}
	if got := string(buf[:n]); got != want {
		t.Errorf("%s: xattr %s = %q, want %q", name, attr, got, want)
	}
}

func checkSymlink(t *testing.T, name, want string) {
	t.Helper()
	got, err := os.Readlink(name)
	if err != nil {
		t.Errorf("readlink %s: %v", name, err)
		return
	}
	if got != want {
		t.Errorf("%s: symlink target %q, want %q", name, got, want)
	}
}

func checkContent(t *testing.T, name, want string) {
	t.Helper()
	if got := readFile(t, name); got != want {
		t.Errorf("%s: content %q, want %q", name, got, want)
	}
}

func TestExtract(t *testing.T) {
	requireRoot(t)
	later := testTime.Add(time.Hour)
	tests := []struct {
		name    string
		entries []tarEntry
		check   func(t *testing.T, dest string)
	}{
		{
			name: "regular file with owner and mtime",
			entries: []tarEntry{{name: "etc/motd", body: "hello", mode: 0o640,
				uid: 1000, gid: 2000, mtime: later}},
			check: func(t *testing.T, dest string) {
				p := filepath.Join(dest, "etc/motd")
				checkContent(t, p, "hello")
				checkMode(t, p, 0o640)
				checkMtime(t, p, later)
				st := lstat(t, p)
				if st.Uid != 1000 || st.Gid != 2000 {
					t.Errorf("owner %d:%d, want 1000:2000", st.Uid, st.Gid)
				}
			},
		},
		{
			name: "setuid and sticky bits",
			entries: []tarEntry{
				{name: "bin/su", body: "x", mode: 0o4755, uid: 0},
				{name: "bin/wall", body: "x", mode: 0o2755, gid: 5},
				{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
			},
			check: func(t *testing.T, dest string) {
				checkMode(t, filepath.Join(dest, "bin/su"), 0o4755)
				checkMode(t, filepath.Join(dest, "bin/wall"), 0o2755)
				checkMode(t, filepath.Join(dest, "tmp"), 0o1777)
			},
		},
		{
			name: "directory times set after its entries",
			entries: []tarEntry{
				{name: "d/", typ: tar.TypeDir, mode: 0o700, mtime: later},
				file("d/f", "x"),
			},
			check: func(t *testing.T, dest string) {
				checkMode(t, filepath.Join(dest, "d"), 0o700)
				checkMtime(t, filepath.Join(dest, "d"), later)
			},
		},
		{
			name:    "missing parents created",
			entries: []tarEntry{file("x/y/z", "deep")},
			check: func(t *testing.T, dest string) {
				checkContent(t, filepath.Join(dest, "x/y/z"), "deep")
				checkType(t, filepath.Join(dest, "x/y"), unix.S_IFDIR)
			},
		},
		{
			name:    "root entry sets destination mode",
			entries: []tarEntry{{name: "./", typ: tar.TypeDir, mode: 0o750}, file("./f", "x")},
			check: func(t *testing.T, dest string) {
				checkMode(t, dest, 0o750)
				checkContent(t, filepath.Join(dest, "f"), "x")
			},
		},
		{
			name:    "absolute symlink target kept",
			entries: []tarEntry{symlink("bin/sh", "/bin/busybox"), symlink("lib64", "usr/lib")},
			check: func(t *testing.T, dest string) {
				checkSymlink(t, filepath.Join(dest, "bin/sh"), "/bin/busybox")
				checkSymlink(t, filepath.Join(dest, "lib64"), "usr/lib")
			},
		},
		{
			name:    "hardlink shares inode",
			entries: []tarEntry{file("a", "same"), hardlink("dir/b", "a")},
			check: func(t *testing.T, dest string) {
				a, b := lstat(t, filepath.Join(dest, "a")), lstat(t, filepath.Join(dest, "dir/b"))
				if a.Ino != b.Ino {
					t.Errorf("inodes %d and %d differ", a.Ino, b.Ino)
				}
			},
		},
		{
			name: "hardlink to symlink links the symlink",
			entries: []tarEntry{
				symlink("l", "/etc/passwd"), hardlink("h", "l"),
			},
			check: func(t *testing.T, dest string) {
				checkType(t, filepath.Join(dest, "h"), unix.S_IFLNK)
				checkSymlink(t, filepath.Join(dest, "h"), "/etc/passwd")
			},
		},
		{
			name: "device nodes and fifo",
			entries: []tarEntry{
				{name: "dev/null", typ: tar.TypeChar, major: 1, minor: 3, mode: 0o666},
				{name: "dev/loop9", typ: tar.TypeBlock, major: 7, minor: 9, mode: 0o660},
				{name: "run/fifo", typ: tar.TypeFifo, mode: 0o620},
			},
			check: func(t *testing.T, dest string) {
				null := checkType(t, filepath.Join(dest, "dev/null"), unix.S_IFCHR)
				if unix.Major(null.Rdev) != 1 || unix.Minor(null.Rdev) != 3 {
					t.Errorf("dev/null is %d:%d, want 1:3",
						unix.Major(null.Rdev), unix.Minor(null.Rdev))
				}
				checkMode(t, filepath.Join(dest, "dev/null"), 0o666)
				loop := checkType(t, filepath.Join(dest, "dev/loop9"), unix.S_IFBLK)
				if unix.Major(loop.Rdev) != 7 || unix.Minor(loop.Rdev) != 9 {
					t.Errorf("dev/loop9 is %d:%d, want 7:9",
						unix.Major(loop.Rdev), unix.Minor(loop.Rdev))
				}
				checkType(t, filepath.Join(dest, "run/fifo"), unix.S_IFIFO)
				checkMode(t, filepath.Join(dest, "run/fifo"), 0o620)
			},
		},
		{
			name: "xattrs from PAX records",
			entries: []tarEntry{{name: "bin/ping", body: "x", mode: 0o755, pax: map[string]string{
				"SCHILY.xattr.user.note":        "hi",
				"SCHILY.xattr.trusted.podplug":  "t",
				"SCHILY.xattr.security.podplug": "s",
			}}},
			check: func(t *testing.T, dest string) {
				checkXattr(t, filepath.Join(dest, "bin/ping"), "user.note", "hi")
				checkXattr(t, filepath.Join(dest, "bin/ping"), "trusted.podplug", "t")
				checkXattr(t, filepath.Join(dest, "bin/ping"), "security.podplug", "s")
			},
		},
		{
			name:    "whiteout becomes character device 0:0",
			entries: []tarEntry{file("etc/gone", "old"), {name: "etc/.wh.gone", uid: 7}},
			check: func(t *testing.T, dest string) {
				st := checkType(t, filepath.Join(dest, "etc/gone"), unix.S_IFCHR)
				if st.Rdev != 0 {
					t.Errorf("whiteout device %d:%d, want 0:0",
						unix.Major(st.Rdev), unix.Minor(st.Rdev))
				}
				if st.Uid != 7 {
					t.Errorf("whiteout owner %d, want 7", st.Uid)
				}
				if _, err := os.Lstat(filepath.Join(dest, "etc/.wh.gone")); err == nil {
					t.Errorf("the .wh. entry itself was extracted")
				}
			},
		},
		{
			name:    "opaque whiteout marks directory",
			entries: []tarEntry{dir("var/cache/"), file("var/cache/.wh..wh..opq", "")},
			check: func(t *testing.T, dest string) {
				checkXattr(t, filepath.Join(dest, "var/cache"), "trusted.overlay.opaque", "y")
				if _, err := os.Lstat(filepath.Join(dest, "var/cache/.wh..wh..opq")); err == nil {
					t.Errorf("the opaque marker itself was extracted")
				}
			},
		},
		{
			name:    "other whiteout metadata skipped",
			entries: []tarEntry{dir(".wh..wh.plnk/"), file(".wh..wh.plnk/123", "x")},
			check: func(t *testing.T, dest string) {
				entries, err := os.ReadDir(dest)
				if err != nil {
					t.Fatal(err)
				}
				if len(entries) != 0 {
					t.Errorf("destination has %d entries, want 0", len(entries))
				}
			},
		},
		{
			name:    "symlink parent resolved inside root",
			entries: []tarEntry{dir("etc/"), symlink("a", "/etc"), file("a/passwd", "evil")},
			check: func(t *testing.T, dest string) {
				checkContent(t, filepath.Join(dest, "etc/passwd"), "evil")
				checkType(t, filepath.Join(dest, "a"), unix.S_IFLNK)
			},
		},
		{
			name:    "symlink parent with dotdot clamped at root",
			entries: []tarEntry{symlink("up", "../../../.."), file("up/pwned", "x")},
			check: func(t *testing.T, dest string) {
				checkContent(t, filepath.Join(dest, "pwned"), "x")
			},
		},
		{
			name:    "file replaces symlink without following it",
			entries: []tarEntry{symlink("motd", "/etc/passwd"), file("motd", "new")},
			check: func(t *testing.T, dest string) {
				checkType(t, filepath.Join(dest, "motd"), unix.S_IFREG)
				checkContent(t, filepath.Join(dest, "motd"), "new")
			},
		},
		{
			name:    "file replaces directory",
			entries: []tarEntry{dir("x/"), file("x/inner", "1"), file("x", "2")},
			check: func(t *testing.T, dest string) {
				checkContent(t, filepath.Join(dest, "x"), "2")
			},
		},
		{
			name:    "directory entry keeps contents",
			entries: []tarEntry{file("x/inner", "1"), {name: "x", typ: tar.TypeDir, mode: 0o711}},
			check: func(t *testing.T, dest string) {
				checkContent(t, filepath.Join(dest, "x/inner"), "1")
				checkMode(t, filepath.Join(dest, "x"), 0o711)
			},
		},
		{
			name:    "later entry wins",
			entries: []tarEntry{file("f", "first"), file("f", "second")},
			check: func(t *testing.T, dest string) {
				checkContent(t, filepath.Join(dest, "f"), "second")
			},
		},
		{
			name:    "dotdot inside name cleaned",
			entries: []tarEntry{file("a/../b", "x")},
			check: func(t *testing.T, dest string) {
				checkContent(t, filepath.Join(dest, "b"), "x")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, dest := sandbox(t)
			data := makeTar(t, tt.entries...)
			_, err := Extract(context.Background(), bytes.NewReader(data), dest)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			tt.check(t, dest)
			checkOnlyInside(t, base, dest)
		})
	}
}

func TestExtractDigest(t *testing.T) {
	requireRoot(t)
	data := makeTar(t, dir("d/"), file("d/f", strings.Repeat("x", 5000)))
	padded := append(bytes.Clone(data), make([]byte, 4096)...)

	tests := []struct {
		name   string
		input  []byte
		stream []byte // the uncompressed stream that the digest covers
	}{
		{name: "plain", input: data, stream: data},
		{name: "gzip", input: gzipBytes(t, data), stream: data},
		{name: "zeros after end marker", input: padded, stream: padded},
		{name: "zeros after gzip member", input: append(gzipBytes(t, data), make([]byte, 512)...),
			stream: data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dest := sandbox(t)
			result, err := Extract(context.Background(), bytes.NewReader(tt.input), dest)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			sum := sha256.Sum256(tt.stream)
			if want := "sha256:" + hex.EncodeToString(sum[:]); result.Digest != want {
				t.Errorf("digest %s, want %s", result.Digest, want)
			}
			if result.Size != int64(len(tt.stream)) {
				t.Errorf("size %d, want %d", result.Size, len(tt.stream))
			}
			checkContent(t, filepath.Join(dest, "d/f"), strings.Repeat("x", 5000))
		})
	}
}

func TestExtractRejects(t *testing.T) {
	requireRoot(t)
	valid := makeTar(t, file("a", strings.Repeat("a", 2000)), file("b", "b"))
	tests := []struct {
		name    string
		input   func(t *testing.T, base string) []byte
		wantErr error
	}{
		{
			name:    "dotdot escape",
			input:   entries(file("../../escape", "x")),
			wantErr: ErrUnsafePath,
		},
		{
			name:    "dotdot escape after clean",
			input:   entries(file("a/../../../../escape", "x")),
			wantErr: ErrUnsafePath,
		},
		{
			name: "absolute name",
			input: func(t *testing.T, base string) []byte {
				return makeTar(t, file(filepath.Join(base, "abs"), "x"))
			},
			wantErr: ErrUnsafePath,
		},
		{
			name:    "hardlink target escape",
			input:   entries(hardlink("h", "../../../outside")),
			wantErr: ErrUnsafePath,
		},
		{
			name:    "hardlink absolute target",
			input:   entries(hardlink("h", "/etc/passwd")),
			wantErr: ErrUnsafePath,
		},
		{
			name: "symlink parent to absolute outside",
			input: func(t *testing.T, base string) []byte {
				return makeTar(t, symlink("a", base), file("a/pwned", "x"))
			},
			wantErr: fs.ErrNotExist,
		},
		{
			name:    "symlink parent to host etc",
			input:   entries(symlink("a", "/etc"), file("a/passwd", "evil")),
			wantErr: fs.ErrNotExist,
		},
		{
			name:    "hardlink through symlink parent to host",
			input:   entries(symlink("a", "/etc"), hardlink("h", "a/passwd")),
			wantErr: fs.ErrNotExist,
		},
		{
			name: "overlay xattr from archive",
			input: entries(tarEntry{name: "d", typ: tar.TypeDir,
				pax: map[string]string{"SCHILY.xattr.trusted.overlay.redirect": "/x"}}),
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "whiteout naming dotdot",
			input:   entries(file("d/.wh...", "")),
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "root entry not a directory",
			input:   entries(file(".", "x")),
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "unsupported entry type",
			input:   entries(tarEntry{name: "c", typ: tar.TypeCont}),
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "truncated inside file data",
			input:   func(*testing.T, string) []byte { return valid[:512+1000] },
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "truncated at block boundary",
			input:   func(*testing.T, string) []byte { return valid[:len(valid)-1024] },
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "truncated gzip",
			input:   func(t *testing.T, _ string) []byte { z := gzipBytes(t, valid); return z[:len(z)-10] },
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "corrupt header",
			input:   func(*testing.T, string) []byte { return corrupt(valid, 148) },
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "not an archive",
			input:   func(*testing.T, string) []byte { return []byte(strings.Repeat("not a tar ", 100)) },
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "empty stream",
			input:   func(*testing.T, string) []byte { return nil },
			wantErr: ErrInvalidArchive,
		},
		{
			name:    "xz compression",
			input:   func(*testing.T, string) []byte { return []byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2} },
			wantErr: ErrInvalidArchive,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			passwd := readFile(t, "/etc/passwd")
			base, dest := sandbox(t)
			_, err := Extract(context.Background(), bytes.NewReader(tt.input(t, base)), dest)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Extract error %v, want %v", err, tt.wantErr)
			}
			checkOnlyInside(t, base, dest)
			if readFile(t, "/etc/passwd") != passwd {
				t.Fatalf("/etc/passwd changed")
			}
		})
	}
}

// entries returns an input function for TestExtractRejects that archives
// list.
func entries(list ...tarEntry) func(*testing.T, string) []byte {
	return func(t *testing.T, _ string) []byte {
		return makeTar(t, list...)
	}
}

// corrupt returns a copy of data with the byte at offset changed.
func corrupt(data []byte, offset int) []byte {
	c := bytes.Clone(data)
	c[offset] ^= 0xff
	return c
}

func TestExtractErrorNamesEntry(t *testing.T) {
	requireRoot(t)
	_, dest := sandbox(t)
	data := makeTar(t, file("ok", "x"), file("../evil", "x"))
	_, err := Extract(context.Background(), bytes.NewReader(data), dest)
	if err == nil || !strings.Contains(err.Error(), `"../evil"`) {
		t.Fatalf("error %v does not name the entry \"../evil\"", err)
	}
}

func TestExtractCancelled(t *testing.T) {
	requireRoot(t)
	_, dest := sandbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := makeTar(t, file("f", "x"))
	_, err := Extract(ctx, bytes.NewReader(data), dest)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Extract error %v, want context.Canceled", err)
	}
	if _, err := os.Lstat(filepath.Join(dest, "f")); err == nil {
		t.Errorf("f was extracted after cancellation")
	}
}

func TestExtractMissingDestination(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "missing")
	_, err := Extract(context.Background(), bytes.NewReader(makeTar(t)), dest)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Extract error %v, want fs.ErrNotExist", err)
	}
}
