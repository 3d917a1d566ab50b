package sdk

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/podplug/podplug/sdk/internal/jsonx"
)

// preStartInput is the pre_start example of ABI.md with ids filled in.
const preStartInput = `{
  "hook": "pre_start",
  "plugin": {"name": "stamp", "config": {"team": "blue"}},
  "pod": {"id": "p1", "name": "web", "labels": {"app": "demo"}, "tenant": ""},
  "container": {
    "id": "c1", "name": "httpd", "image": "localhost/busybox",
    "command": ["httpd", "-f"], "env": ["PATH=/bin", "A=1"],
    "labels": {}, "annotations": {}, "user": "", "work_dir": "/",
    "init": false, "infra": false,
    "mounts": [{"type": "bind", "source": "/var/lib/x", "destination": "/data", "read_only": true}],
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}],
    "resources": {"memory_limit": 0, "cpu_shares": 0, "pids_limit": 0}
  },
  "containers": [{"name": "httpd", "image": "localhost/busybox", "init": false}]
}`

func TestUnmarshalPreStart(t *testing.T) {
	var in PreStart
	if err := in.UnmarshalJSON([]byte(preStartInput)); err != nil {
		t.Fatalf("UnmarshalJSON: %v", err)
	}
	want := PreStart{
		Plugin: Plugin{Name: "stamp", Config: Config{value: map[string]any{"team": "blue"}}},
		Pod:    Pod{ID: "p1", Name: "web", Labels: map[string]string{"app": "demo"}},
		Container: Container{
			ID: "c1", Name: "httpd", Image: "localhost/busybox",
			Command: []string{"httpd", "-f"}, Env: []string{"PATH=/bin", "A=1"},
			WorkDir: "/",
			Mounts:  []Mount{{Type: "bind", Source: "/var/lib/x", Destination: "/data", ReadOnly: true}},
			Rlimits: []Rlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}},
		},
		Containers: []ContainerSummary{{Name: "httpd", Image: "localhost/busybox"}},
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("UnmarshalJSON =\n%#v\nwant\n%#v", in, want)
	}
}

func TestUnmarshalPreStartThroughEncodingJSON(t *testing.T) {
	var in PreStart
	if err := json.Unmarshal([]byte(preStartInput), &in); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if in.Container.Image != "localhost/busybox" {
		t.Errorf("image = %q, want localhost/busybox", in.Container.Image)
	}
}

func TestUnmarshalSkipsUnknownAndNullFields(t *testing.T) {
	input := `{"future": {"a": [1, {"b": null}]}, "hook": "pre_start",
		"pod": {"name": "web", "labels": null, "quota": 3},
		"container": {"name": "db", "image": null, "env": null,
			"mounts": [{"destination": "/x", "propagation": "rprivate"}],
			"resources": {"memory_limit": null, "cpu_quota": 5}, "devices": []},
		"containers": null, "plugin": null}`
	var in PreStart
	if err := in.UnmarshalJSON([]byte(input)); err != nil {
		t.Fatalf("UnmarshalJSON: %v", err)
	}
	if in.Pod.Name != "web" || in.Pod.Labels != nil {
		t.Errorf("pod = %+v, want name web and nil labels", in.Pod)
	}
	if in.Container.Name != "db" || in.Container.Image != "" || in.Container.Env != nil {
		t.Errorf("container = %+v, want name db, empty image, nil env", in.Container)
	}
	if len(in.Container.Mounts) != 1 || in.Container.Mounts[0].Destination != "/x" {
		t.Errorf("mounts = %+v, want one to /x", in.Container.Mounts)
	}
	if in.Containers != nil {
		t.Errorf("containers = %v, want nil", in.Containers)
	}
}

func TestUnmarshalRlimitValues(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    uint64
		wantErr bool
	}{
		{name: "plain", value: "1024", want: 1024},
		{name: "minus one is infinity", value: "-1", want: RlimitInfinity},
		{name: "max uint64 is infinity", value: "18446744073709551615", want: RlimitInfinity},
		{name: "null", value: "null", want: 0},
		{name: "other negative", value: "-2", wantErr: true},
		{name: "fraction", value: "1.5", wantErr: true},
		{name: "string", value: `"1"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := `{"container": {"rlimits": [{"type": "RLIMIT_NPROC", "soft": ` + tt.value +
				`, "hard": ` + tt.value + `}]}}`
			var in PreStart
			err := in.UnmarshalJSON([]byte(input))
			if (err != nil) != tt.wantErr {
				t.Fatalf("UnmarshalJSON error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got := in.Container.Rlimits[0]; got.Soft != tt.want || got.Hard != tt.want {
				t.Errorf("rlimit = %+v, want soft and hard %d", got, tt.want)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		fragment string
	}{
		{name: "not an object", input: `[1]`, fragment: "expected object"},
		{name: "wrong field type", input: `{"pod": {"name": 7}}`, fragment: "expected string"},
		{name: "truncated", input: `{"pod": {"name": "web"`, fragment: "unexpected end of input"},
		{name: "trailing data", input: `{} {}`, fragment: "after top-level value"},
		{name: "empty", input: ``, fragment: "unexpected end of input"},
		{name: "bad bool", input: `{"container": {"init": "yes"}}`, fragment: "expected boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in PreStart
			err := in.UnmarshalJSON([]byte(tt.input))
			var inputErr *InputError
			if !errors.As(err, &inputErr) {
				t.Fatalf("UnmarshalJSON(%q) error = %v, want *InputError", tt.input, err)
			}
			if inputErr.Hook != "pre_start" {
				t.Errorf("hook = %q, want pre_start", inputErr.Hook)
			}
			var syntaxErr *jsonx.SyntaxError
			if !errors.As(err, &syntaxErr) {
				t.Errorf("error %v does not wrap a SyntaxError with the offset", err)
			}
			if !strings.Contains(err.Error(), tt.fragment) {
				t.Errorf("error = %q, want it to contain %q", err, tt.fragment)
			}
		})
	}
}

func TestUnmarshalStringsOutliveInput(t *testing.T) {
	input := []byte(preStartInput)
	var in PreStart
	if err := in.UnmarshalJSON(input); err != nil {
		t.Fatal(err)
	}
	for i := range input {
		input[i] = 'x' // the SDK reuses its input buffer between calls
	}
	if in.Container.Image != "localhost/busybox" || in.Pod.Labels["app"] != "demo" {
		t.Errorf("decoded strings changed with the input: image %q, label %q",
			in.Container.Image, in.Pod.Labels["app"])
	}
	if team, _ := in.Plugin.Config.String("team"); team != "blue" {
		t.Errorf("config team = %q after the input changed, want blue", team)
	}
}

func TestUnmarshalEscapedStrings(t *testing.T) {
	input := `{"container": {"image": "reg\u0069stry/a\"b", "labels": {"k\n": "v\\"}}}`
	var in PreStart
	if err := in.UnmarshalJSON([]byte(input)); err != nil {
		t.Fatal(err)
	}
	if in.Container.Image != `registry/a"b` {
		t.Errorf("image = %q, want registry/a\"b", in.Container.Image)
	}
	if in.Container.Labels["k\n"] != `v\` {
		t.Errorf("labels = %q, want k\\n: v\\", in.Container.Labels)
	}
}

func TestUnmarshalConfigCache(t *testing.T) {
	decode := func(config string) Config {
		t.Helper()
		var in ValidateConfig
		if err := in.UnmarshalJSON([]byte(`{"plugin": {"config": ` + config + `}}`)); err != nil {
			t.Fatal(err)
		}
		return in.Plugin.Config
	}
	first := decode(`{"a": {"b": "c"}}`)
	again := decode(`{"a": {"b": "c"}}`)
	if !reflect.DeepEqual(first, again) {
		t.Errorf("same config decoded twice differs: %#v and %#v", first, again)
	}
	other := decode(`{"a": {"b": "d"}}`)
	a, _ := other.Object("a")
	if got, _ := a.String("b"); got != "d" {
		t.Errorf("changed config b = %q, want d (stale cache)", got)
	}
}

func TestUnmarshalConfigNumberOutOfRange(t *testing.T) {
	var in ValidateConfig
	err := in.UnmarshalJSON([]byte(`{"plugin": {"config": {"limit": 1e400}}}`))
	if err == nil || !strings.Contains(err.Error(), "invalid plugin config") {
		t.Errorf("UnmarshalJSON error = %v, want an invalid plugin config", err)
	}
}

func TestUnmarshalPostStop(t *testing.T) {
	input := `{"hook": "post_stop", "plugin": {"name": "audit", "config": {}},
		"pod": {"id": "p1", "name": "web", "labels": {}, "tenant": "blue"},
		"container": {"id": "c1", "name": "httpd", "image": "localhost/busybox"},
		"exit_code": 137, "signal": 9, "oom_killed": true,
		"started_at": "2026-12-04T16:00:00Z", "finished_at": "2026-12-04T16:05:00Z",
		"run_time_ms": 300000}`
	var in PostStop
	if err := in.UnmarshalJSON([]byte(input)); err != nil {
		t.Fatal(err)
	}
	want := PostStop{
		Plugin:     Plugin{Name: "audit", Config: Config{value: map[string]any{}}},
		Pod:        Pod{ID: "p1", Name: "web", Tenant: "blue"},
		Container:  Container{ID: "c1", Name: "httpd", Image: "localhost/busybox"},
		ExitCode:   137,
		Signal:     9,
		OOMKilled:  true,
		StartedAt:  "2026-12-04T16:00:00Z",
		FinishedAt: "2026-12-04T16:05:00Z",
		RunTimeMS:  300000,
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("UnmarshalJSON =\n%#v\nwant\n%#v", in, want)
	}
}

func TestUnmarshalInspect(t *testing.T) {
	tests := []struct {
		name          string
		input         string
		kind          string
		wantContainer bool
	}{
		{name: "pod", input: `{"kind": "pod", "pod": {"name": "web"}}`, kind: KindPod},
		{
			name:  "pod with null container",
			input: `{"kind": "pod", "container": null}`,
			kind:  KindPod,
		},
		{
			name:          "container",
			input:         `{"kind": "container", "pod": {"name": "web"}, "container": {"name": "db"}}`,
			kind:          KindContainer,
			wantContainer: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in Inspect
			if err := in.UnmarshalJSON([]byte(tt.input)); err != nil {
				t.Fatal(err)
			}
			if in.Kind != tt.kind {
				t.Errorf("kind = %q, want %q", in.Kind, tt.kind)
			}
			if (in.Container != nil) != tt.wantContainer {
				t.Errorf("container = %+v, want present %v", in.Container, tt.wantContainer)
			}
		})
	}
}

// FuzzUnmarshalInputs checks that no input makes a hook decoder panic, and
// that an input one of them accepts is well-formed JSON.
func FuzzUnmarshalInputs(f *testing.F) {
	f.Add([]byte(preStartInput))
	f.Add([]byte(`{"container": {"rlimits": [{"soft": -1}]}, "exit_code": 1e2}`))
	f.Add([]byte(`{"kind": "container", "container": {"env": ["a"]}, "plugin": {"config": [1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pre PreStart
		var post PostStop
		var insp Inspect
		var validate ValidateConfig
		errs := []error{
			pre.UnmarshalJSON(data),
			post.UnmarshalJSON(data),
			insp.UnmarshalJSON(data),
			validate.UnmarshalJSON(data),
		}
		for _, err := range errs {
			if err == nil && !json.Valid(data) {
				t.Fatalf("a decoder accepted invalid JSON %q", data)
			}
		}
	})
}

func BenchmarkUnmarshalPreStart(b *testing.B) {
	input := []byte(preStartInput)
	b.ReportAllocs()
	for b.Loop() {
		var in PreStart
		if err := in.UnmarshalJSON(input); err != nil {
			b.Fatal(err)
		}
	}
}
