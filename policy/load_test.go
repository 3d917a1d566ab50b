package policy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	emptyDir := t.TempDir()
	writeFile(t, emptyDir, "only_test.rego", "package podplug_test\n\ntest_nothing if true\n")

	tests := []struct {
		name    string
		dir     string
		wantErr error
		want    []string // substrings of the error
	}{
		{name: "syntax error", dir: "testdata/syntax", wantErr: ErrInvalidPolicy,
			want: []string{"policy.rego:7", "rego_parse_error"}},
		{name: "type error", dir: "testdata/typeerror", wantErr: ErrInvalidPolicy,
			want: []string{"policy.rego:7", "rego_type_error", "upper"}},
		{name: "unsafe variable", dir: "testdata/unsafe", wantErr: ErrInvalidPolicy,
			want: []string{"policy.rego:7", "var x is unsafe"}},
		{name: "bad data file", dir: "testdata/baddata", wantErr: ErrInvalidPolicy,
			want: []string{"data.yaml"}},
		{name: "missing directory", dir: "testdata/does-not-exist", wantErr: fs.ErrNotExist},
		{name: "only tests", dir: emptyDir, wantErr: ErrNoPolicies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(context.Background(), Options{Dir: tt.dir})

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Load error = %v, want %v", err, tt.wantErr)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Load error = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadSkipsTestFiles(t *testing.T) {
	e := loadEngine(t, Options{Dir: shippedDir})

	for _, f := range e.Files() {
		if strings.HasSuffix(f, "_test.rego") {
			t.Errorf("Files() contains test file %s", f)
		}
	}
	if got := len(e.Files()); got != 5 {
		t.Errorf("len(Files()) = %d, want 5 (%v)", got, e.Files())
	}
}

func TestLoadBundleTarball(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policies.tar.gz")
	writeTarball(t, path, shippedDir, "base.rego", "tenant_isolation.rego", "data.yaml")
	e := loadEngine(t, Options{Dir: path})

	own := e.Decide(context.Background(),
		Input{Operation: OpPodStart, Subject: alice(), Target: pod("web", "blue")})
	other := e.Decide(context.Background(),
		Input{Operation: OpPodStart, Subject: alice(), Target: pod("db", "red")})

	if !own.Allowed {
		t.Errorf("own pod: reasons %v, want allowed", own.Reasons)
	}
	if other.Allowed || !other.Hidden() {
		t.Errorf("other tenant's pod: Allowed %v, reasons %v, want hidden", other.Allowed, other.Reasons)
	}
}

func writeTarball(t *testing.T, path, src string, names ...string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		hdr := &tar.Header{Name: "/" + name, Mode: 0o644, Size: int64(len(data))}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReloadKeepsOldPoliciesOnError(t *testing.T) {
	dir := copyFiles(t, shippedDir, "base.rego", "tenant_isolation.rego",
		"no_privileged.rego", "quotas.rego", "image_allowlist.rego", "data.yaml")
	e := loadEngine(t, Options{Dir: dir})
	privileged := createInput(1, func(in *Input) { in.Spec.Containers[0].Privileged = true })
	ctx := context.Background()

	before := e.Decide(ctx, privileged)
	if before.Allowed {
		t.Fatalf("privileged container allowed before reload")
	}

	writeFile(t, dir, "broken.rego", "package podplug\n\nallow if {\n\tinput.x ==\n}\n")
	err := e.Reload(ctx)
	if !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("Reload error = %v, want ErrInvalidPolicy", err)
	}
	if !strings.Contains(err.Error(), "broken.rego:5") {
		t.Errorf("Reload error = %q, want it to name broken.rego:5", err)
	}
	after := e.Decide(ctx, privileged)
	if after.Allowed || !sameCodes(codes(after), codes(before)) {
		t.Errorf("after failed reload: Allowed %v, reasons %v, want %v",
			after.Allowed, after.Reasons, before.Reasons)
	}

	if err := os.Remove(filepath.Join(dir, "broken.rego")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "no_privileged.rego")); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(ctx); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if d := e.Decide(ctx, privileged); !d.Allowed {
		t.Errorf("after removing no_privileged.rego: reasons %v, want allowed", d.Reasons)
	}
}

// TestDecideDuringReload runs decisions and listings on several goroutines
// while the policy set flips between allow-all, deny-all and a broken file.
// Every decision must come from one whole set: allowed, or denied with the
// deny-all reason, never an error or an undefined result. Run it with -race.
func TestDecideDuringReload(t *testing.T) {
	const allowAll = "package podplug\n\ndefault allow := true\n\ndefault visible := true\n"
	const denyAll = "package podplug\n\ndefault allow := false\n\ndefault visible := false\n\n" +
		"deny contains {\"code\": \"closed\", \"message\": \"closed for the test\"}\n"
	const broken = "package podplug\n\nallow := \n"
	closed := Reason{"closed", "closed for the test"}

	dir := t.TempDir()
	writeFile(t, dir, "policy.rego", allowAll)
	// The long timeout keeps a busy machine from turning a slow evaluation
	// into a policy_timeout: this test is about atomic swaps, not speed.
	e := loadEngine(t, Options{Dir: dir, DecisionLog: &bytes.Buffer{}, Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())

	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		wg.Go(func() {
			input := Input{Operation: OpPodStart, Subject: alice(), Target: pod("web", "blue")}
			for ctx.Err() == nil {
				d := e.Decide(context.Background(), input)
				if !d.Allowed && (len(d.Reasons) != 1 || d.Reasons[0] != closed) {
					errs <- fmt.Sprintf("decision from no whole set: %v", d.Reasons)
					return
				}
				if _, err := e.Visible(context.Background(), input, []Target{*pod("a", "blue")}); err != nil {
					errs <- "listing failed: " + err.Error()
					return
				}
			}
		})
	}

	for i := range 60 {
		content := []string{allowAll, denyAll, broken}[i%3]
		writeFile(t, dir, "policy.rego", content)
		err := e.Reload(context.Background())
		if (content == broken) != (err != nil) {
			t.Errorf("reload %d: err = %v", i, err)
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
