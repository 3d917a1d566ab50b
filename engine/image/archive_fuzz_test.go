package image

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/podplug/podplug/store"
)

func FuzzParseDockerManifest(f *testing.F) {
	seeds := []string{
		`[{"Config":"c.json","RepoTags":["busybox:latest"],"Layers":["a.tar","b/layer.tar"]}]`,
		`[{"Config":"c.json","RepoTags":null,"Layers":["a.tar"]},{"Config":"d.json","Layers":["a.tar"]}]`,
		`[{"Config":"c.json","Layers":["a.tar"],"LayerSources":{"sha256:` +
			`aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":{"size":1}}}]`,
		`[]`, `{}`, `null`, `[{"Config":""}]`, `[{"Config":"c","Layers":[]}]`,
		`[{"Config":"../../etc/passwd","RepoTags":["Bad Name"],"Layers":["/abs"]}]`,
	}
	for _, seed := range seeds {
		f.Add([]byte(seed), []byte(`{"busybox":{"latest":"b"}}`))
	}

	f.Fuzz(func(t *testing.T, manifestData, reposData []byte) {
		manifest, err := parseDockerManifest(manifestData)
		if err != nil {
			if !errors.Is(err, ErrInvalidArchive) {
				t.Fatalf("parseDockerManifest error %v does not wrap ErrInvalidArchive", err)
			}
			return
		}
		for _, entry := range manifest {
			if entry.Config == "" || len(entry.Layers) == 0 {
				t.Fatalf("parseDockerManifest accepted an entry without config or layers: %+v", entry)
			}
			names, err := normalizeDockerNames(entry.RepoTags)
			if err == nil && len(names) > len(entry.RepoTags) {
				t.Fatalf("%d names from %d tags", len(names), len(entry.RepoTags))
			}
		}
		repos, err := parseDockerRepositories(reposData)
		if err != nil {
			return
		}
		for _, entry := range manifest {
			repos.namesFor(entry.Layers[len(entry.Layers)-1])
		}
	})
}

// FuzzLoad feeds arbitrary streams to Load, seeded with valid archives of
// each format. Whatever the input, Load must fail with nothing left behind
// or store images whose layers are all present, and never write outside
// its store.
//
// Run it with a short -fuzzminimizetime, such as 2s: Load runs about a
// hundred times a second here, so minimizing each new multi-KiB input for
// the default 60 s stalls the fuzzer for minutes.
func FuzzLoad(f *testing.F) {
	requireRoot(f)
	base, top := busyLayers(f)
	src := testImage{tags: []string{"localhost/app:v1"}, layers: [][]byte{base, top},
		config: v1.Config{Cmd: []string{"/bin/sh"}}}
	seeds := [][]byte{
		dockerArchive(f, []testImage{src}),
		dockerArchive(f, []testImage{src, {layers: [][]byte{base}}}),
		tarDir(f, ociLayoutDir(f, v1Image(f, src), "localhost/oci:v1")),
		makeTar(f, symlink("manifest.json", "m"), file("m", `[{"Config":"c","Layers":["l"]}]`),
			symlink("c", fuzzOutside+"/c"), symlink("l", "../../l")),
		makeTar(f, hardlink("manifest.json", "../manifest.json")),
	}
	for _, seed := range seeds {
		f.Add(seed)
		f.Add(gzipBytes(f, seed))
	}

	db, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	base2 := f.TempDir()
	s, err := NewStore(filepath.Join(base2, "images"), db, nil)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if dataBytes(data) > maxFuzzFileBytes {
			t.Skip("input writes more than the fuzz limit")
		}
		if err := os.MkdirAll(fuzzOutside, 0o755); err != nil {
			t.Fatal(err)
		}

		images, err := s.Load(context.Background(), bytes.NewReader(data), LoadOptions{})
		if err == nil {
			for _, img := range images {
				for _, dir := range s.LayerDirs(img) {
					if _, err := os.Stat(dir); err != nil {
						t.Fatalf("image %s: layer directory: %v", img.ID, err)
					}
				}
			}
		}
		if names := dirNames(t, s.tmpDir()); len(names) != 0 {
			t.Fatalf("Load left temporary directories %q", names)
		}
		if names := dirNames(t, base2); len(names) != 1 {
			t.Fatalf("Load wrote %q next to the store", names)
		}
		if names := dirNames(t, fuzzOutside); len(names) != 0 {
			t.Fatalf("Load wrote %q into %s", names, fuzzOutside)
		}
	})
}
