package plugins

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestParseManifestDefaults(t *testing.T) {
	m, err := ParseManifest([]byte(`
name: stamp
version: 1.0.0
sha256: ` + strings.ToUpper(digest) + `
hooks: [pre-start]
`))
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"sha256", m.SHA256, digest},
		{"timeout", m.Timeout.Duration, time.Second},
		{"memoryLimitPages", m.MemoryLimitPages, uint32(512)},
		{"memoryHighWaterPages", m.MemoryHighWaterPages, uint32(384)},
		{"failurePolicy", m.FailurePolicy, "fail"},
		{"mode", m.Mode, "enforce"},
		{"isolation", m.Isolation, "pooled"},
		{"maxOutputBytes", m.MaxOutputBytes, 65536},
		{"priority", m.Priority, 0},
		{"required", m.Required, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

func TestParseManifestFull(t *testing.T) {
	m, err := ParseManifest([]byte(`{
		"name": "audit", "version": "2.1", "sha256": "` + digest + `",
		"hooks": ["post-stop", "inspect"], "priority": -5,
		"timeout": "250ms", "hookTimeouts": {"inspect": "50ms", "validate-config": "2s"},
		"memoryLimitPages": 1024, "memoryHighWaterPages": 1000,
		"failurePolicy": "ignore", "mode": "monitor", "required": true,
		"isolation": "per-call", "allowedChanges": ["env", "resources"],
		"maxOutputBytes": 4096, "grants": ["clock"], "config": {"team": "blue"}}`))
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	if got := m.HookTimeout(HookInspect); got != 50*time.Millisecond {
		t.Errorf("inspect timeout = %s, want 50ms", got)
	}
	if got := m.HookTimeout(HookPostStop); got != 250*time.Millisecond {
		t.Errorf("post-stop timeout = %s, want the default 250ms", got)
	}
	if !m.Granted("clock") || m.Granted("random") {
		t.Errorf("grants = %v", m.Grants)
	}
	if string(m.Config) != `{"team": "blue"}` && string(m.Config) != `{"team":"blue"}` {
		t.Errorf("config = %s", m.Config)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseManifest(out)
	if err != nil {
		t.Fatalf("parse the marshalled manifest: %v\n%s", err, out)
	}
	if again.Timeout != m.Timeout ||
		again.HookTimeouts[HookInspect] != m.HookTimeouts[HookInspect] {
		t.Errorf("round trip changed the timeouts: %s", out)
	}
}

func TestParseManifestErrors(t *testing.T) {
	base := "name: stamp\nversion: '1'\nsha256: " + digest + "\nhooks: [pre-start]\n"
	tests := []struct {
		name     string
		manifest string
		want     []string
	}{
		{"unknown field", base + "hookz: [inspect]\n", []string{`unknown field "hookz"`,
			"remove it or correct its spelling"}},
		{"not yaml", "name: [unclosed", []string{"not YAML or JSON"}},
		{"not a mapping", "- a\n- b\n", []string{"not a mapping"}},
		{"field names are exact", base + "Priority: 1\n", []string{`unknown field "Priority"`}},
		{"wrong type", base + "priority: high\n", []string{"priority", "use an integer"}},
		{"missing name", "version: '1'\nsha256: " + digest + "\nhooks: [inspect]\n",
			[]string{"name: missing", "(unnamed)"}},
		{"bad name", strings.Replace(base, "stamp", "Stamp Plugin", 1),
			[]string{`name: "Stamp Plugin" is invalid`, "lowercase"}},
		{"missing version", strings.Replace(base, "version: '1'\n", "", 1),
			[]string{"version: missing"}},
		{"missing sha256", strings.Replace(base, "sha256: "+digest+"\n", "", 1),
			[]string{"sha256: missing", "sha256sum"}},
		{"short sha256", strings.Replace(base, digest, "abc", 1),
			[]string{`sha256: "abc" is invalid`, "64 hex digits"}},
		{"no hooks", strings.Replace(base, "hooks: [pre-start]\n", "", 1),
			[]string{"hooks: missing", "pre-start, post-stop, inspect"}},
		{"unknown hook", strings.Replace(base, "pre-start", "pre_start", 1),
			[]string{`hooks: "pre_start" is invalid`, "use pre-start, post-stop, inspect"}},
		{"duplicate hook", strings.Replace(base, "[pre-start]", "[inspect, inspect]", 1),
			[]string{`hooks: "inspect" is listed twice`}},
		{"bad timeout", base + "timeout: 100\n",
			[]string{"timeout: duration 100 is not a string", `such as "100ms"`}},
		{"unparsable timeout", base + "timeout: soon\n", []string{`"soon" is invalid`}},
		{"negative timeout", base + "timeout: -1s\n", []string{`timeout: "-1s" is out of range`}},
		{"timeout too long", base + "timeout: 2h\n", []string{"at most 1m0s"}},
		{"unknown hook timeout", base + "hookTimeouts: {start: 1s}\n",
			[]string{"hookTimeouts.start: unknown hook"}},
		{"memory over max", base + "memoryLimitPages: 70000\n",
			[]string{"memoryLimitPages: 70000 is out of range", "use 1 to 65536"}},
		{"high water over limit", base + "memoryLimitPages: 16\nmemoryHighWaterPages: 17\n",
			[]string{"memoryHighWaterPages: 17 is out of range: use 1 to memoryLimitPages 16"}},
		{"negative memory", base + "memoryLimitPages: -1\n",
			[]string{"memoryLimitPages: number -1 is the wrong type: use an integer from 0"}},
		{"failure policy", base + "failurePolicy: retry\n",
			[]string{`failurePolicy: "retry" is invalid: use fail or ignore`}},
		{"mode", base + "mode: audit\n",
			[]string{`mode: "audit" is invalid: use enforce or monitor`}},
		{"isolation", base + "isolation: none\n",
			[]string{`isolation: "none" is invalid: use pooled or per-call`}},
		{"allowed change", base + "allowedChanges: [devices]\n",
			[]string{`allowedChanges: "devices" is invalid`}},
		{"max output", base + "maxOutputBytes: -5\n",
			[]string{"maxOutputBytes: -5 is out of range"}},
		{"max output too big", base + "maxOutputBytes: 2000000\n",
			[]string{"use 1 to 1048576"}},
		{"grant", base + "grants: [network]\n",
			[]string{`grants: "network" is invalid: use clock, random`}},
		{"config not object", base + "config: [1, 2]\n",
			[]string{"config: [1,2] is not an object"}},
		{"every problem listed", "name: x\nhooks: [start]\nmode: loud\n",
			[]string{"version: missing", "sha256: missing", `"start" is invalid`, `"loud"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tt.manifest))
			if err == nil {
				t.Fatalf("ParseManifest returned %+v, want an error", m)
			}
			if !errors.Is(err, ErrInvalidManifest) {
				t.Errorf("error %v does not wrap ErrInvalidManifest", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("name: stamp\nversion: '1'\nsha256: " + digest + "\nhooks: [pre-start]\n"))
	f.Add([]byte(`{"name":"a","timeout":"1s","hookTimeouts":{"inspect":"2s"},"config":{}}`))
	f.Add([]byte("memoryLimitPages: 0\nmemoryHighWaterPages: 9\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Errorf("ParseManifest accepted a manifest Validate rejects: %v", err)
		}
		if m.MemoryHighWaterPages > m.MemoryLimitPages || m.Timeout.Duration <= 0 {
			t.Errorf("accepted invalid limits: %+v", m)
		}
	})
}
