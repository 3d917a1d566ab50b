package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// preStartPayload is a pre-start input for the second container of a pod of
// three, as ABI.md describes it.
const preStartPayload = `{
  "hook": "pre_start",
  "plugin": {"name": "PLUGIN", "config": {"env": {"TEAM": "blue"},
    "labels": {"stamped-by": "stamp"}}},
  "pod": {"id": "5f1c2a", "name": "web", "labels": {"app": "demo"}, "tenant": "blue"},
  "container": {
    "id": "9ab3e1", "name": "httpd", "image": "localhost/busybox",
    "command": ["httpd", "-f", "-p", "8080"], "env": ["PATH=/bin", "A=1"],
    "labels": {"tier": "front"}, "annotations": {}, "user": "", "work_dir": "/",
    "init": false, "infra": false,
    "mounts": [{"type": "bind", "source": "/var/lib/x", "destination": "/data",
      "read_only": true}],
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}],
    "resources": {"memory_limit": 0, "cpu_shares": 0, "pids_limit": 0}
  },
  "containers": [
    {"name": "migrate", "image": "localhost/busybox", "init": true},
    {"name": "httpd", "image": "localhost/busybox", "init": false},
    {"name": "metrics", "image": "localhost/exporter", "init": false}
  ]
}`

func payloadFor(plugin string) []byte {
	return []byte(strings.Replace(preStartPayload, "PLUGIN", plugin, 1))
}

func loadGoGuest(t *testing.T, r *Runtime, edit func(*Manifest)) *Plugin {
	t.Helper()
	wasm := buildGoPlugin(t, "testdata/goguest")
	m := testManifest("goguest", wasm, HookPreStart, HookPostStop, HookInspect)
	m.AllowedChanges = []string{"env", "labels"}
	if edit != nil {
		edit(m)
	}
	p, err := r.Load(ctx, wasm, m)
	if err != nil {
		t.Fatalf("load goguest: %v", err)
	}
	return p
}

func TestGoGuestPreStart(t *testing.T) {
	r := newTestRuntime(t, goCacheConfig(t))
	p := loadGoGuest(t, r, nil)
	out, err := p.Call(ctx, HookPreStart, payloadFor("goguest"))
	if err != nil {
		t.Fatalf("pre-start: %v", err)
	}
	var res struct {
		Status  string
		Changes struct{ Env, Labels map[string]string }
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.Changes.Env["STAMPED_BY"] != "goguest" ||
		res.Changes.Labels["stamp.pod-size"] != "3" {
		t.Errorf("result = %s", out)
	}
}

func TestGoGuestFailures(t *testing.T) {
	r := newTestRuntime(t, goCacheConfig(t))
	const timeout = 200 * time.Millisecond
	p := loadGoGuest(t, r, func(m *Manifest) {
		m.Timeout = Duration{timeout}
		// Allocating 64 MiB takes a while on a loaded machine.
		m.HookTimeouts = map[string]Duration{HookPostStop: {10 * time.Second}}
	})

	t.Run("runaway loop times out", func(t *testing.T) {
		start := time.Now()
		_, err := p.Call(ctx, HookInspect, []byte(`{}`))
		wantFailure(t, err, FailureTimeout, "exceeded 200ms")
		if elapsed := time.Since(start); elapsed >= 2*timeout {
			t.Errorf("timed-out call took %s, want under %s", elapsed, 2*timeout)
		}
	})
	t.Run("allocating past the limit", func(t *testing.T) {
		_, err := p.Call(ctx, HookPostStop, []byte(`{}`))
		wantFailure(t, err, FailureOutOfMemory, "memoryLimitPages 512 (32 MiB)")
	})
	t.Run("works after both", func(t *testing.T) {
		if _, err := p.Call(ctx, HookPreStart, payloadFor("goguest")); err != nil {
			t.Errorf("pre-start: %v", err)
		}
	})
	if s := p.Stats(); s.InstancesReplaced != 2 {
		t.Errorf("InstancesReplaced = %d, want 2", s.InstancesReplaced)
	}
}

func TestGoGuestValidateConfig(t *testing.T) {
	r := newTestRuntime(t, goCacheConfig(t))
	wasm := buildGoPlugin(t, "testdata/goguest")
	m := testManifest("goguest", wasm, HookPreStart)
	m.Config = json.RawMessage(`{"reject": true}`)
	_, err := r.Load(ctx, wasm, m)
	wantFailure(t, err, FailureDenied, "plugin goguest: validate-config: denied: "+
		"config has reject set")
}

// loadStamp builds examples/plugins/stamp and loads it with its own
// manifest, the sha256 filled in.
func loadStamp(t testing.TB, r *Runtime) *Plugin {
	t.Helper()
	wasm := buildGoPlugin(t, "../examples/plugins/stamp")
	raw, err := os.ReadFile(filepath.Join("..", "examples", "plugins", "stamp", "manifest.yaml"))
	if err != nil {
		t.Skipf("stamp has no manifest.yaml yet: %v", err)
	}
	sum := sha256.Sum256(wasm)
	pin := regexp.MustCompile(`(?m)^sha256:.*$`)
	raw = pin.ReplaceAll(raw, []byte("sha256: "+hex.EncodeToString(sum[:])))
	m, err := ParseManifest(raw)
	if err != nil {
		t.Fatalf("parse the stamp manifest: %v", err)
	}
	p, err := r.Load(ctx, wasm, m)
	if err != nil {
		t.Fatalf("load stamp: %v", err)
	}
	return p
}

func TestStampExample(t *testing.T) {
	r := newTestRuntime(t, goCacheConfig(t))
	p := loadStamp(t, r)
	out, err := p.Call(ctx, HookPreStart, payloadFor("stamp"))
	if err != nil {
		t.Fatalf("pre-start: %v", err)
	}
	var res struct {
		Status  string
		Changes struct{ Env, Labels map[string]string }
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "ok" || res.Changes.Env["TEAM"] != "blue" ||
		res.Changes.Labels["stamped-by"] != "stamp" {
		t.Errorf("result = %s, want TEAM=blue and the stamped-by label", out)
	}
}
