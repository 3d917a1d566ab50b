package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// newTestStore returns an image store in a temporary directory with an
// in-memory database.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	requireRoot(t)
	db, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := NewStore(filepath.Join(t.TempDir(), "images"), db, nil)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

// rootfsTar is a small root file system archive.
func rootfsTar(t *testing.T, marker string) []byte {
	t.Helper()
	return makeTar(t, dir("bin/"), file("bin/sh", "#!"+marker), symlink("bin/ls", "sh"),
		dir("etc/"), file("etc/hostname", marker))
}

func importTar(
	t *testing.T, s *Store, data []byte, name string, cfg model.ImageConfig,
) *model.Image {
	t.Helper()
	img, err := s.ImportRootfs(context.Background(), bytes.NewReader(data), name, cfg)
	if err != nil {
		t.Fatalf("ImportRootfs %s: %v", name, err)
	}
	return img
}

// dirNames returns the names in dir, failing t if it cannot be read.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestImportRootfs(t *testing.T) {
	s := newTestStore(t)
	data := rootfsTar(t, "one")
	cfg := model.ImageConfig{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/bin"}}
	img := importTar(t, s, data, "busybox", cfg)

	if !sha256Pattern.MatchString(img.ID) {
		t.Errorf("ID %q is not a sha256 digest", img.ID)
	}
	if !slices.Equal(img.Names, []string{"localhost/busybox:latest"}) {
		t.Errorf("names %q, want [localhost/busybox:latest]", img.Names)
	}
	if len(img.Layers) != 1 || !sha256Pattern.MatchString(img.Layers[0]) {
		t.Fatalf("layers %q, want one sha256 digest", img.Layers)
	}
	if img.Size != int64(len(data)) {
		t.Errorf("size %d, want %d", img.Size, len(data))
	}
	if img.CreatedAt.IsZero() {
		t.Errorf("CreatedAt not set")
	}

	dirs := s.LayerDirs(img)
	if len(dirs) != 1 {
		t.Fatalf("LayerDirs %q, want one", dirs)
	}
	checkContent(t, filepath.Join(dirs[0], "etc/hostname"), "one")
	checkMode(t, dirs[0], 0o755)
	if names := dirNames(t, s.tmpDir()); len(names) != 0 {
		t.Errorf("tmp contains %q after import, want nothing", names)
	}

	stored, err := s.Lookup(img.ID)
	if err != nil {
		t.Fatalf("Lookup %s: %v", img.ID, err)
	}
	if stored.ID != img.ID || !slices.Equal(stored.Config.Cmd, cfg.Cmd) {
		t.Errorf("stored image %+v differs from the returned %+v", stored, img)
	}
}

func TestImportRootfsSameContent(t *testing.T) {
	s := newTestStore(t)
	data := rootfsTar(t, "one")
	first := importTar(t, s, data, "app:v1", model.ImageConfig{})
	second := importTar(t, s, data, "app:v2", model.ImageConfig{})

	if second.ID != first.ID {
		t.Fatalf("same content gave IDs %s and %s", first.ID, second.ID)
	}
	want := []string{"localhost/app:v1", "localhost/app:v2"}
	if !slices.Equal(second.Names, want) {
		t.Errorf("names %q, want %q", second.Names, want)
	}
	images, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 1 {
		t.Errorf("List returned %d images, want 1", len(images))
	}
	if names := dirNames(t, s.layersDir()); len(names) != 1 {
		t.Errorf("layers %q, want one", names)
	}
	if names := dirNames(t, s.tmpDir()); len(names) != 0 {
		t.Errorf("tmp contains %q after import, want nothing", names)
	}
}

func TestLayerSharedUntilLastRemove(t *testing.T) {
	s := newTestStore(t)
	data := rootfsTar(t, "shared")
	a := importTar(t, s, data, "a", model.ImageConfig{Cmd: []string{"a"}})
	b := importTar(t, s, data, "b", model.ImageConfig{Cmd: []string{"b"}})

	if a.ID == b.ID {
		t.Fatalf("different configs gave the same ID %s", a.ID)
	}
	if a.Layers[0] != b.Layers[0] {
		t.Fatalf("same archive gave layers %s and %s", a.Layers[0], b.Layers[0])
	}
	layerDir := s.LayerDirs(a)[0]

	removed, err := s.Remove("a")
	if err != nil {
		t.Fatalf("Remove a: %v", err)
	}
	if removed.ID != a.ID {
		t.Errorf("Remove returned %s, want %s", removed.ID, a.ID)
	}
	if _, err := os.Stat(layerDir); err != nil {
		t.Fatalf("layer removed while b still uses it: %v", err)
	}

	if _, err := s.Remove("b"); err != nil {
		t.Fatalf("Remove b: %v", err)
	}
	if _, err := os.Stat(layerDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("layer still present after its last image was removed: %v", err)
	}
	if names := dirNames(t, s.tmpDir()); len(names) != 0 {
		t.Errorf("tmp contains %q after remove, want nothing", names)
	}
	if _, err := s.Lookup("a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Lookup a after remove: %v, want store.ErrNotFound", err)
	}
}

func TestImportRootfsFailureLeavesNothing(t *testing.T) {
	valid := rootfsTar(t, "x")
	tests := []struct {
		name    string
		input   []byte
		ref     string
		cancel  bool
		wantErr error
	}{
		{name: "truncated archive", input: valid[:len(valid)-1024], ref: "app",
			wantErr: ErrInvalidArchive},
		{name: "escaping entry", input: makeTar(t, file("../x", "")), ref: "app",
			wantErr: ErrUnsafePath},
		{name: "invalid name", input: valid, ref: "App", wantErr: ErrInvalidName},
		{name: "cancelled", input: valid, ref: "app", cancel: true, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}

			_, err := s.ImportRootfs(ctx, bytes.NewReader(tt.input), tt.ref, model.ImageConfig{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ImportRootfs error %v, want %v", err, tt.wantErr)
			}
			images, err := s.List()
			if err != nil {
				t.Fatal(err)
			}
			if len(images) != 0 {
				t.Errorf("List returned %d images after a failed import", len(images))
			}
			if names := dirNames(t, s.layersDir()); len(names) != 0 {
				t.Errorf("layers %q after a failed import, want none", names)
			}
			if names := dirNames(t, s.tmpDir()); len(names) != 0 {
				t.Errorf("tmp contains %q after a failed import, want nothing", names)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	s := newTestStore(t)
	local := importTar(t, s, rootfsTar(t, "local"), "busybox", model.ImageConfig{})
	hub := importTar(t, s, rootfsTar(t, "hub"), "docker.io/library/alpine:3", model.ImageConfig{})
	user := importTar(t, s, rootfsTar(t, "user"), "docker.io/user/app", model.ImageConfig{})
	hexID := strings.TrimPrefix(local.ID, "sha256:")

	tests := []struct {
		ref    string
		wantID string
	}{
		{ref: "busybox", wantID: local.ID},
		{ref: "busybox:latest", wantID: local.ID},
		{ref: "localhost/busybox:latest", wantID: local.ID},
		{ref: "localhost/busybox", wantID: local.ID},
		{ref: "alpine:3", wantID: hub.ID},
		{ref: "docker.io/alpine:3", wantID: hub.ID},
		{ref: "user/app", wantID: user.ID},
		{ref: local.ID, wantID: local.ID},
		{ref: hexID, wantID: local.ID},
		{ref: hexID[:12], wantID: local.ID},
		{ref: "sha256:" + hexID[:12], wantID: local.ID},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img, err := s.Lookup(tt.ref)
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tt.ref, err)
			}
			if img.ID != tt.wantID {
				t.Errorf("Lookup(%q) = %s, want %s", tt.ref, img.ID, tt.wantID)
			}
		})
	}
}

func TestLookupNotFound(t *testing.T) {
	s := newTestStore(t)
	importTar(t, s, rootfsTar(t, "x"), "busybox", model.ImageConfig{})
	for _, ref := range []string{"nope", "alpine", "", "Busy Box", "sha256:00"} {
		t.Run(ref, func(t *testing.T) {
			_, err := s.Lookup(ref)
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Lookup(%q) error %v, want store.ErrNotFound", ref, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", ref)) {
				t.Errorf("error %q does not name %q", err, ref)
			}
			if !strings.Contains(err.Error(), "podplug image ls") {
				t.Errorf("error %q does not mention podplug image ls", err)
			}
		})
	}
}

func TestLookupPrefersNameOverIDPrefix(t *testing.T) {
	s := newTestStore(t)
	byID := importTar(t, s, rootfsTar(t, "one"), "", model.ImageConfig{})
	prefix := strings.TrimPrefix(byID.ID, "sha256:")[:6]
	byName := importTar(t, s, rootfsTar(t, "two"), prefix, model.ImageConfig{})

	img, err := s.Lookup(prefix)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", prefix, err)
	}
	if img.ID != byName.ID {
		t.Errorf("Lookup(%q) = %s, want the image named %s", prefix, img.ID, prefix)
	}
}

func TestLookupAmbiguousPrefix(t *testing.T) {
	s := newTestStore(t)
	data := rootfsTar(t, "x")
	// 17 IDs over 16 first hex digits: two of them share the first digit.
	seen := make(map[byte]bool)
	var shared byte
	for i := range 17 {
		img := importTar(t, s, data, "", model.ImageConfig{Cmd: []string{fmt.Sprint(i)}})
		first := strings.TrimPrefix(img.ID, "sha256:")[0]
		if seen[first] {
			shared = first
			break
		}
		seen[first] = true
	}

	_, err := s.Lookup(string(shared))
	if !errors.Is(err, store.ErrAmbiguous) {
		t.Fatalf("Lookup(%q) error %v, want store.ErrAmbiguous", string(shared), err)
	}
}

func TestTag(t *testing.T) {
	s := newTestStore(t)
	a := importTar(t, s, rootfsTar(t, "a"), "a", model.ImageConfig{})
	b := importTar(t, s, rootfsTar(t, "b"), "b", model.ImageConfig{})

	if err := s.Tag("a", "quay.io/org/a:v1"); err != nil {
		t.Fatalf("Tag: %v", err)
	}
	img, err := s.Lookup("quay.io/org/a:v1")
	if err != nil || img.ID != a.ID {
		t.Fatalf("Lookup of new tag = %v, %v, want %s", img, err, a.ID)
	}
	want := []string{"localhost/a:latest", "quay.io/org/a:v1"}
	if !slices.Equal(img.Names, want) {
		t.Errorf("names %q, want %q", img.Names, want)
	}

	// A name another image has moves.
	if err := s.Tag("b", "a"); err != nil {
		t.Fatalf("Tag b as a: %v", err)
	}
	img, err = s.Lookup("a")
	if err != nil || img.ID != b.ID {
		t.Fatalf("Lookup(a) after moving the name = %v, %v, want %s", img, err, b.ID)
	}
	img, err = s.Lookup(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(img.Names, []string{"quay.io/org/a:v1"}) {
		t.Errorf("names of a after the move %q, want [quay.io/org/a:v1]", img.Names)
	}
}

func TestTagErrors(t *testing.T) {
	s := newTestStore(t)
	importTar(t, s, rootfsTar(t, "a"), "a", model.ImageConfig{})
	if err := s.Tag("a", "Bad Name"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Tag with invalid name: %v, want ErrInvalidName", err)
	}
	if err := s.Tag("missing", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Tag of missing image: %v, want store.ErrNotFound", err)
	}
}

func TestRemoveNotFound(t *testing.T) {
	s := newTestStore(t)
	if _, err := s.Remove("missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Remove of missing image: %v, want store.ErrNotFound", err)
	}
}

func TestLayerDirsOrder(t *testing.T) {
	s := &Store{root: "/var/lib/podplug/images"}
	bottom, top := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	got := s.LayerDirs(&model.Image{Layers: []string{bottom, top}})
	want := []string{
		"/var/lib/podplug/images/layers/" + strings.Repeat("2", 64),
		"/var/lib/podplug/images/layers/" + strings.Repeat("1", 64),
	}
	if !slices.Equal(got, want) {
		t.Errorf("LayerDirs = %q, want %q", got, want)
	}
}

func TestLookupRejectsBadLayerDigest(t *testing.T) {
	s := newTestStore(t)
	bad := &model.Image{
		ID:     "sha256:" + strings.Repeat("3", 64),
		Names:  []string{"localhost/bad:latest"},
		Layers: []string{"sha256:../../../etc"},
	}
	err := s.db.Update(func(tx *store.Tx) error { return tx.PutImage(bad) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup("bad"); !errors.Is(err, ErrInvalidImage) {
		t.Errorf("Lookup of record with bad layer: %v, want ErrInvalidImage", err)
	}
}

func TestNewStoreRemovesLeftovers(t *testing.T) {
	s := newTestStore(t)
	img := importTar(t, s, rootfsTar(t, "kept"), "kept", model.ImageConfig{})
	orphan := filepath.Join(s.layersDir(), strings.Repeat("f", 64))
	other := filepath.Join(s.layersDir(), "not-a-digest")
	junk := filepath.Join(s.tmpDir(), "layer-123", "bin")
	for _, dir := range []string{orphan, other, junk} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	reopened, err := NewStore(s.root, s.db, nil)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan layer still present: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("directory with a non-digest name was removed: %v", err)
	}
	if names := dirNames(t, reopened.tmpDir()); len(names) != 0 {
		t.Errorf("tmp contains %q after NewStore, want nothing", names)
	}
	if _, err := os.Stat(reopened.LayerDirs(img)[0]); err != nil {
		t.Errorf("layer of a stored image removed: %v", err)
	}
}

// TestImportRemoveConcurrent imports images that share one layer and
// removes them in parallel: an image returned by ImportRootfs must have its
// layer on disk until the image itself is removed.
func TestImportRemoveConcurrent(t *testing.T) {
	s := newTestStore(t)
	data := rootfsTar(t, "shared")
	const workers, rounds = 4, 10

	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				errs <- importCheckRemove(s, data, w, r)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if names := dirNames(t, s.layersDir()); len(names) != 0 {
		t.Errorf("layers %q after removing every image, want none", names)
	}
}

func importCheckRemove(s *Store, data []byte, worker, round int) error {
	name := fmt.Sprintf("w%d", worker)
	cfg := model.ImageConfig{Cmd: []string{name}}
	img, err := s.ImportRootfs(context.Background(), bytes.NewReader(data), name, cfg)
	if err != nil {
		return fmt.Errorf("worker %d round %d: import: %w", worker, round, err)
	}
	if _, err := os.Stat(filepath.Join(s.LayerDirs(img)[0], "bin/sh")); err != nil {
		return fmt.Errorf("worker %d round %d: layer missing after import: %w", worker, round, err)
	}
	if _, err := s.Remove(name); err != nil {
		return fmt.Errorf("worker %d round %d: remove: %w", worker, round, err)
	}
	return nil
}
