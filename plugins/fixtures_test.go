package plugins

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

//go:generate sh testdata/gen.sh

// goBuildDir holds the Go-built test plugins of this test process.
var goBuildDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if goBuildDir != "" {
		_ = os.RemoveAll(goBuildDir)
	}
	os.Exit(code)
}

// fixture returns the committed module testdata/NAME.wasm.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
	if err != nil {
		t.Fatalf("read fixture %s: %v (run go generate ./plugins with wabt installed)", name, err)
	}
	return wasm
}

// testManifest returns a valid manifest pinned to wasm, with defaults applied.
func testManifest(name string, wasm []byte, hooks ...string) *Manifest {
	sum := sha256.Sum256(wasm)
	m := &Manifest{Name: name, Version: "1.0.0", SHA256: hex.EncodeToString(sum[:]), Hooks: hooks}
	m.applyDefaults()
	return m
}

func newTestRuntime(t testing.TB, cfg Config) *Runtime {
	t.Helper()
	r, err := NewRuntime(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewRuntime: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(context.Background()); err != nil {
			t.Errorf("close runtime: %v", err)
		}
	})
	return r
}

// loadFixture loads testdata/FIXTURE.wasm as plugin name, after edit
// changes its manifest.
func loadFixture(t testing.TB, r *Runtime, fixtureName string, edit func(*Manifest),
	hooks ...string) *Plugin {
	t.Helper()
	wasm := fixture(t, fixtureName)
	m := testManifest(fixtureName, wasm, hooks...)
	if edit != nil {
		edit(m)
	}
	p, err := r.Load(context.Background(), wasm, m)
	if err != nil {
		t.Fatalf("load %s: %v", fixtureName, err)
	}
	return p
}

// wantFailure checks that err is a *Failure of type want whose message
// contains every fragment.
func wantFailure(t *testing.T, err error, want FailureType, fragments ...string) *Failure {
	t.Helper()
	f, ok := err.(*Failure)
	if !ok {
		t.Fatalf("error = %v (%T), want a *Failure of type %s", err, err, want)
	}
	if f.Type != want {
		t.Fatalf("failure type = %s, want %s (%v)", f.Type, want, f)
	}
	for _, frag := range fragments {
		if !strings.Contains(f.Error(), frag) {
			t.Errorf("failure %q does not contain %q", f.Error(), frag)
		}
	}
	return f
}

func TestFixturesUpToDate(t *testing.T) {
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm not found (Debian package wabt): using the committed .wasm files")
	}
	sources, _ := filepath.Glob("testdata/*.wat")
	for _, src := range sources {
		name := strings.TrimSuffix(filepath.Base(src), ".wat")
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name+".wasm")
			if msg, err := exec.Command(wat2wasm, src, "-o", out).CombinedOutput(); err != nil {
				t.Fatalf("wat2wasm %s: %v\n%s", src, err, msg)
			}
			built, _ := os.ReadFile(out)
			if !bytes.Equal(built, fixture(t, name)) {
				t.Errorf("testdata/%s.wasm is stale: run go generate ./plugins", name)
			}
		})
	}
}

// testTempDir returns a directory that lasts for the whole test process,
// for Go-built plugins and the compilation cache they share.
func testTempDir(t testing.TB) string {
	t.Helper()
	goBuildDirOnce.Do(func() {
		dir, err := os.MkdirTemp("", "podplug-plugins-test")
		if err != nil {
			t.Fatal(err)
		}
		goBuildDir = dir
	})
	return goBuildDir
}

var goBuildDirOnce sync.Once

// goCacheConfig returns a Config whose compilation cache lasts for the test
// process, so each Go-built plugin is compiled once, not once per test.
func goCacheConfig(t testing.TB) Config {
	return Config{CacheDir: filepath.Join(testTempDir(t), "cache")}
}

var goBuilds = struct {
	sync.Mutex
	wasm map[string][]byte
}{wasm: map[string][]byte{}}

// buildGoPlugin builds the Go plugin package pkg (a directory relative to
// the plugins package) with GOOS=wasip1 -buildmode=c-shared, once per test
// process. It skips when the package or the go command is missing.
func buildGoPlugin(t testing.TB, pkg string) []byte {
	t.Helper()
	goBuilds.Lock()
	defer goBuilds.Unlock()
	if wasm, ok := goBuilds.wasm[pkg]; ok {
		return wasm
	}
	if _, err := os.Stat(pkg); err != nil {
		t.Skipf("Go plugin %s does not exist yet: %v", pkg, err)
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found: cannot build Go plugins")
	}
	out := filepath.Join(testTempDir(t), strings.ReplaceAll(filepath.Clean(pkg), "/", "_")+".wasm")
	cmd := exec.Command(gocmd, "build", "-buildmode=c-shared", "-o", out, "./"+pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build Go plugin %s: %v\n%s", pkg, err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	goBuilds.wasm[pkg] = wasm
	return wasm
}
