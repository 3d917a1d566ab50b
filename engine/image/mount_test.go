package image

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// requireOverlay skips t unless it runs as root on a kernel with overlayfs.
func requireOverlay(t *testing.T) {
	t.Helper()
	requireRoot(t)
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil || !strings.Contains(string(data), "\toverlay\n") {
		t.Skip("skipping: the kernel has no overlay file system (see /proc/filesystems)")
	}
}

// extractLayer extracts entries into a new directory and returns it.
func extractLayer(t *testing.T, entries ...tarEntry) string {
	t.Helper()
	dir := t.TempDir()
	data := makeTar(t, entries...)
	if _, err := Extract(context.Background(), bytes.NewReader(data), dir); err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return dir
}

func mountCount(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && fields[4] == dir {
			count++
		}
	}
	return count
}

func mountRootfs(t *testing.T, layers []string, containerDir string) string {
	t.Helper()
	merged, err := MountRootfs(layers, containerDir)
	if err != nil {
		t.Fatalf("MountRootfs: %v", err)
	}
	t.Cleanup(func() {
		if err := UnmountRootfs(containerDir); err != nil {
			t.Errorf("UnmountRootfs: %v", err)
		}
	})
	return merged
}

func TestMountRootfsLayers(t *testing.T) {
	requireOverlay(t)
	bottom := extractLayer(t,
		file("etc/hostname", "bottom"), file("etc/gone", "x"),
		file("var/cache/old", "x"), file("bin/sh", "sh"))
	top := extractLayer(t,
		file("etc/hostname", "top"), file("etc/.wh.gone", ""),
		dir("var/cache/"), file("var/cache/.wh..wh..opq", ""), file("var/cache/new", "y"))
	containerDir := filepath.Join(t.TempDir(), "ctr")

	merged := mountRootfs(t, []string{top, bottom}, containerDir)
	if merged != filepath.Join(containerDir, "merged") {
		t.Errorf("merged path %s, want %s/merged", merged, containerDir)
	}
	checkContent(t, filepath.Join(merged, "bin/sh"), "sh")
	checkContent(t, filepath.Join(merged, "etc/hostname"), "top")
	if _, err := os.Lstat(filepath.Join(merged, "etc/gone")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("whiteout did not hide etc/gone: %v", err)
	}
	if got := dirNames(t, filepath.Join(merged, "var/cache")); !slices.Equal(got, []string{"new"}) {
		t.Errorf("opaque var/cache contains %q, want [new]", got)
	}

	if err := os.WriteFile(filepath.Join(merged, "etc/added"), []byte("z"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkContent(t, filepath.Join(containerDir, "upper/etc/added"), "z")
	if _, err := os.Lstat(filepath.Join(top, "etc/added")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write through the mount reached a layer: %v", err)
	}
}

func TestMountRootfsIdempotent(t *testing.T) {
	requireOverlay(t)
	layer := extractLayer(t, file("f", "single"))
	containerDir := filepath.Join(t.TempDir(), "ctr")

	merged := mountRootfs(t, []string{layer}, containerDir)
	checkContent(t, filepath.Join(merged, "f"), "single")
	again, err := MountRootfs([]string{layer}, containerDir)
	if err != nil {
		t.Fatalf("second MountRootfs: %v", err)
	}
	if again != merged {
		t.Errorf("second MountRootfs returned %s, want %s", again, merged)
	}
	if n := mountCount(t, merged); n != 1 {
		t.Errorf("%s mounted %d times, want once", merged, n)
	}

	if err := UnmountRootfs(containerDir); err != nil {
		t.Fatalf("UnmountRootfs: %v", err)
	}
	if n := mountCount(t, merged); n != 0 {
		t.Errorf("%s still mounted %d times after UnmountRootfs", merged, n)
	}
	if err := UnmountRootfs(containerDir); err != nil {
		t.Errorf("UnmountRootfs when not mounted: %v", err)
	}
}

func TestMountRootfsSharedLayer(t *testing.T) {
	requireOverlay(t)
	layer := extractLayer(t, file("f", "shared"))
	base := t.TempDir()

	first := mountRootfs(t, []string{layer}, filepath.Join(base, "one"))
	second := mountRootfs(t, []string{layer}, filepath.Join(base, "two"))
	if err := os.WriteFile(filepath.Join(first, "f"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkContent(t, filepath.Join(second, "f"), "shared")
	checkContent(t, filepath.Join(layer, "f"), "shared")
}

func TestUnmountRootfsNotMounted(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{name: "missing directory", dir: func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "missing")
		}},
		{name: "merged not mounted", dir: func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "merged"), 0o755); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := UnmountRootfs(tt.dir(t)); err != nil {
				t.Errorf("UnmountRootfs: %v", err)
			}
		})
	}
}

func TestOverlayOptions(t *testing.T) {
	long := make([]string, 60)
	for i := range long {
		long[i] = "/var/lib/podplug/images/layers/" + strings.Repeat("a", 64)
	}
	tests := []struct {
		name    string
		layers  []string
		want    string
		wantErr string
	}{
		{name: "two layers", layers: []string{"/l/top", "/l/bottom"},
			want: "lowerdir=/l/top:/l/bottom,upperdir=/c/upper,workdir=/c/work"},
		{name: "no layers", wantErr: "no layer directories"},
		{name: "colon in path", layers: []string{"/l/a:b"}, wantErr: "contains ':' or ','"},
		{name: "comma in path", layers: []string{"/l/a,b"}, wantErr: "contains ':' or ','"},
		{name: "too many layers", layers: long, wantErr: "more than mount(2) accepts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := overlayOptions(tt.layers, "/c")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("overlayOptions error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("overlayOptions: %v", err)
			}
			if got != tt.want {
				t.Errorf("overlayOptions = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnescapeMountPath(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{in: "/plain", want: "/plain"},
		{in: `/with\040space`, want: "/with space"},
		{in: `/tab\011and\134slash`, want: "/tab\tand\\slash"},
		{in: `/short\04`, want: `/short\04`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := unescapeMountPath(tt.in); got != tt.want {
				t.Errorf("unescapeMountPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
