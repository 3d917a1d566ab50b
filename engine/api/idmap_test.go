package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
)

func TestLoadTenantsChecksIDs(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{name: "disjoint ranges", yaml: `tenants:
  - {name: blue, users: [a], ids: {start: 300000, size: 65536}}
  - {name: red, users: [b], ids: {start: 365536, size: 65536}}
  - {name: green, users: [c]}
`},
		{name: "overlapping ranges", yaml: `tenants:
  - {name: blue, users: [a], ids: {start: 300000, size: 65536}}
  - {name: red, users: [b], ids: {start: 365535, size: 65536}}
`, wantErr: "tenants blue and red have overlapping ids (300000-365535 and 365535-431070)"},
		{name: "range too small", yaml: `tenants:
  - {name: blue, users: [a], ids: {start: 300000, size: 1000}}
`, wantErr: "ids.size 1000: give at least 65536"},
		{name: "start at host root", yaml: `tenants:
  - {name: blue, users: [a], ids: {start: 0, size: 65536}}
`, wantErr: "ids.start 0 would map root in containers to root on the host"},
		{name: "past the largest id", yaml: `tenants:
  - {name: blue, users: [a], ids: {start: 4294930000, size: 65536}}
`, wantErr: "end beyond the largest id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tenants.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTenants(path)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadTenants: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("LoadTenants: got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestReservedIDs(t *testing.T) {
	tenants := &Tenants{Tenants: []TenantEntry{
		{Name: "blue", IDs: &IDRange{Start: 300000, Size: 65536}},
		{Name: "red", IDs: &IDRange{Start: 400000, Size: 65536}},
		{Name: "green"},
	}}
	got := tenants.reservedIDs("blue")
	want := []model.IDMap{{HostUID: 400000, HostGID: 400000, Size: 65536}}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("ids reserved for tenants other than blue = %+v, want %+v", got, want)
	}
	if got := (*Tenants)(nil).reservedIDs("blue"); got != nil {
		t.Errorf("ids reserved without a tenants file = %+v, want none", got)
	}
}

// newIDMapServer returns a server on a real engine whose subordinate id
// files do not exist. The engine runs no container, so its infra program
// is any file.
func newIDMapServer(t *testing.T) *Server {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the engine needs root")
	}
	for _, bin := range []string{"runc", "conmon"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed", bin)
		}
	}
	base, err := os.MkdirTemp("/tmp", "ppa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	pause := filepath.Join(base, "pause")
	if err := os.WriteFile(pause, []byte("not run"), 0o755); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Root: filepath.Join(base, "root"),
		RunRoot: filepath.Join(base, "run"), PauseBinary: pause,
		SubUIDFile: filepath.Join(base, "subuid"), SubGIDFile: filepath.Join(base, "subgid")})
	if err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return NewServer(eng, Options{})
}

// createPod posts body to /v1/pods as who and returns the status and the
// decoded reply.
func createPod(t *testing.T, s *Server, who Subject, body string) (int, model.Pod, Error) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, APIVersion+"/pods", strings.NewReader(body))
	req = req.WithContext(context.WithValue(req.Context(), peerKey{}, who))
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	var pod model.Pod
	var apiErr Error
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &pod); err != nil {
			t.Fatalf("decode pod: %v: %s", err, rec.Body)
		}
	} else if err := json.Unmarshal(rec.Body.Bytes(), &apiErr); err != nil {
		t.Fatalf("decode error reply: %v: %s", err, rec.Body)
	}
	return rec.Code, pod, apiErr
}

func TestPodCreateSetsIDMapFromSubject(t *testing.T) {
	s := newIDMapServer(t)
	blue := Subject{UID: 1001, User: "alice", Tenant: "blue", IDs: &IDRange{Start: 300000, Size: 65536}}
	admin := Subject{UID: 0, User: "root", Admin: true}
	red := Subject{UID: 1002, User: "bob", Tenant: "red"}

	code, pod, apiErr := createPod(t, s, blue, `{"name": "web", "network": "none"}`)
	if code != http.StatusOK {
		t.Fatalf("create pod as blue: %d %s", code, apiErr.Message)
	}
	want := model.IDMap{HostUID: 300000, HostGID: 300000, Size: 65536}
	if pod.IDMap == nil || *pod.IDMap != want {
		t.Errorf("blue's pod has id map %+v, want %+v", pod.IDMap, want)
	}

	code, pod, apiErr = createPod(t, s, admin, `{"name": "ops", "network": "none"}`)
	if code != http.StatusOK {
		t.Fatalf("create pod as admin: %d %s", code, apiErr.Message)
	}
	if pod.IDMap != nil {
		t.Errorf("admin's pod has id map %+v, want none", *pod.IDMap)
	}

	code, _, apiErr = createPod(t, s, red, `{"name": "web", "network": "none"}`)
	if code == http.StatusOK {
		t.Fatal("create pod as red, a tenant without ids and no subordinate ids: succeeded, want an error")
	}
	for _, hint := range []string{"ids: {start:", "podplug:START:COUNT"} {
		if !strings.Contains(apiErr.Message, hint) {
			t.Errorf("error %q does not tell the operator to add %q", apiErr.Message, hint)
		}
	}
}

func TestPodCreateRejectsClientIDMap(t *testing.T) {
	s := newIDMapServer(t)
	blue := Subject{UID: 1001, User: "alice", Tenant: "blue", IDs: &IDRange{Start: 300000, Size: 65536}}
	bodies := []string{
		`{"name": "a", "network": "none", "IDMap": {"hostUid": 1, "hostGid": 1, "size": 65536}}`,
		`{"name": "b", "network": "none", "idMap": {"hostUid": 1, "hostGid": 1, "size": 65536}}`,
		`{"name": "c", "network": "none", "-": {"hostUid": 1, "hostGid": 1, "size": 65536}}`,
	}
	for _, body := range bodies {
		code, pod, _ := createPod(t, s, blue, body)
		if code != http.StatusBadRequest {
			t.Errorf("create pod with %s: status %d (id map %+v), want 400", body, code, pod.IDMap)
		}
	}
}
