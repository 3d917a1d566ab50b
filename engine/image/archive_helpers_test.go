package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/podplug/podplug/engine/model"
)

// testImage describes an image for the archive builders: its layers as
// uncompressed tar streams, bottom first, its tags and its config.
type testImage struct {
	tags   []string
	layers [][]byte
	config v1.Config
	// os overrides the config's operating system, "linux" when empty.
	os string
}

func sha256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func hexOf(digest string) string { return digest[len("sha256:"):] }

// configFile returns the JSON config file of img.
func configFile(t testing.TB, img testImage) []byte {
	t.Helper()
	osName := img.os
	if osName == "" {
		osName = "linux"
	}
	cf := v1.ConfigFile{
		Architecture: "amd64", OS: osName, Config: img.config,
		RootFS: v1.RootFS{Type: "layers"},
	}
	for _, layer := range img.layers {
		h, err := v1.NewHash(sha256Digest(layer))
		if err != nil {
			t.Fatal(err)
		}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
	}
	raw, err := json.Marshal(cf)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// dockerEntry is one image entry of manifest.json.
type dockerEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// dockerArchive returns a docker-archive of images laid out as podman save
// writes it: <diff ID hex>.tar layers, <config digest hex>.json configs,
// manifest.json and repositories. Layers that several images share are
// written once. extra entries are appended at the end.
func dockerArchive(t testing.TB, images []testImage, extra ...tarEntry) []byte {
	t.Helper()
	var entries []tarEntry
	var manifest []dockerEntry
	repos := map[string]map[string]string{}
	written := map[string]bool{}
	for _, img := range images {
		raw := configFile(t, img)
		entry := dockerEntry{Config: hexOf(sha256Digest(raw)) + ".json", RepoTags: img.tags}
		entries = append(entries, tarEntry{name: entry.Config, body: string(raw)})
		for _, layer := range img.layers {
			name := hexOf(sha256Digest(layer)) + ".tar"
			entry.Layers = append(entry.Layers, name)
			if !written[name] {
				entries = append(entries, tarEntry{name: name, body: string(layer)})
				written[name] = true
			}
		}
		manifest = append(manifest, entry)
		for _, tag := range img.tags {
			repo, version := splitTag(tag)
			if repos[repo] == nil {
				repos[repo] = map[string]string{}
			}
			repos[repo][version] = hexOf(sha256Digest(img.layers[len(img.layers)-1]))
		}
	}
	entries = append(entries, jsonEntry(t, dockerManifestFile, manifest),
		jsonEntry(t, dockerRepositoriesFile, repos))
	return makeTar(t, append(entries, extra...)...)
}

// splitTag splits "repo:tag" at its last colon after the last slash.
func splitTag(name string) (string, string) {
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == ':' {
			return name[:i], name[i+1:]
		}
	}
	return name, "latest"
}

func jsonEntry(t testing.TB, name string, v any) tarEntry {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return tarEntry{name: name, body: string(data)}
}

// v1Image returns img as a go-containerregistry image with gzip-compressed
// OCI layers, the form registries and OCI layouts hold.
func v1Image(t testing.TB, img testImage) v1.Image {
	t.Helper()
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	var adds []mutate.Addendum
	for _, layer := range img.layers {
		compressed := gzipBytes(t, layer)
		adds = append(adds, mutate.Addendum{
			Layer: &testLayer{Layer: static.NewLayer(compressed, types.OCILayer),
				diffID: sha256Digest(layer), uncompressed: layer},
		})
	}
	out, err := mutate.Append(base, adds...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := out.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config = img.config
	cf.OS, cf.Architecture = "linux", hostPlatform().Architecture
	if out, err = mutate.ConfigFile(out, cf); err != nil {
		t.Fatal(err)
	}
	return out
}

// testLayer is a static compressed layer with its diff ID and uncompressed
// content, which static.NewLayer does not compute.
type testLayer struct {
	v1.Layer
	diffID       string
	uncompressed []byte
}

func (l *testLayer) DiffID() (v1.Hash, error) { return v1.NewHash(l.diffID) }

func (l *testLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.uncompressed)), nil
}

// ociLayoutDir writes img into a new OCI layout directory, its index entry
// annotated with refName unless that is empty, and returns the directory.
func ociLayoutDir(t testing.TB, img v1.Image, refName string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{annotationRefName: refName}))
	}
	if err := lp.AppendImage(img, opts...); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tarDir returns a tar archive of the files below dir.
func tarDir(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := entry.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if entry.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if entry.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// load runs Load on data and fails t on error.
func load(t *testing.T, s *Store, data []byte) []*model.Image {
	t.Helper()
	images, err := s.Load(context.Background(), bytes.NewReader(data), LoadOptions{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return images
}

// checkNothingStored fails t unless s has no image, no layer directory and
// nothing below its tmp directory.
func checkNothingStored(t *testing.T, s *Store) {
	t.Helper()
	images, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 0 {
		t.Errorf("store has %d images, want none", len(images))
	}
	checkNoLeftovers(t, s, 0)
}

// checkNoLeftovers fails t unless s has wantLayers layer directories and
// nothing below its tmp directory.
func checkNoLeftovers(t *testing.T, s *Store, wantLayers int) {
	t.Helper()
	if names := dirNames(t, s.layersDir()); len(names) != wantLayers {
		t.Errorf("layer directories %q, want %d", names, wantLayers)
	}
	if names := dirNames(t, s.tmpDir()); len(names) != 0 {
		t.Errorf("temporary directories left: %q", names)
	}
}

// busyLayers returns two layers: a base with /bin/sh, /etc/hostname,
// /etc/old and a directory /data with two files, and a top layer that
// deletes /etc/old with a whiteout, makes /data opaque with one new file,
// and adds /msg.
func busyLayers(t testing.TB) (base, top []byte) {
	t.Helper()
	base = makeTar(t, dir("bin/"), file("bin/sh", "#!shell"), dir("etc/"),
		file("etc/hostname", "base"), file("etc/old", "old"),
		dir("data/"), file("data/a", "a"), file("data/b", "b"))
	top = makeTar(t, dir("etc/"), file("etc/.wh.old", ""), dir("data/"),
		file("data/.wh..wh..opq", ""), file("data/c", "c"), file("msg", "hello from the top layer"))
	return base, top
}
