package sdktest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/podplug/podplug/plugins"
)

type changes struct {
	Env         map[string]string `json:"env"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Mounts      []mount           `json:"mounts"`
	Rlimits     []rlimit          `json:"rlimits"`
	Resources   *resources        `json:"resources"`
}

func decodeChanges(t *testing.T, r result) changes {
	t.Helper()
	var c changes
	if len(r.Changes) == 0 {
		return c
	}
	if err := json.Unmarshal(r.Changes, &c); err != nil {
		t.Fatalf("decode changes %s: %v", r.Changes, err)
	}
	return c
}

func TestStampSetsConfiguredEnvAndLabels(t *testing.T) {
	wasm, m := examplePlugin(t, "stamp")
	p := newHarness(t, nil).load(t, wasm, m)

	r := call(t, p, plugins.HookPreStart, preStart(t, m, testContainer("httpd", "localhost/busybox")))
	c := decodeChanges(t, r)

	if want := map[string]string{"TEAM": "blue"}; !reflect.DeepEqual(c.Env, want) {
		t.Errorf("env changes = %v, want %v", c.Env, want)
	}
	if want := map[string]string{"stamped-by": "stamp"}; !reflect.DeepEqual(c.Labels, want) {
		t.Errorf("label changes = %v, want %v", c.Labels, want)
	}
	if c.Mounts != nil || c.Rlimits != nil || c.Resources != nil || c.Annotations != nil {
		t.Errorf("changes = %s, want only env and labels", r.Changes)
	}
}

func TestStampRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		message string
	}{
		{
			name:    "number value",
			config:  `{"env": {"A": 1}}`,
			message: `config key "env.A" is a number, want string`,
		},
		{
			name:    "labels not an object",
			config:  `{"labels": ["a"]}`,
			message: `config key "labels" is an array`,
		},
		{
			name:    "unknown key",
			config:  `{"annotations": {}}`,
			message: "config key annotations is unknown",
		},
		{
			name:    "bad env name",
			config:  `{"env": {"A=B": "1"}}`,
			message: "config env name A=B is invalid",
		},
	}
	wasm, m := examplePlugin(t, "stamp")
	h := newHarness(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := *m
			bad.Config = json.RawMessage(tt.config)
			_, err := h.rt.Load(context.Background(), wasm, &bad)
			if plugins.FailureTypeOf(err) != plugins.FailureDenied {
				t.Fatalf("Load with config %s error = %v, want a denied failure", tt.config, err)
			}
			wantContains(t, "Load error", err.Error(), tt.message)
		})
	}
}

func TestImageGate(t *testing.T) {
	wasm, m := examplePlugin(t, "imagegate")
	p := newHarness(t, nil).load(t, wasm, m)

	t.Run("allowed image", func(t *testing.T) {
		input := preStart(t, m, testContainer("httpd", "registry.example/team/httpd:2"))
		r := call(t, p, plugins.HookPreStart, input)
		if len(r.Changes) != 0 {
			t.Errorf("changes = %s, want none", r.Changes)
		}
	})
	t.Run("denied image", func(t *testing.T) {
		input := preStart(t, m, testContainer("httpd", "docker.io/library/httpd"))
		f := callFailure(t, p, plugins.HookPreStart, input, plugins.FailureDenied)
		wantContains(t, "denial message", f.Message,
			`image "docker.io/library/httpd" of container web/httpd is not allowed`,
			`"localhost/", "registry.example/team/"`)
	})
	t.Run("empty allow-list rejected at load", func(t *testing.T) {
		bad := *m
		bad.Config = json.RawMessage(`{"allow": []}`)
		_, err := newHarness(t, nil).rt.Load(context.Background(), wasm, &bad)
		if plugins.FailureTypeOf(err) != plugins.FailureDenied {
			t.Fatalf("Load error = %v, want a denied failure", err)
		}
		wantContains(t, "Load error", err.Error(), "config key allow is missing or empty")
	})
}

func TestExitAuditCountsAcrossInstances(t *testing.T) {
	wasm, m := examplePlugin(t, "exitaudit")
	kv := plugins.NewMemoryKV()
	first := newHarness(t, kv)
	p := first.load(t, wasm, m)

	call(t, p, plugins.HookPostStop, postStop(t, m, "httpd", 137))
	call(t, p, plugins.HookPostStop, postStop(t, m, "httpd", 0))
	call(t, p, plugins.HookPostStop, postStop(t, m, "db", 1))
	got := call(t, p, plugins.HookInspect, inspectOf(t, m, "httpd"))
	if string(got.Data) != `{"exits":2}` {
		t.Errorf("inspect httpd data = %s, want {\"exits\":2}", got.Data)
	}

	logs := first.logged()
	if len(logs) != 3 {
		t.Fatalf("log lines = %d, want one per exit: %v", len(logs), logs)
	}
	wantContains(t, "first log line", logs[0].msg,
		"container web/httpd exited with code 137", "exits so far: 1")
	if logs[0].plugin != "exitaudit" || logs[0].level != 1 {
		t.Errorf("first log line from %q at level %d, want exitaudit at 1 (info)",
			logs[0].plugin, logs[0].level)
	}

	// A fresh runtime, so a fresh instance, with the same store: the count
	// goes on from what the store kept.
	p2 := newHarness(t, kv).load(t, wasm, m)
	call(t, p2, plugins.HookPostStop, postStop(t, m, "httpd", 0))

	got = call(t, p2, plugins.HookInspect, inspectOf(t, m, "httpd"))
	if string(got.Data) != `{"exits":3}` {
		t.Errorf("inspect httpd data after restart = %s, want {\"exits\":3}", got.Data)
	}
	got = call(t, p2, plugins.HookInspect, inspectOf(t, m, "cache"))
	if string(got.Data) != `{"exits":0}` {
		t.Errorf("inspect of a container without exits = %s, want {\"exits\":0}", got.Data)
	}
	wantPod := `{"exits":{"db":1,"httpd":3},"total":4}`
	got = call(t, p2, plugins.HookInspect, inspectOf(t, m, ""))
	if string(got.Data) != wantPod {
		t.Errorf("inspect pod data = %s, want %s", got.Data, wantPod)
	}

	value, ok, err := kv.Get("exitaudit", "exits/web/httpd")
	if err != nil || !ok || string(value) != "3" {
		t.Errorf("store exitaudit exits/web/httpd = %q, %v, %v; want \"3\"", value, ok, err)
	}
}

func TestDenyAllWAT(t *testing.T) {
	requireWat2wasm(t)
	wasm, m := examplePlugin(t, "denyall-wat")
	h := newHarness(t, nil)
	p := h.load(t, wasm, m)

	t.Run("allowed image", func(t *testing.T) {
		r := call(t, p, plugins.HookPreStart, preStart(t, m, testContainer("httpd", "localhost/busybox")))
		if len(r.Changes) != 0 {
			t.Errorf("changes = %s, want none", r.Changes)
		}
	})
	t.Run("forbidden image", func(t *testing.T) {
		input := preStart(t, m, testContainer("httpd", "localhost/forbidden/app"))
		f := callFailure(t, p, plugins.HookPreStart, input, plugins.FailureDenied)
		want := `image "localhost/forbidden/app" contains "forbidden": this host does not run such images`
		if f.Message != want {
			t.Errorf("denial message = %q, want %q", f.Message, want)
		}
	})
	t.Run("forbidden only in another container", func(t *testing.T) {
		container := testContainer("httpd", "localhost/busybox")
		container.Env = append(container.Env, "NOTE=forbidden")
		call(t, p, plugins.HookPreStart, preStart(t, m, container))
	})
	t.Run("input without a container", func(t *testing.T) {
		f := callFailure(t, p, plugins.HookPreStart, []byte(`{"hook":"pre_start"}`),
			plugins.FailureError)
		wantContains(t, "error message", f.Message, "the input has no container image")
	})
	t.Run("input larger than initial memory", func(t *testing.T) {
		container := testContainer("httpd", "localhost/forbidden")
		big := make([]byte, 300<<10)
		for i := range big {
			big[i] = 'x'
		}
		container.Labels = map[string]string{"filler": string(big)}
		f := callFailure(t, p, plugins.HookPreStart, preStart(t, m, container), plugins.FailureDenied)
		wantContains(t, "denial message", f.Message, `image "localhost/forbidden"`)
	})

	logs := h.logged()
	if len(logs) != 2 || logs[0].msg != `denied an image that contains "forbidden"` {
		t.Errorf("log lines = %v, want one per denial", logs)
	}
}

func TestSDKThroughRuntime(t *testing.T) {
	wasm, m := probePlugin(t)
	h := newHarness(t, nil)
	p := h.load(t, wasm, m)

	t.Run("handler panic is an error result", func(t *testing.T) {
		f := callFailure(t, p, plugins.HookPreStart, preStart(t, m, testContainer("panic", "x")),
			plugins.FailureError)
		wantContains(t, "message", f.Message, "pre_start handler panicked: probe panics on request")
	})
	t.Run("instance works after a panic", func(t *testing.T) {
		call(t, p, plugins.HookPreStart, preStart(t, m, testContainer("other", "x")))
	})
	t.Run("zero result is an error result", func(t *testing.T) {
		f := callFailure(t, p, plugins.HookPreStart, preStart(t, m, testContainer("zero", "x")),
			plugins.FailureError)
		wantContains(t, "message", f.Message, "pre_start result has no status")
	})
	t.Run("kv value larger than the scratch buffer", func(t *testing.T) {
		r := call(t, p, plugins.HookPreStart, preStart(t, m, testContainer("kv", "x")))
		if c := decodeChanges(t, r); c.Env["KV"] != "5000" {
			t.Errorf("KV env = %q, want 5000 (%s)", c.Env["KV"], r.Changes)
		}
	})
	t.Run("every kind of change", func(t *testing.T) {
		r := call(t, p, plugins.HookPreStart, preStart(t, m, testContainer("changes", "x")))
		want := `{"env":{"A":"1"},"labels":{"l":"v"},"annotations":{"example.com/a":"b"},` +
			`"mounts":[{"type":"tmpfs","destination":"/scratch"}],` +
			`"rlimits":[{"type":"RLIMIT_NOFILE","soft":4096,"hard":4096}],` +
			`"resources":{"memory_limit":67108864,"cpu_shares":512,"pids_limit":100}}`
		if string(r.Changes) != want {
			t.Errorf("changes = %s, want %s", r.Changes, want)
		}
	})
	t.Run("decoded input", func(t *testing.T) {
		container := testContainer("echo", "localhost/busybox")
		container.Rlimits[0].Soft = 1<<64 - 1
		container.Rlimits[0].Hard = 1<<64 - 1
		r := call(t, p, plugins.HookPreStart, preStart(t, m, container))
		want := map[string]string{
			"POD": "web", "IMAGE": "localhost/busybox", "PATH_SEEN": "/bin", "CONTAINERS": "3",
			"MOUNT0": "/data", "NOFILE": "18446744073709551615", "COMMAND": "httpd -f",
		}
		if c := decodeChanges(t, r); !reflect.DeepEqual(c.Env, want) {
			t.Errorf("env = %v, want %v", c.Env, want)
		}
	})
	t.Run("inspect data with config", func(t *testing.T) {
		r := call(t, p, plugins.HookInspect, inspectOf(t, m, ""))
		want := `{"config":{"count":3,"greeting":"héllo"},"kind":"pod"}`
		if string(r.Data) != want {
			t.Errorf("data = %s, want %s", r.Data, want)
		}
	})

	logs := h.logged()
	if len(logs) != 1 || logs[0].level != 2 || logs[0].msg != "kv round trip of 5000 bytes" {
		t.Errorf("log lines = %v, want the kv round trip at level 2 (warn)", logs)
	}
}

func TestExportsFollowHookImports(t *testing.T) {
	tests := []struct {
		name  string
		build func(testing.TB) ([]byte, *plugins.Manifest)
		hooks []string
	}{
		{name: "stamp", hooks: []string{plugins.HookPreStart}},
		{name: "imagegate", hooks: []string{plugins.HookPreStart}},
		{name: "exitaudit", hooks: []string{plugins.HookPostStop, plugins.HookInspect}},
		{
			name:  "probe",
			build: probePlugin,
			hooks: []string{plugins.HookPreStart, plugins.HookInspect},
		},
	}
	h := newHarness(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wasm []byte
			var m *plugins.Manifest
			if tt.build != nil {
				wasm, m = tt.build(t)
			} else {
				wasm, m = examplePlugin(t, tt.name)
			}
			p := h.load(t, wasm, m)
			if got := p.ExportedHooks(); !reflect.DeepEqual(got, tt.hooks) {
				t.Errorf("exported hooks = %v, want %v", got, tt.hooks)
			}
		})
	}
}
