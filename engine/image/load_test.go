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

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/klauspost/compress/zstd"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// appConfig is a config that sets every field podplug keeps.
var appConfig = v1.Config{
	Entrypoint: []string{"/bin/sh", "-c"},
	Cmd:        []string{"cat /msg"},
	Env:        []string{"PATH=/bin", "MODE=test"},
	WorkingDir: "/data",
	User:       "1000:1000",
	Labels:     map[string]string{"org.example.role": "app"},
	StopSignal: "SIGINT",
}

// wantAppConfig is appConfig as podplug stores it.
var wantAppConfig = model.ImageConfig{
	Entrypoint: []string{"/bin/sh", "-c"},
	Cmd:        []string{"cat /msg"},
	Env:        []string{"PATH=/bin", "MODE=test"},
	WorkingDir: "/data",
	User:       "1000:1000",
	Labels:     map[string]string{"org.example.role": "app"},
	StopSignal: "SIGINT",
}

// checkLoaded fails t unless img has the ID, names, layers and size of
// the testImage src.
func checkLoaded(t *testing.T, img *model.Image, src testImage, wantNames []string) {
	t.Helper()
	if want := sha256Digest(configFile(t, src)); img.ID != want {
		t.Errorf("ID %s, want the config digest %s", img.ID, want)
	}
	if !slices.Equal(img.Names, wantNames) {
		t.Errorf("names %q, want %q", img.Names, wantNames)
	}
	var wantLayers []string
	var wantSize int64
	for _, layer := range src.layers {
		wantLayers = append(wantLayers, sha256Digest(layer))
		wantSize += int64(len(layer))
	}
	if !slices.Equal(img.Layers, wantLayers) {
		t.Errorf("layers %q, want the diff IDs %q", img.Layers, wantLayers)
	}
	if img.Size != wantSize {
		t.Errorf("size %d, want %d", img.Size, wantSize)
	}
}

func checkConfig(t *testing.T, got, want model.ImageConfig) {
	t.Helper()
	if !slices.Equal(got.Entrypoint, want.Entrypoint) {
		t.Errorf("entrypoint %q, want %q", got.Entrypoint, want.Entrypoint)
	}
	if !slices.Equal(got.Cmd, want.Cmd) {
		t.Errorf("cmd %q, want %q", got.Cmd, want.Cmd)
	}
	if !slices.Equal(got.Env, want.Env) {
		t.Errorf("env %q, want %q", got.Env, want.Env)
	}
	if got.WorkingDir != want.WorkingDir {
		t.Errorf("working dir %q, want %q", got.WorkingDir, want.WorkingDir)
	}
	if got.User != want.User {
		t.Errorf("user %q, want %q", got.User, want.User)
	}
	if len(got.Labels) != len(want.Labels) || got.Labels["org.example.role"] != "app" {
		t.Errorf("labels %v, want %v", got.Labels, want.Labels)
	}
	if got.StopSignal != want.StopSignal {
		t.Errorf("stop signal %q, want %q", got.StopSignal, want.StopSignal)
	}
}

// checkRootfs mounts img's layers and checks what the top layer's
// whiteouts do to busyLayers' base.
func checkRootfs(t *testing.T, s *Store, img *model.Image) {
	t.Helper()
	requireOverlay(t)
	merged := mountRootfs(t, s.LayerDirs(img), t.TempDir())
	if got := readFile(t, filepath.Join(merged, "msg")); got != "hello from the top layer" {
		t.Errorf("/msg = %q", got)
	}
	if got := readFile(t, filepath.Join(merged, "etc/hostname")); got != "base" {
		t.Errorf("/etc/hostname = %q, want base", got)
	}
	if _, err := os.Lstat(filepath.Join(merged, "etc/old")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("/etc/old after its whiteout: %v, want not found", err)
	}
	if names := dirNames(t, filepath.Join(merged, "data")); !slices.Equal(names, []string{"c"}) {
		t.Errorf("/data after the opaque whiteout = %q, want [c]", names)
	}
}

func TestLoadDockerArchive(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	src := testImage{tags: []string{"localhost/app:v1", "app:latest"},
		layers: [][]byte{base, top}, config: appConfig}

	var reports []Progress
	images, err := s.Load(context.Background(), bytes.NewReader(dockerArchive(t, []testImage{src})),
		LoadOptions{Progress: func(p Progress) { reports = append(reports, p) }})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(images) != 1 {
		t.Fatalf("Load returned %d images, want 1", len(images))
	}
	img := images[0]
	checkLoaded(t, img, src, []string{"localhost/app:v1", "docker.io/library/app:latest"})
	checkConfig(t, img.Config, wantAppConfig)
	checkNoLeftovers(t, s, 2)

	found, err := s.Lookup("app")
	if err != nil || found.ID != img.ID {
		t.Errorf("Lookup(app) = %v, %v; want %s through docker.io/library/app:latest", found, err, img.ID)
	}
	var done int
	for _, p := range reports {
		if p.Done {
			done++
		}
	}
	if done != 2 {
		t.Errorf("progress reports %+v: %d layers done, want 2", reports, done)
	}
	checkRootfs(t, s, img)
}

func TestLoadGzipArchive(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	src := testImage{tags: []string{"localhost/app:v1"}, layers: [][]byte{base, top}}
	images := load(t, s, gzipBytes(t, dockerArchive(t, []testImage{src})))
	checkLoaded(t, images[0], src, []string{"localhost/app:v1"})
}

func TestLoadCompressedLayers(t *testing.T) {
	base, top := busyLayers(t)
	tests := []struct {
		name     string
		compress func(testing.TB, []byte) []byte
	}{
		{name: "gzip", compress: gzipBytes},
		{name: "zstd", compress: zstdBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			src := testImage{tags: []string{"localhost/app:v1"}, layers: [][]byte{base, top}}
			raw := configFile(t, src)
			entries := []tarEntry{
				{name: "config.json", body: string(raw)},
				{name: "base.tar.x", body: string(tt.compress(t, base))},
				{name: "top.tar.x", body: string(tt.compress(t, top))},
				jsonEntry(t, dockerManifestFile, []dockerEntry{{Config: "config.json",
					RepoTags: src.tags, Layers: []string{"base.tar.x", "top.tar.x"}}}),
			}
			images := load(t, s, makeTar(t, entries...))
			checkLoaded(t, images[0], src, []string{"localhost/app:v1"})
			checkRootfs(t, s, images[0])
		})
	}
}

func zstdBytes(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadSeveralImagesSharesLayers(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	other := makeTar(t, file("other", "x"))
	first := testImage{tags: []string{"localhost/first:v1"}, layers: [][]byte{base, top}}
	second := testImage{tags: []string{"localhost/second:v1"}, layers: [][]byte{base, other},
		config: v1.Config{Cmd: []string{"/bin/sh"}}}

	images := load(t, s, dockerArchive(t, []testImage{first, second}))
	if len(images) != 2 {
		t.Fatalf("Load returned %d images, want 2", len(images))
	}
	checkLoaded(t, images[0], first, []string{"localhost/first:v1"})
	checkLoaded(t, images[1], second, []string{"localhost/second:v1"})
	checkNoLeftovers(t, s, 3)

	// The same base layer in another archive is reused, not stored again.
	third := testImage{tags: []string{"localhost/third:v1"}, layers: [][]byte{base}}
	load(t, s, dockerArchive(t, []testImage{third}))
	checkNoLeftovers(t, s, 3)
}

// TestLoadLegacyDockerLayout loads an archive as Docker before 25 wrote
// it: <id>/layer.tar per layer, a symlink for a layer that an earlier
// image wrote, and an image whose only tag is in the repositories file.
func TestLoadLegacyDockerLayout(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	first := testImage{layers: [][]byte{base}}
	second := testImage{layers: [][]byte{base, top}}
	firstRaw, secondRaw := configFile(t, first), configFile(t, second)
	entries := []tarEntry{
		dir("aaaa/"), file("aaaa/VERSION", "1.0"), {name: "aaaa/layer.tar", body: string(base)},
		dir("bbbb/"), symlink("bbbb/layer.tar", "../aaaa/layer.tar"),
		dir("cccc/"), {name: "cccc/layer.tar", body: string(top)},
		{name: "first.json", body: string(firstRaw)},
		{name: "second.json", body: string(secondRaw)},
		jsonEntry(t, dockerManifestFile, []dockerEntry{
			{Config: "first.json", RepoTags: []string{"busybox:1"}, Layers: []string{"aaaa/layer.tar"}},
			{Config: "second.json", Layers: []string{"bbbb/layer.tar", "cccc/layer.tar"}},
		}),
		jsonEntry(t, dockerRepositoriesFile, map[string]map[string]string{
			"busybox":            {"1": "aaaa"},
			"example.com/second": {"v2": "cccc"},
		}),
	}

	images := load(t, s, makeTar(t, entries...))
	if len(images) != 2 {
		t.Fatalf("Load returned %d images, want 2", len(images))
	}
	checkLoaded(t, images[0], first, []string{"docker.io/library/busybox:1"})
	checkLoaded(t, images[1], second, []string{"example.com/second:v2"})
	checkNoLeftovers(t, s, 2)
	checkRootfs(t, s, images[1])
}

func TestLoadUnnamedImage(t *testing.T) {
	s := newTestStore(t)
	base, _ := busyLayers(t)
	src := testImage{layers: [][]byte{base}}
	data := dockerArchive(t, []testImage{src})
	images := load(t, s, data)
	checkLoaded(t, images[0], src, nil)

	found, err := s.Lookup(images[0].ID[len("sha256:"):][:12])
	if err != nil || found.ID != images[0].ID {
		t.Errorf("Lookup by short ID = %v, %v", found, err)
	}
}

func TestLoadTwiceMergesNames(t *testing.T) {
	s := newTestStore(t)
	base, _ := busyLayers(t)
	first := testImage{tags: []string{"localhost/a:1"}, layers: [][]byte{base}}
	second := first
	second.tags = []string{"localhost/b:1"}

	load(t, s, dockerArchive(t, []testImage{first}))
	images := load(t, s, dockerArchive(t, []testImage{second}))
	checkLoaded(t, images[0], first, []string{"localhost/a:1", "localhost/b:1"})
	all, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Errorf("store has %d images, want 1", len(all))
	}
	checkNoLeftovers(t, s, 1)
}

func TestLoadOCIArchive(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	src := testImage{layers: [][]byte{base, top}, config: appConfig}
	img := v1Image(t, src)

	tests := []struct {
		name      string
		refName   string
		wantNames []string
	}{
		{name: "full name", refName: "localhost/oci:v2", wantNames: []string{"localhost/oci:v2"}},
		{name: "tag only", refName: "latest", wantNames: nil},
		{name: "no annotation", wantNames: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			images := load(t, s, tarDir(t, ociLayoutDir(t, img, tt.refName)))
			if len(images) != 1 {
				t.Fatalf("Load returned %d images, want 1", len(images))
			}
			got := images[0]
			raw, err := img.RawConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if want := sha256Digest(raw); got.ID != want {
				t.Errorf("ID %s, want the config digest %s", got.ID, want)
			}
			for _, name := range tt.wantNames {
				if !slices.Contains(got.Names, name) {
					t.Errorf("names %q lack %s", got.Names, name)
				}
			}
			if !slices.Equal(got.Layers, []string{sha256Digest(base), sha256Digest(top)}) {
				t.Errorf("layers %q, want the diff IDs", got.Layers)
			}
			checkConfig(t, got.Config, wantAppConfig)
			checkNoLeftovers(t, s, 2)
			checkRootfs(t, s, got)
		})
	}
}

func TestLoadOCIIndexPicksHostPlatform(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	host := v1Image(t, testImage{layers: [][]byte{base, top}, config: appConfig})
	foreign := v1Image(t, testImage{layers: [][]byte{makeTar(t, file("foreign", "x"))}})

	index := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: foreign, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "linux", Architecture: "s390x-not-this-host"}}},
		mutate.IndexAddendum{Add: host, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "linux", Architecture: hostPlatform().Architecture}}},
	)
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	err = lp.AppendIndex(index, layout.WithAnnotations(map[string]string{
		annotationImageName: "example.com/multi:v1",
	}))
	if err != nil {
		t.Fatal(err)
	}

	images := load(t, s, tarDir(t, dir))
	if len(images) != 1 {
		t.Fatalf("Load returned %d images, want 1", len(images))
	}
	if !slices.Equal(images[0].Names, []string{"example.com/multi:v1"}) {
		t.Errorf("names %q, want [example.com/multi:v1]", images[0].Names)
	}
	if !slices.Equal(images[0].Layers, []string{sha256Digest(base), sha256Digest(top)}) {
		t.Errorf("layers %q, want the host image's", images[0].Layers)
	}
	checkNoLeftovers(t, s, 2)
}

func TestLoadTruncatedArchive(t *testing.T) {
	base, top := busyLayers(t)
	src := testImage{tags: []string{"localhost/app:v1"}, layers: [][]byte{base, top}}
	data := dockerArchive(t, []testImage{src})
	compressed := gzipBytes(t, data)

	tests := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "inside the first header", data: data[:100]},
		{name: "inside the first layer", data: data[:blockSize+len(base)/2]},
		{name: "at a block boundary before manifest.json", data: data[:len(data)/blockSize/2*blockSize]},
		{name: "without the end-of-archive marker", data: data[:len(data)-2*blockSize]},
		{name: "one byte short", data: data[:len(data)-1]},
		{name: "gzip cut in half", data: compressed[:len(compressed)/2]},
		{name: "gzip without its checksum", data: compressed[:len(compressed)-4]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			_, err := s.Load(context.Background(), bytes.NewReader(tt.data), LoadOptions{})
			if !errors.Is(err, ErrInvalidArchive) {
				t.Errorf("Load error %v, want ErrInvalidArchive", err)
			}
			checkNothingStored(t, s)
		})
	}
}

func TestLoadCorruptLayer(t *testing.T) {
	base, top := busyLayers(t)
	good := testImage{tags: []string{"localhost/good:v1"}, layers: [][]byte{base}}
	bad := testImage{tags: []string{"localhost/bad:v1"}, layers: [][]byte{base, top}}
	data := dockerArchive(t, []testImage{good, bad})
	// Change one byte of the top layer's file content, keeping its size.
	i := bytes.Index(data, []byte("hello from the top layer"))
	if i < 0 {
		t.Fatal("top layer content not found in the archive")
	}
	data[i] = 'j'

	s := newTestStore(t)
	_, err := s.Load(context.Background(), bytes.NewReader(data), LoadOptions{})
	if !errors.Is(err, ErrInvalidImage) {
		t.Fatalf("Load error %v, want ErrInvalidImage", err)
	}
	if !strings.Contains(err.Error(), sha256Digest(top)) {
		t.Errorf("error %q does not name the diff ID %s", err, sha256Digest(top))
	}
	// The first image was fine, but Load stores all images or none.
	checkNothingStored(t, s)
}

func TestLoadCancelled(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	src := testImage{tags: []string{"localhost/a:1"}, layers: [][]byte{base, top}}
	data := dockerArchive(t, []testImage{src})
	ctx, cancel := context.WithCancel(context.Background())
	var reports int
	_, err := s.Load(ctx, bytes.NewReader(data), LoadOptions{Progress: func(p Progress) {
		reports++
		cancel()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Load error %v, want context.Canceled", err)
	}
	if reports == 0 {
		t.Error("Load reported no progress before it noticed the cancellation")
	}
	checkNothingStored(t, s)
}

func TestLoadRejects(t *testing.T) {
	base, _ := busyLayers(t)
	src := testImage{tags: []string{"localhost/app:v1"}, layers: [][]byte{base}}
	raw := configFile(t, src)
	layerName := hexOf(sha256Digest(base)) + ".tar"
	manifest := func(entries ...dockerEntry) tarEntry {
		return jsonEntry(t, dockerManifestFile, entries)
	}
	valid := dockerEntry{Config: "c.json", Layers: []string{layerName}}
	configEntry := tarEntry{name: "c.json", body: string(raw)}
	layerEntry := tarEntry{name: layerName, body: string(base)}
	windows := configFile(t, testImage{layers: [][]byte{base}, os: "windows"})

	tests := []struct {
		name    string
		entries []tarEntry
		wantErr error
		wantMsg string
	}{
		{name: "root file system tarball", entries: []tarEntry{dir("bin/"), file("bin/sh", "x")},
			wantErr: ErrInvalidArchive, wantMsg: "podplug image import"},
		{name: "manifest.json not JSON", entries: []tarEntry{file(dockerManifestFile, "[{")},
			wantErr: ErrInvalidArchive},
		{name: "manifest.json empty list", entries: []tarEntry{file(dockerManifestFile, "[]")},
			wantErr: ErrInvalidArchive, wantMsg: "lists no images"},
		{name: "config missing", entries: []tarEntry{layerEntry, manifest(valid)},
			wantErr: ErrInvalidArchive, wantMsg: `"c.json" is missing`},
		{name: "layer missing", entries: []tarEntry{configEntry, manifest(valid)},
			wantErr: ErrInvalidArchive, wantMsg: "is missing"},
		{name: "more layer files than diff IDs", entries: []tarEntry{configEntry, layerEntry,
			manifest(dockerEntry{Config: "c.json", Layers: []string{layerName, layerName}})},
			wantErr: ErrInvalidArchive, wantMsg: "2 layer files for 1 diff IDs"},
		{name: "config not JSON", entries: []tarEntry{file("c.json", "{"), layerEntry,
			manifest(valid)}, wantErr: ErrInvalidImage},
		{name: "windows image", entries: []tarEntry{{name: "c.json", body: string(windows)},
			layerEntry, manifest(valid)}, wantErr: ErrInvalidImage, wantMsg: "windows"},
		{name: "invalid tag", entries: []tarEntry{configEntry, layerEntry,
			manifest(dockerEntry{Config: "c.json", RepoTags: []string{"Bad Name"},
				Layers: []string{layerName}})}, wantErr: ErrInvalidName},
		{name: "config through an escaping symlink", entries: []tarEntry{
			symlink("c.json", "../../../etc/passwd"), layerEntry, manifest(valid)},
			wantErr: ErrUnsafePath},
		{name: "config through an absolute symlink", entries: []tarEntry{
			symlink("c.json", "/etc/passwd"), layerEntry, manifest(valid)},
			wantErr: ErrInvalidArchive, wantMsg: "is missing"},
		{name: "link cycle", entries: []tarEntry{symlink("c.json", "d.json"),
			symlink("d.json", "c.json"), layerEntry, manifest(valid)},
			wantErr: ErrInvalidArchive, wantMsg: "link cycle"},
		{name: "device entry", entries: []tarEntry{{name: "c.json", typ: '3', major: 1, minor: 5},
			layerEntry, manifest(valid)}, wantErr: ErrInvalidArchive, wantMsg: "unsupported entry type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			_, err := s.Load(context.Background(), bytes.NewReader(makeTar(t, tt.entries...)),
				LoadOptions{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Load error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Load error %q does not contain %q", err, tt.wantMsg)
			}
			checkNothingStored(t, s)
		})
	}
}

func TestLoadKeepsLayersOfRemovedImage(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	first := testImage{tags: []string{"localhost/a:1"}, layers: [][]byte{base}}
	second := testImage{tags: []string{"localhost/b:1"}, layers: [][]byte{base, top}}
	load(t, s, dockerArchive(t, []testImage{first, second}))

	if _, err := s.Remove("localhost/a:1"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	checkNoLeftovers(t, s, 2)
	if _, err := s.Remove("localhost/b:1"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	checkNoLeftovers(t, s, 0)
}

func TestResolveAndUntag(t *testing.T) {
	s := newTestStore(t)
	base, _ := busyLayers(t)
	img := load(t, s, dockerArchive(t, []testImage{
		{tags: []string{"localhost/a:1", "localhost/b:1"}, layers: [][]byte{base}},
	}))[0]

	tests := []struct {
		ref      string
		wantName string
	}{
		{ref: "a:1", wantName: "localhost/a:1"},
		{ref: "localhost/b:1", wantName: "localhost/b:1"},
		{ref: img.ID, wantName: ""},
		{ref: img.ID[len("sha256:"):][:12], wantName: ""},
	}
	for _, tt := range tests {
		found, name, err := s.Resolve(tt.ref)
		if err != nil {
			t.Errorf("Resolve(%s): %v", tt.ref, err)
			continue
		}
		if found.ID != img.ID || name != tt.wantName {
			t.Errorf("Resolve(%s) = %s, %q; want %s, %q", tt.ref, found.ID, name, img.ID, tt.wantName)
		}
	}

	untagged, err := s.Untag("localhost/a:1")
	if err != nil {
		t.Fatalf("Untag: %v", err)
	}
	if !slices.Equal(untagged.Names, []string{"localhost/b:1"}) {
		t.Errorf("names after Untag %q, want [localhost/b:1]", untagged.Names)
	}
	if _, err := s.Lookup("localhost/a:1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Lookup of the removed name: %v, want not found", err)
	}
	if _, err := s.Untag("localhost/a:1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Untag: %v, want not found", err)
	}
	checkNoLeftovers(t, s, 1)
}

// TestLoadRepeatedLayer loads an image that lists one empty layer twice, as
// older Docker builds do, and mounts it: overlayfs rejects a lower
// directory given twice.
func TestLoadRepeatedLayer(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	emptyLayer := makeTar(t)
	src := testImage{tags: []string{"localhost/repeat:1"},
		layers: [][]byte{emptyLayer, base, emptyLayer, top, emptyLayer}}
	img := load(t, s, dockerArchive(t, []testImage{src}))[0]

	if len(img.Layers) != 5 {
		t.Errorf("layers %q, want all 5 the config lists", img.Layers)
	}
	dirs := s.LayerDirs(img)
	if len(dirs) != 3 {
		t.Errorf("LayerDirs %q, want 3 distinct directories", dirs)
	}
	if len(dirs) > 0 && dirs[0] != s.layerDir(hexOf(sha256Digest(emptyLayer))) {
		t.Errorf("LayerDirs %q, want the empty layer on top, where the image lists it last", dirs)
	}
	checkNoLeftovers(t, s, 3)
	checkRootfs(t, s, img)
}

// TestLoadLayerRemovedMeanwhile removes the only other image that has a
// layer after Load found that layer present and before Load stores its
// image: Load extracts the layer again instead of listing a missing one.
func TestLoadLayerRemovedMeanwhile(t *testing.T) {
	s := newTestStore(t)
	base, top := busyLayers(t)
	first := testImage{tags: []string{"localhost/a:1"}, layers: [][]byte{base}}
	second := testImage{tags: []string{"localhost/b:1"}, layers: [][]byte{base, top}}
	load(t, s, dockerArchive(t, []testImage{first}))
	data := dockerArchive(t, []testImage{second})

	removed := false
	progress := func(p Progress) {
		if p.Reused && !removed {
			removed = true
			if _, err := s.Remove("localhost/a:1"); err != nil {
				t.Errorf("Remove: %v", err)
			}
		}
	}
	images, err := s.Load(context.Background(), bytes.NewReader(data), LoadOptions{Progress: progress})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !removed {
		t.Fatal("Load did not report the base layer as present")
	}
	checkNoLeftovers(t, s, 2)
	checkRootfs(t, s, images[0])
}
