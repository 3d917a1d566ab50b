package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPreStartResultJSON(t *testing.T) {
	tests := []struct {
		name   string
		result PreStartResult
		want   string
	}{
		{name: "allow", result: Allow(), want: `{"status":"ok"}`},
		{
			name:   "deny",
			result: Deny(`image "x" is not allowed`),
			want:   `{"status":"deny","message":"image \"x\" is not allowed"}`,
		},
		{
			name:   "error",
			result: Error(errors.New("config key 'stamp' is missing")),
			want:   `{"status":"error","message":"config key 'stamp' is missing"}`,
		},
		{
			name:   "error without error",
			result: Error(nil),
			want:   `{"status":"error","message":"sdk.Error called with a nil error"}`,
		},
		{
			name:   "deny drops changes",
			result: Deny("no").SetEnv("A", "1"),
			want:   `{"status":"deny","message":"no"}`,
		},
		{
			name:   "env sorted",
			result: Allow().SetEnv("B", "2").SetEnv("A", "1").SetEnv("B", "3"),
			want:   `{"status":"ok","changes":{"env":{"A":"1","B":"3"}}}`,
		},
		{
			name:   "labels and annotations",
			result: Allow().SetLabel("team", "blue").SetAnnotation("example.com/owner", "blue"),
			want:   `{"status":"ok","changes":{"labels":{"team":"blue"},"annotations":{"example.com/owner":"blue"}}}`,
		},
		{
			name: "mount replaced by destination",
			result: Allow().
				AddMount(Mount{Type: "tmpfs", Destination: "/scratch"}).
				AddMount(Mount{Type: "bind", Source: "/srv", Destination: "/srv", ReadOnly: true}).
				AddMount(Mount{Type: "tmpfs", Destination: "/scratch", ReadOnly: true}),
			want: `{"status":"ok","changes":{"mounts":[` +
				`{"type":"tmpfs","destination":"/scratch","read_only":true},` +
				`{"type":"bind","source":"/srv","destination":"/srv","read_only":true}]}}`,
		},
		{
			name: "rlimit replaced by type",
			result: Allow().
				SetRlimit("RLIMIT_NOFILE", 1024, 1024).
				SetRlimit("RLIMIT_NPROC", 10, RlimitInfinity).
				SetRlimit("RLIMIT_NOFILE", 4096, 4096),
			want: `{"status":"ok","changes":{"rlimits":[` +
				`{"type":"RLIMIT_NOFILE","soft":4096,"hard":4096},` +
				`{"type":"RLIMIT_NPROC","soft":10,"hard":18446744073709551615}]}}`,
		},
		{
			name: "resources merged, zero fields omitted",
			result: Allow().
				SetResources(Resources{MemoryLimit: 64 << 20}).
				SetResources(Resources{PidsLimit: 100}),
			want: `{"status":"ok","changes":{"resources":{"memory_limit":67108864,"pids_limit":100}}}`,
		},
		{
			name:   "all-zero resources omitted",
			result: Allow().SetResources(Resources{}),
			want:   `{"status":"ok"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.result.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("MarshalJSON =\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("MarshalJSON wrote invalid JSON %s", got)
			}
		})
	}
}

func TestPreStartResultInvalid(t *testing.T) {
	tests := []struct {
		name     string
		result   PreStartResult
		fragment string
	}{
		{name: "zero value", result: PreStartResult{}, fragment: "has no status"},
		{
			name:     "unknown status",
			result:   PreStartResult{Status: "maybe"},
			fragment: "unknown status maybe",
		},
		{
			name:     "empty env name",
			result:   Allow().SetEnv("", "x"),
			fragment: `invalid env change: name ""`,
		},
		{name: "env name with equals", result: Allow().SetEnv("A=B", "x"), fragment: `name "A=B"`},
		{
			name:     "env name with NUL",
			result:   Allow().SetEnv("A\x00", "x"),
			fragment: `name "A\u0000"`,
		},
		{
			name:     "empty label key",
			result:   Allow().SetLabel("", "x"),
			fragment: "invalid label change: empty key",
		},
		{
			name:     "empty annotation key",
			result:   Allow().SetAnnotation("", "x"),
			fragment: "invalid annotation change",
		},
		{
			name:     "relative mount",
			result:   Allow().AddMount(Mount{Type: "tmpfs", Destination: "scratch"}),
			fragment: `mount change to "scratch"`,
		},
		{
			name:     "mount without type",
			result:   Allow().AddMount(Mount{Destination: "/x"}),
			fragment: "want a type",
		},
		{
			name:     "rlimit type",
			result:   Allow().SetRlimit("NOFILE", 1, 1),
			fragment: `rlimit change "NOFILE"`,
		},
		{
			name:     "rlimit soft over hard",
			result:   Allow().SetRlimit("RLIMIT_NOFILE", 2, 1),
			fragment: "soft <= hard",
		},
		{
			name:     "negative memory",
			result:   Allow().SetResources(Resources{MemoryLimit: -1}),
			fragment: "must not be negative",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := tt.result.AppendJSON(dst)
			if err == nil {
				t.Fatalf("AppendJSON = %s, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.fragment) {
				t.Errorf("error = %q, want it to contain %q", err, tt.fragment)
			}
			if string(got) != "keep" {
				t.Errorf("AppendJSON changed dst to %q on error", got)
			}
		})
	}
}

func TestPreStartResultDenyIgnoresInvalidChanges(t *testing.T) {
	got, err := Deny("no").SetEnv("", "x").MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON of a deny with an invalid change: %v", err)
	}
	if string(got) != `{"status":"deny","message":"no"}` {
		t.Errorf("MarshalJSON = %s", got)
	}
}

func TestPreStartResultAppends(t *testing.T) {
	got, err := Allow().SetEnv("A", "1").AppendJSON([]byte("prefix "))
	if err != nil {
		t.Fatal(err)
	}
	if want := `prefix {"status":"ok","changes":{"env":{"A":"1"}}}`; string(got) != want {
		t.Errorf("AppendJSON = %s, want %s", got, want)
	}
}

func ExamplePreStartResult() {
	result := Allow().
		SetEnv("TEAM", "blue").
		SetLabel("stamped-by", "stamp").
		SetRlimit("RLIMIT_NOFILE", 4096, 4096)
	out, err := result.MarshalJSON()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// {"status":"ok","changes":{"env":{"TEAM":"blue"},"labels":{"stamped-by":"stamp"},"rlimits":[{"type":"RLIMIT_NOFILE","soft":4096,"hard":4096}]}}
}
