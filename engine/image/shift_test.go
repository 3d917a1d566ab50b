package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine/model"
)

// shiftMap has different host uids and gids, so a test can tell them apart.
var shiftMap = model.IDMap{HostUID: 300000, HostGID: 400000, Size: 65536}

// capabilityV2 is a version 2 security.capability value granting
// CAP_NET_BIND_SERVICE (bit 10), effective.
func capabilityV2() []byte {
	v := make([]byte, vfsCapV2Size)
	binary.LittleEndian.PutUint32(v, vfsCapRevision2|1)
	binary.LittleEndian.PutUint32(v[4:], 1<<10)
	return v
}

// aclWithUser is a system.posix_acl_access value with a named user entry
// for uid and a named group entry for gid. Its owner, mask and other
// entries match mode 0640, so setting it keeps that mode.
func aclWithUser(uid, gid uint32) []byte {
	entries := []struct {
		tag, perm uint16
		id        uint32
	}{
		{0x01, 6, 0xffffffff}, {aclTagUser, 4, uid}, {0x04, 4, 0xffffffff},
		{aclTagGroup, 4, gid}, {0x10, 4, 0xffffffff}, {0x20, 0, 0xffffffff},
	}
	v := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range entries {
		v = binary.LittleEndian.AppendUint16(v, e.tag)
		v = binary.LittleEndian.AppendUint16(v, e.perm)
		v = binary.LittleEndian.AppendUint32(v, e.id)
	}
	return v
}

// extractTestLayer extracts a layer with every kind of entry into a new
// directory and returns it.
func extractTestLayer(t *testing.T) string {
	t.Helper()
	data := makeTar(t,
		tarEntry{name: "etc/", typ: tar.TypeDir, mode: 0o750, gid: 42},
		tarEntry{name: "etc/shadow", body: "secret", mode: 0o640, gid: 42},
		tarEntry{name: "bin/", typ: tar.TypeDir},
		tarEntry{name: "bin/su", body: "su", mode: 0o4755},
		hardlink("bin/su-again", "bin/su"),
		symlink("bin/sh", "su"),
		tarEntry{name: "home/user/notes", body: "notes", uid: 1000, gid: 1000},
		tarEntry{name: "big-id", body: "x", uid: 70000, gid: 70000},
		tarEntry{name: "ping", body: "ping", mode: 0o755,
			pax: map[string]string{"SCHILY.xattr." + xattrCapability: string(capabilityV2())}},
		tarEntry{name: "noted", body: "n", pax: map[string]string{"SCHILY.xattr.user.note": "kept"}},
		tarEntry{name: "fifo", typ: tar.TypeFifo, mode: 0o600},
		tarEntry{name: "opaque/", typ: tar.TypeDir},
		tarEntry{name: "opaque/.wh..wh..opq", body: ""},
		tarEntry{name: ".wh.gone", body: ""},
	)
	src := t.TempDir()
	if _, err := Extract(context.Background(), bytes.NewReader(data), src); err != nil {
		t.Fatalf("extract test layer: %v", err)
	}
	return src
}

func TestShiftTree(t *testing.T) {
	requireRoot(t)
	src := extractTestLayer(t)
	aclFile := filepath.Join(src, "etc", "shadow")
	aclErr := unix.Lsetxattr(aclFile, xattrACLAccess, aclWithUser(1000, 2000), 0)
	dst := t.TempDir()
	if err := shiftTree(context.Background(), src, dst, shiftMap); err != nil {
		t.Fatalf("shiftTree: %v", err)
	}

	owners := []struct {
		name     string
		uid, gid uint32
	}{
		{".", 300000, 400000},
		{"etc", 300000, 400042},
		{"etc/shadow", 300000, 400042},
		{"bin/sh", 300000, 400000},
		{"home/user/notes", 301000, 401000},
		{"big-id", overflowID, overflowID},
		{"gone", 300000, 400000},
	}
	for _, o := range owners {
		st := lstat(t, filepath.Join(dst, o.name))
		if st.Uid != o.uid || st.Gid != o.gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", o.name, st.Uid, st.Gid, o.uid, o.gid)
		}
	}

	checkMode(t, filepath.Join(dst, "etc"), 0o750)
	checkMode(t, filepath.Join(dst, "etc/shadow"), 0o640)
	checkMode(t, filepath.Join(dst, "bin/su"), 0o4755)
	checkContent(t, filepath.Join(dst, "etc/shadow"), "secret")
	checkSymlink(t, filepath.Join(dst, "bin/sh"), "su")
	checkType(t, filepath.Join(dst, "fifo"), unix.S_IFIFO)
	if st := checkType(t, filepath.Join(dst, "gone"), unix.S_IFCHR); st.Rdev != 0 {
		t.Errorf("whiteout gone: device %d, want 0:0", st.Rdev)
	}
	checkXattr(t, filepath.Join(dst, "opaque"), overlayOpaqueXattr, "y")
	checkXattr(t, filepath.Join(dst, "noted"), "user.note", "kept")
	checkMtime(t, filepath.Join(dst, "etc/shadow"), testTime)
	checkMtime(t, filepath.Join(dst, "etc"), testTime)

	su, again := lstat(t, filepath.Join(dst, "bin/su")), lstat(t, filepath.Join(dst, "bin/su-again"))
	if su.Ino != again.Ino {
		t.Error("bin/su and bin/su-again are separate files, want one hardlinked file")
	}

	caps, err := getXattr(filepath.Join(dst, "ping"), xattrCapability)
	if err != nil {
		t.Fatalf("read capabilities of ping: %v", err)
	}
	if len(caps) != vfsCapV3Size {
		t.Fatalf("capabilities of ping: %d bytes, want a version 3 value of %d", len(caps), vfsCapV3Size)
	}
	if magic := binary.LittleEndian.Uint32(caps); magic != vfsCapRevision3|1 {
		t.Errorf("capability magic %#x, want %#x", magic, vfsCapRevision3|1)
	}
	if root := binary.LittleEndian.Uint32(caps[vfsCapV2Size:]); root != 300000 {
		t.Errorf("capability root uid %d, want 300000", root)
	}

	if errors.Is(aclErr, unix.ENOTSUP) {
		t.Log("the file system has no POSIX ACLs; ACL shifting not checked")
		return
	}
	if aclErr != nil {
		t.Fatalf("set ACL: %v", aclErr)
	}
	acl, err := getXattr(filepath.Join(dst, "etc/shadow"), xattrACLAccess)
	if err != nil {
		t.Fatalf("read ACL: %v", err)
	}
	if !bytes.Equal(acl, aclWithUser(301000, 402000)) {
		t.Errorf("ACL of etc/shadow = %x, want the named user 301000 and group 402000", acl)
	}
}

func TestShiftTreeCancelled(t *testing.T) {
	requireRoot(t)
	src := extractTestLayer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := shiftTree(ctx, src, t.TempDir(), shiftMap); !errors.Is(err, context.Canceled) {
		t.Errorf("shiftTree with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestShiftedLayerDirs(t *testing.T) {
	s := newTestStore(t)
	img := importTar(t, s, rootfsTar(t, "a"), "a", model.ImageConfig{})

	const callers = 4
	results := make([][]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			results[i], errs[i] = s.ShiftedLayerDirs(context.Background(), img, shiftMap)
		})
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if len(results[i]) != 1 || results[i][0] != results[0][0] {
			t.Errorf("caller %d got %q, want the one directory %q", i, results[i], results[0])
		}
	}
	dir := results[0][0]
	want := filepath.Join(s.root, "shifted", "300000-400000-65536", hexOf(img.Layers[0]))
	if dir != want {
		t.Errorf("shifted copy at %s, want %s", dir, want)
	}
	if st := lstat(t, filepath.Join(dir, "bin/sh")); st.Uid != 300000 {
		t.Errorf("bin/sh of the copy owned by uid %d, want 300000", st.Uid)
	}
	if names := dirNames(t, s.tmpDir()); len(names) != 0 {
		t.Errorf("tmp contains %q after concurrent copies, want nothing", names)
	}

	if _, err := s.Remove("a"); err != nil {
		t.Fatalf("remove image: %v", err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shifted copy after its layer was removed: %v, want it gone", err)
	}
}

func TestNewStoreRemovesUnusedShiftedCopies(t *testing.T) {
	s := newTestStore(t)
	img := importTar(t, s, rootfsTar(t, "a"), "a", model.ImageConfig{})
	kept, err := s.ShiftedLayerDirs(context.Background(), img, shiftMap)
	if err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(s.root, "shifted", "500000-500000-65536", hexOf(sha256Digest([]byte("x"))))
	if err := os.MkdirAll(orphan, 0o755); err != nil {
		t.Fatal(err)
	}

	if _, err := NewStore(s.root, s.db, nil); err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("shifted copy of a layer no image lists: %v, want it gone", err)
	}
	if _, err := os.Stat(filepath.Dir(orphan)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty id map directory: %v, want it gone", err)
	}
	if _, err := os.Stat(kept[0]); err != nil {
		t.Errorf("shifted copy of a listed layer: %v, want it kept", err)
	}
}

// BenchmarkShiftBusybox measures one shifted copy of a layer like the
// tests' busybox image: the static busybox binary and a symlink per applet.
func BenchmarkShiftBusybox(b *testing.B) {
	requireRoot(b)
	const busybox = "/bin/busybox"
	bin, err := os.ReadFile(busybox)
	if err != nil {
		b.Skipf("static busybox missing at %s: %v", busybox, err)
	}
	applets, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		b.Fatal(err)
	}
	entries := []tarEntry{dir("bin/"), {name: "bin/busybox", body: string(bin), mode: 0o755}}
	for _, name := range bytes.Fields(applets) {
		if string(name) != "busybox" {
			entries = append(entries, symlink("bin/"+string(name), "busybox"))
		}
	}
	src := b.TempDir()
	if _, err := Extract(context.Background(), bytes.NewReader(makeTar(b, entries...)), src); err != nil {
		b.Fatal(err)
	}

	base := b.TempDir()
	for i := 0; b.Loop(); i++ {
		dst := filepath.Join(base, strconv.Itoa(i))
		if err := os.Mkdir(dst, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := shiftTree(context.Background(), src, dst, shiftMap); err != nil {
			b.Fatal(err)
		}
	}
}
