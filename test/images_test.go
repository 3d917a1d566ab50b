package test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/podplug/podplug/engine/model"
)

// savedGreeting is what the image of savedArchive prints: its Cmd echoes
// its Env in its WorkingDir.
const savedGreeting = "hello from /tmp"

// savedConfig is the config of the image in savedArchive, as podman import
// --change sets it and as the built archive writes it.
var savedConfig = v1.Config{
	Env:        []string{"PATH=/bin", "GREETING=hello"},
	WorkingDir: "/tmp",
	Cmd:        []string{"/bin/sh", "-c", "echo $GREETING from $(pwd)"},
}

// savedArchive returns the path of a docker-archive of busybox named
// localhost/saved:latest with savedConfig. When podman is installed,
// podman import and podman save make it in a private storage root;
// otherwise the test builds the same layout podman writes.
func savedArchive(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("podman"); err == nil {
		return podmanSave(t)
	}
	t.Log("podman is not installed: building the docker-archive in the test")
	layer, err := os.ReadFile(busyboxTar)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "saved.tar")
	writeDockerArchive(t, path, []archiveImage{{tags: []string{"localhost/saved:latest"},
		layers: [][]byte{layer}, config: savedConfig}})
	return path
}

// podmanSave makes the archive of savedArchive with podman. podman's
// storage, run and temporary directories live below a test directory, and
// podman runs in its own mount namespace with a tmpfs over
// /var/lib/containers/cache, where podman 4.3 keeps a blob cache that
// --root does not move. So the host's podman storage is never touched.
func podmanSave(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "podplug-podman-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cacheMount := "/var/lib/containers/cache"
	if _, err := os.Stat(cacheMount); err != nil {
		// Nothing to hide, but podman would create it: hide its parent.
		cacheMount = "/var/lib"
	}
	archive := filepath.Join(dir, "saved.tar")
	script := `set -e
mount -t tmpfs podplug-test "$1"; shift
podman "$@" import \
	--change 'ENV PATH=/bin' --change 'ENV GREETING=hello' --change 'WORKDIR /tmp' \
	--change 'CMD ["/bin/sh", "-c", "echo $GREETING from $(pwd)"]' \
	"$BUSYBOX_TAR" localhost/saved
podman "$@" save -o "$ARCHIVE" localhost/saved
`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script,
		"sh", cacheMount,
		"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--tmpdir", filepath.Join(dir, "tmp"), "--storage-driver", "vfs",
		"--events-backend", "none")
	cmd.Env = append(os.Environ(), "BUSYBOX_TAR="+busyboxTar, "ARCHIVE="+archive)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("podman import and save: %v\n%s", err, out)
	}
	return archive
}

// archiveImage is one image of writeDockerArchive: uncompressed layer tars,
// bottom first.
type archiveImage struct {
	tags   []string
	layers [][]byte
	config v1.Config
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// writeDockerArchive writes images to path as podman save lays out a
// docker-archive: <diff ID>.tar layers, <config digest>.json configs,
// manifest.json and repositories.
func writeDockerArchive(t *testing.T, path string, images []archiveImage) {
	t.Helper()
	files := map[string][]byte{}
	var order []string
	add := func(name string, data []byte) {
		if _, ok := files[name]; !ok {
			order = append(order, name)
		}
		files[name] = data
	}
	type entry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var manifest []entry
	repos := map[string]map[string]string{}
	for _, img := range images {
		cf := v1.ConfigFile{Architecture: "amd64", OS: "linux", Config: img.config,
			RootFS: v1.RootFS{Type: "layers"}}
		e := entry{RepoTags: img.tags}
		for _, layer := range img.layers {
			h, err := v1.NewHash("sha256:" + sha256Hex(layer))
			if err != nil {
				t.Fatal(err)
			}
			cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
			e.Layers = append(e.Layers, h.Hex+".tar")
			add(h.Hex+".tar", layer)
		}
		raw, err := json.Marshal(cf)
		if err != nil {
			t.Fatal(err)
		}
		e.Config = sha256Hex(raw) + ".json"
		add(e.Config, raw)
		manifest = append(manifest, e)
		for _, tag := range img.tags {
			i := strings.LastIndex(tag, ":")
			if repos[tag[:i]] == nil {
				repos[tag[:i]] = map[string]string{}
			}
			repos[tag[:i]][tag[i+1:]] = strings.TrimSuffix(e.Layers[len(e.Layers)-1], ".tar")
		}
	}
	for name, v := range map[string]any{"manifest.json": manifest, "repositories": repos} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		add(name, data)
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range order {
		hdr := &tar.Header{Name: name, Mode: 0o444, Size: int64(len(files[name])),
			ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// layerTar returns an uncompressed layer with the given entries: a name
// ending in "/" is a directory, others are files with the given content.
func layerTar(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(e[0], "/") {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// runImage runs image's own command in a new pod, waits for it to exit 0
// and returns its logs.
func (e *Env) runImage(pod, image string) string {
	e.t.Helper()
	e.CreatePod(pod)
	e.MustRun("create", "--pod", pod, "--name", pod+"-app", image)
	e.MustRun("pod", "start", pod)
	if code := e.MustRun("wait", pod+"-app"); code != "0" {
		e.t.Fatalf("%s exited with %s, want 0; logs:\n%s", image, code, e.Run("logs", pod+"-app").Stdout)
	}
	return e.MustRun("logs", pod+"-app")
}

// layerCount returns the number of layer directories of the engine.
func (e *Env) layerCount() int {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.Root, "images", "layers"))
	if err != nil {
		e.t.Fatal(err)
	}
	return len(entries)
}

// inspectImage returns `image inspect` decoded.
func (e *Env) inspectImage(ref string) model.Image {
	e.t.Helper()
	var img model.Image
	decodeJSON(e.t, e.MustRun("image", "inspect", ref), &img)
	return img
}

func TestImageLoadPodmanSaveRuns(t *testing.T) {
	e := NewEnv(t)
	archive := savedArchive(t)

	r := e.Run("load", "-i", archive)
	if r.Code != 0 {
		t.Fatalf("load: exit %d: %s", r.Code, r.Stderr)
	}
	if got := strings.TrimSpace(r.Stdout); got != "Loaded image: localhost/saved:latest" {
		t.Errorf("load output %q, want Loaded image: localhost/saved:latest", got)
	}
	if r.Stderr != "" {
		t.Errorf("load wrote to a stderr that is not a terminal: %q", r.Stderr)
	}

	img := e.inspectImage("localhost/saved")
	if !slices.Equal(img.Config.Cmd, savedConfig.Cmd) {
		t.Errorf("inspect: cmd %q, want %q", img.Config.Cmd, savedConfig.Cmd)
	}
	if img.Config.WorkingDir != "/tmp" {
		t.Errorf("inspect: working dir %q, want /tmp", img.Config.WorkingDir)
	}
	if !slices.Contains(img.Config.Env, "GREETING=hello") {
		t.Errorf("inspect: env %q lacks GREETING=hello", img.Config.Env)
	}
	// Loading the same archive again adds a name at most, never a layer.
	layers := e.layerCount()
	e.MustRun("image", "load", "-i", archive)
	if n := e.layerCount(); n != layers {
		t.Errorf("%d layer directories after loading the archive again, want %d", n, layers)
	}

	if out := e.runImage("saved", "localhost/saved"); !strings.Contains(out, savedGreeting) {
		t.Errorf("logs %q, want %q from the image's Cmd", out, savedGreeting)
	}
}

func TestImageLoadMultiLayerWhiteouts(t *testing.T) {
	e := NewEnv(t)
	base, err := os.ReadFile(busyboxTar)
	if err != nil {
		t.Fatal(err)
	}
	data := layerTar(t, [2]string{"data/", ""}, [2]string{"data/a", "a"},
		[2]string{"data/b", "b"}, [2]string{"etc/motd", "old"})
	top := layerTar(t, [2]string{"etc/.wh.motd", ""}, [2]string{"data/.wh..wh..opq", ""},
		[2]string{"data/c", "c"})
	script := []string{"/bin/sh", "-c", "ls /data; test -e /etc/motd || echo motd gone"}
	archive := filepath.Join(t.TempDir(), "multi.tar")
	writeDockerArchive(t, archive, []archiveImage{
		{tags: []string{"example.com/layered:v1"}, layers: [][]byte{base, data, top},
			config: v1.Config{Cmd: script}},
		{tags: []string{"example.com/data:v1"}, layers: [][]byte{base, data},
			config: v1.Config{Cmd: script}},
	})

	out := e.MustRun("image", "load", "-i", archive)
	want := "Loaded image: example.com/layered:v1\nLoaded image: example.com/data:v1"
	if out != want {
		t.Errorf("load output %q, want %q", out, want)
	}
	if n := e.layerCount(); n != 3 {
		t.Errorf("%d layer directories, want 3: busybox, data and top, each once", n)
	}

	if got := e.runImage("layered", "example.com/layered:v1"); got != "c\nmotd gone" {
		t.Errorf("layered image sees %q, want c and no /etc/motd", got)
	}
	if got := e.runImage("data", "example.com/data:v1"); got != "a\nb" {
		t.Errorf("two-layer image sees %q, want a and b, and /etc/motd", got)
	}
}

func TestImageLoadOCILayoutDirectory(t *testing.T) {
	e := NewEnv(t)
	base, err := os.ReadFile(busyboxTar)
	if err != nil {
		t.Fatal(err)
	}
	img := buildImage(t, [][]byte{base, layerTar(t, [2]string{"msg", "from an OCI layout\n"})},
		v1.Config{Cmd: []string{"/bin/cat", "/msg"}})
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	err = lp.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": "localhost/oci:v1"}))
	if err != nil {
		t.Fatal(err)
	}

	if out := e.MustRun("load", "-i", dir); out != "Loaded image: localhost/oci:v1" {
		t.Errorf("load output %q, want Loaded image: localhost/oci:v1", out)
	}
	if got := e.runImage("oci", "localhost/oci:v1"); got != "from an OCI layout" {
		t.Errorf("logs %q, want the image's /msg", got)
	}
}

// buildImage returns an image of uncompressed layers with config.
func buildImage(t *testing.T, layers [][]byte, config v1.Config) v1.Image {
	t.Helper()
	img := empty.Image
	for _, data := range layers {
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = "linux", "amd64", config
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestImageLoadTruncatedArchive(t *testing.T) {
	e := NewEnv(t)
	data, err := os.ReadFile(savedArchive(t))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.tar")
	if err := os.WriteFile(cut, data[:len(data)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}

	r := e.Run("load", "-i", cut)
	if r.Code != 125 {
		t.Errorf("load of a truncated archive: exit %d, want 125", r.Code)
	}
	if !strings.Contains(r.Stderr, "invalid archive") {
		t.Errorf("load of a truncated archive: stderr %q does not say invalid archive", r.Stderr)
	}
	if out := e.MustRun("image", "ls", "-q"); strings.Count(out, "\n") != 0 {
		t.Errorf("images after a failed load:\n%s\nwant busybox only", out)
	}
	tmp, err := os.ReadDir(filepath.Join(e.Root, "images", "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tmp) != 0 {
		t.Errorf("temporary directories left after a failed load: %d", len(tmp))
	}
	if n := e.layerCount(); n != 1 {
		t.Errorf("%d layer directories after a failed load, want busybox's only", n)
	}
}

// startRegistry runs an in-memory registry on 127.0.0.1 for the test.
func startRegistry(t *testing.T) string {
	t.Helper()
	server := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(server.Close)
	return strings.TrimPrefix(server.URL, "http://")
}

func TestImagePullFromRegistry(t *testing.T) {
	e := NewEnv(t)
	host := startRegistry(t)
	base, err := os.ReadFile(busyboxTar)
	if err != nil {
		t.Fatal(err)
	}
	img := buildImage(t, [][]byte{base, layerTar(t, [2]string{"msg", "from the registry\n"})},
		v1.Config{Cmd: []string{"/bin/cat", "/msg"}})
	ref := host + "/test/app:v1"
	parsed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(parsed, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}

	r := e.Run("pull", ref)
	if r.Code != 125 || !strings.Contains(r.Stderr, "--tls-verify=false") {
		t.Errorf("pull over plain HTTP without --tls-verify=false: exit %d, stderr %q; "+
			"want 125 and a hint", r.Code, r.Stderr)
	}

	r = e.Run("pull", ref, "--tls-verify=false")
	if r.Code != 0 {
		t.Fatalf("pull: exit %d: %s", r.Code, r.Stderr)
	}
	configName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(r.Stdout); got != configName.String() {
		t.Errorf("pull printed %q, want the image ID %s", got, configName)
	}
	if r.Stderr != "" {
		t.Errorf("pull wrote to a stderr that is not a terminal: %q", r.Stderr)
	}
	// The busybox layer came with NewEnv's import: only /msg is new.
	if n := e.layerCount(); n != 2 {
		t.Errorf("%d layer directories after the pull, want 2", n)
	}
	if got := e.runImage("pulled", ref); got != "from the registry" {
		t.Errorf("logs %q, want the image's /msg", got)
	}

	r = e.Run("image", "pull", host+"/test/none:v1", "--tls-verify=false")
	if r.Code != 125 || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("pull of a missing image: exit %d, stderr %q; want 125 and not found",
			r.Code, r.Stderr)
	}
}

func TestImageLoadProgressOnTerminal(t *testing.T) {
	e := NewEnv(t)
	archive := filepath.Join(t.TempDir(), "a.tar")
	writeDockerArchive(t, archive, []archiveImage{{tags: []string{"localhost/p:v1"},
		layers: [][]byte{layerTar(t, [2]string{"f", "x"})}}})

	// script(1) gives podplug a pseudo-terminal, so its stderr is one.
	line := strings.Join([]string{filepath.Join(binDir, "podplug"), "--root", e.Root,
		"--run-root", e.RunRoot, "load", "-i", archive}, " ")
	out, err := exec.Command("script", "-qec", line, "/dev/null").CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	for _, want := range []string{"Storing image localhost/p:v1", "Layer 1/1", "done",
		"Loaded image: localhost/p:v1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("terminal output %q lacks %q", out, want)
		}
	}
}

func TestImageRemoveUntagsOneName(t *testing.T) {
	e := NewEnv(t)
	e.MustRun("image", "tag", "localhost/busybox", "localhost/other:1", "example.com/third:2")
	id := e.inspectImage("localhost/busybox").ID

	if out := e.MustRun("image", "rm", "other:1"); out != "Untagged: localhost/other:1" {
		t.Errorf("image rm of one of three names printed %q, want Untagged: localhost/other:1", out)
	}
	names := e.inspectImage(id).Names
	if !slices.Equal(names, []string{"localhost/busybox:latest", "example.com/third:2"}) {
		t.Errorf("names after image rm of one %q", names)
	}
	if n := e.layerCount(); n != 1 {
		t.Errorf("%d layer directories after untagging, want 1", n)
	}

	// A container keeps the image from losing its last name, not others.
	e.CreatePod("web")
	e.CreateContainer("web", "app", nil, "true")
	e.MustRun("image", "rm", "example.com/third:2")
	if r := e.Run("image", "rm", "localhost/busybox"); r.Code != 125 {
		t.Errorf("image rm of the last name of an image in use: exit %d, want 125", r.Code)
	}
	e.MustRun("rm", "app")

	out := e.MustRun("image", "rm", "localhost/busybox")
	want := "Untagged: localhost/busybox:latest\nDeleted: " + strings.TrimPrefix(id, "sha256:")
	if out != want {
		t.Errorf("image rm of the last name printed %q, want %q", out, want)
	}
	if out := e.MustRun("image", "ls", "-q"); out != "" {
		t.Errorf("images after removing the last name: %q", out)
	}
	if n := e.layerCount(); n != 0 {
		t.Errorf("%d layer directories after the image went, want 0", n)
	}
}

func TestImageRemoveByIDDeletesAllNames(t *testing.T) {
	e := NewEnv(t)
	e.MustRun("image", "tag", "localhost/busybox", "localhost/other:1")
	id := e.inspectImage("localhost/busybox").ID

	out := e.MustRun("image", "rm", strings.TrimPrefix(id, "sha256:")[:12])
	for _, want := range []string{"Untagged: localhost/busybox:latest",
		"Untagged: localhost/other:1", "Deleted: " + strings.TrimPrefix(id, "sha256:")} {
		if !strings.Contains(out, want) {
			t.Errorf("image rm by ID printed %q, lacking %q", out, want)
		}
	}
	if out := e.MustRun("image", "ls", "-q"); out != "" {
		t.Errorf("images after image rm by ID: %q", out)
	}
}
