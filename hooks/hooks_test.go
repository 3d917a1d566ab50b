package hooks

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/plugins"
	"github.com/podplug/podplug/store"
)

//go:generate sh testdata/gen.sh

// Test modules: this package's in testdata, and the hostile fixtures of the
// plugins package.
const (
	replyWasm     = "testdata/reply.wasm"
	counterWasm   = "testdata/counter.wasm"
	garbageWasm   = "testdata/garbage.wasm"
	oversizedWasm = "testdata/oversized.wasm"
	loopWasm      = "../plugins/testdata/loop.wasm"
	trapWasm      = "../plugins/testdata/trap.wasm"
)

// fields are manifest fields. install fills in version, sha256 and, when
// missing, hooks.
type fields map[string]any

// testManager is a Manager on a store of its own, with the events it emits.
type testManager struct {
	*Manager
	db *store.Store

	mu     sync.Mutex
	events []*model.Event
}

// newTestManager starts a Manager on an in-memory store. Its post-stop
// worker runs until the test ends.
func newTestManager(t *testing.T) *testManager {
	t.Helper()
	db, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	tm := &testManager{db: db}
	ctx, cancel := context.WithCancel(context.Background())
	tm.Manager = startManager(t, ctx, Config{Dir: t.TempDir(), Store: db, Emit: tm.emit})
	t.Cleanup(func() {
		cancel()
		<-tm.done
		tm.Close(context.Background())
		db.Close()
	})
	return tm
}

func startManager(t *testing.T, ctx context.Context, cfg Config) *Manager {
	t.Helper()
	m, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("start manager: %v", err)
	}
	return m
}

func (tm *testManager) emit(ev *model.Event) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.events = append(tm.events, ev)
}

// hookEvents returns the attributes of the hook events emitted for plugin.
func (tm *testManager) hookEvents(plugin string) []map[string]string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	var out []map[string]string
	for _, ev := range tm.events {
		if ev.Type == "plugin" && ev.Action == "hook" && ev.Name == plugin {
			out = append(out, ev.Attributes)
		}
	}
	return out
}

// install installs the module at path with a manifest made of f, pinned
// to the module's digest.
func install(t *testing.T, m *Manager, path string, f fields) Info {
	t.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run go generate ./hooks with wabt installed)", path, err)
	}
	sum := sha256.Sum256(wasm)
	man := fields{"version": "1.0.0", "sha256": hex.EncodeToString(sum[:]),
		"hooks": []string{HookPreStart}}
	for k, v := range f {
		man[k] = v
	}
	data, err := json.Marshal(man)
	if err != nil {
		t.Fatal(err)
	}
	info, err := m.Install(context.Background(), wasm, InstallOptions{Manifest: data})
	if err != nil {
		t.Fatalf("install %s as %v: %v", path, f["name"], err)
	}
	return info
}

// replying returns the manifest fields of a reply plugin whose every hook
// returns result.
func replying(name string, result map[string]any, more fields) fields {
	f := fields{"name": name, "config": map[string]any{"reply": result}}
	for k, v := range more {
		f[k] = v
	}
	return f
}

// okWith is a pre-start result with changes.
func okWith(changes map[string]any) map[string]any {
	return map[string]any{"status": "ok", "changes": changes}
}

func envChange(key, value string) map[string]any {
	return okWith(map[string]any{"env": map[string]string{key: value}})
}

func preStartInput() PreStartInput {
	return PreStartInput{
		Pod: PodInfo{ID: "pod1", Name: "web", Labels: map[string]string{}},
		Container: ContainerInfo{ID: "ctr1", Name: "app", Image: "localhost/busybox",
			Env: []string{"PATH=/bin"}},
		Containers: []Member{{Name: "app", Image: "localhost/busybox"}},
	}
}

func postStopInput(exitCode int) PostStopInput {
	return PostStopInput{
		Pod:       PodInfo{ID: "pod1", Name: "web", Labels: map[string]string{}},
		Container: ContainerInfo{ID: "ctr1", Name: "app", Image: "localhost/busybox"},
		ExitCode:  exitCode,
	}
}

func outcomeNames(outcomes []Outcome) []string {
	var names []string
	for _, o := range outcomes {
		names = append(names, o.Plugin)
	}
	return names
}

func TestManagerOrdersByPriorityThenName(t *testing.T) {
	tm := newTestManager(t)
	ok := map[string]any{"status": "ok"}
	install(t, tm.Manager, replyWasm, replying("zeta", ok, fields{"priority": 10}))
	install(t, tm.Manager, replyWasm, replying("alpha", ok, fields{"priority": 10}))
	install(t, tm.Manager, replyWasm, replying("late", ok, fields{"priority": 50}))
	install(t, tm.Manager, replyWasm, replying("early", ok, fields{"priority": -5}))
	want := []string{"early", "alpha", "zeta", "late"}

	list := tm.List()
	if len(list) != len(want) {
		t.Fatalf("List returned %d plugins, want %d", len(list), len(want))
	}
	for i, info := range list {
		if info.Name != want[i] {
			t.Errorf("List()[%d] = %s, want %s", i, info.Name, want[i])
		}
		if info.Order != i+1 {
			t.Errorf("plugin %s has Order %d, want %d", info.Name, info.Order, i+1)
		}
	}

	_, outcomes, err := tm.PreStart(context.Background(), preStartInput())
	if err != nil {
		t.Fatalf("PreStart: %v", err)
	}
	if got := strings.Join(outcomeNames(outcomes), ","); got != strings.Join(want, ",") {
		t.Errorf("pre-start ran %s, want %s", got, strings.Join(want, ","))
	}
}

func TestPreStartMergesChanges(t *testing.T) {
	tm := newTestManager(t)
	all := []string{"env", "labels", "annotations", "mounts", "rlimits", "resources"}
	install(t, tm.Manager, replyWasm, replying("first", okWith(map[string]any{
		"env":       map[string]string{"TEAM": "blue"},
		"labels":    map[string]string{"stamped-by": "first"},
		"mounts":    []map[string]any{{"type": "tmpfs", "destination": "/scratch"}},
		"resources": map[string]any{"memory_limit": 67108864},
	}), fields{"priority": 1, "allowedChanges": all}))
	install(t, tm.Manager, replyWasm, replying("second", okWith(map[string]any{
		"env":         map[string]string{"ZONE": "eu"},
		"annotations": map[string]string{"example.com/owner": "blue"},
		"rlimits":     []map[string]any{{"type": "RLIMIT_NOFILE", "soft": 4096, "hard": 4096}},
		"resources":   map[string]any{"pids_limit": 100},
	}), fields{"priority": 2, "allowedChanges": all}))

	changes, outcomes, err := tm.PreStart(context.Background(), preStartInput())
	if err != nil {
		t.Fatalf("PreStart: %v", err)
	}
	for _, o := range outcomes {
		if o.Result != "ok" {
			t.Errorf("outcome of %s = %s (%s), want ok", o.Plugin, o.Result, o.Message)
		}
	}
	if changes.Env["TEAM"] != "blue" || changes.Env["ZONE"] != "eu" || len(changes.Env) != 2 {
		t.Errorf("merged env = %v, want TEAM=blue and ZONE=eu", changes.Env)
	}
	if changes.Labels["stamped-by"] != "first" {
		t.Errorf("merged labels = %v, want stamped-by=first", changes.Labels)
	}
	if changes.Annotations["example.com/owner"] != "blue" {
		t.Errorf("merged annotations = %v, want example.com/owner=blue", changes.Annotations)
	}
	if len(changes.Mounts) != 1 || changes.Mounts[0].Destination != "/scratch" {
		t.Errorf("merged mounts = %+v, want one tmpfs at /scratch", changes.Mounts)
	}
	if len(changes.Rlimits) != 1 || changes.Rlimits[0].Soft != 4096 {
		t.Errorf("merged rlimits = %+v, want RLIMIT_NOFILE 4096", changes.Rlimits)
	}
	if changes.Resources == nil {
		t.Fatal("merged resources are nil, want memory and pids limits")
	}
	if changes.Resources.MemoryLimit != 67108864 {
		t.Errorf("merged memory_limit = %d, want 67108864", changes.Resources.MemoryLimit)
	}
	if changes.Resources.PidsLimit != 100 {
		t.Errorf("merged pids_limit = %d, want 100", changes.Resources.PidsLimit)
	}
}

func TestPreStartConflictNamesBothPlugins(t *testing.T) {
	cases := []struct {
		name    string
		kind    string
		changes func(value string) map[string]any
		field   string
	}{
		{"env", "env", func(v string) map[string]any {
			return map[string]any{"env": map[string]string{"TEAM": v}}
		}, "env TEAM"},
		{"label", "labels", func(v string) map[string]any {
			return map[string]any{"labels": map[string]string{"owner": v}}
		}, "label owner"},
		{"mount", "mounts", func(v string) map[string]any {
			return map[string]any{"mounts": []map[string]any{{"type": "tmpfs", "destination": "/data"}}}
		}, "mount /data"},
		{"resource", "resources", func(v string) map[string]any {
			return map[string]any{"resources": map[string]any{"cpu_shares": len(v) * 100}}
		}, "resources cpu_shares"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTestManager(t)
			allowed := fields{"allowedChanges": []string{tc.kind}}
			install(t, tm.Manager, replyWasm, replying("red", okWith(tc.changes("red")), allowed))
			install(t, tm.Manager, replyWasm, replying("blue", okWith(tc.changes("blue")), allowed))

			_, _, err := tm.PreStart(context.Background(), preStartInput())
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("PreStart error = %v, want ErrConflict", err)
			}
			for _, want := range []string{"red", "blue", tc.field} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("conflict error %q does not name %q", err, want)
				}
			}
		})
	}
}

func TestPreStartRejectsChangeNotAllowed(t *testing.T) {
	tm := newTestManager(t)
	install(t, tm.Manager, replyWasm, replying("sneaky", okWith(map[string]any{
		"env":    map[string]string{"TEAM": "blue"},
		"labels": map[string]string{"owner": "blue"},
	}), fields{"allowedChanges": []string{"env"}}))

	changes, outcomes, err := tm.PreStart(context.Background(), preStartInput())
	if !errors.Is(err, ErrPluginFailed) {
		t.Fatalf("PreStart error = %v, want ErrPluginFailed", err)
	}
	if changes != nil {
		t.Errorf("PreStart returned changes %+v with its error, want none", changes)
	}
	if len(outcomes) != 1 {
		t.Fatalf("PreStart returned %d outcomes, want 1", len(outcomes))
	}
	if outcomes[0].Type != string(plugins.FailureBadOutput) {
		t.Errorf("failure type = %q, want %q", outcomes[0].Type, plugins.FailureBadOutput)
	}
	if !strings.Contains(outcomes[0].Message, "labels") {
		t.Errorf("failure message %q does not name the change kind labels", outcomes[0].Message)
	}
}

func TestPreStartFailurePolicy(t *testing.T) {
	cases := []struct {
		name     string
		wasm     string
		extra    fields
		wantType plugins.FailureType
	}{
		{"timeout", loopWasm, fields{"timeout": "100ms"}, plugins.FailureTimeout},
		{"trap", trapWasm, nil, plugins.FailureTrap},
		{"garbage output", garbageWasm, nil, plugins.FailureBadOutput},
		{"oversized output", oversizedWasm, nil, plugins.FailureBadOutput},
	}
	for _, tc := range cases {
		for _, policy := range []string{"fail", "ignore"} {
			t.Run(tc.name+"/"+policy, func(t *testing.T) {
				tm := newTestManager(t)
				f := fields{"name": "hostile", "priority": 1, "failurePolicy": policy}
				for k, v := range tc.extra {
					f[k] = v
				}
				install(t, tm.Manager, tc.wasm, f)
				install(t, tm.Manager, replyWasm, replying("stamp", envChange("TEAM", "blue"),
					fields{"priority": 2, "allowedChanges": []string{"env"}}))

				changes, outcomes, err := tm.PreStart(context.Background(), preStartInput())
				if len(outcomes) == 0 || outcomes[0].Plugin != "hostile" {
					t.Fatalf("outcomes = %+v, want the hostile plugin's first", outcomes)
				}
				if outcomes[0].Result != "failed" {
					t.Errorf("hostile outcome = %s, want failed", outcomes[0].Result)
				}
				if outcomes[0].Type != string(tc.wantType) {
					t.Errorf("hostile failure type = %q, want %q", outcomes[0].Type, tc.wantType)
				}
				stats := tm.mustGet(t, "hostile").Stats
				if stats == nil || stats.Failures[tc.wantType] != 1 {
					t.Errorf("hostile stats = %+v, want one %s failure", stats, tc.wantType)
				}
				if policy == "fail" {
					if !errors.Is(err, ErrPluginFailed) {
						t.Errorf("PreStart error = %v, want ErrPluginFailed", err)
					}
					if len(outcomes) != 1 {
						t.Errorf("%d plugins ran, want the later one skipped", len(outcomes))
					}
					return
				}
				if err != nil {
					t.Fatalf("PreStart error = %v, want nil under failure policy ignore", err)
				}
				if changes == nil || changes.Env["TEAM"] != "blue" {
					t.Errorf("changes = %+v, want the later plugin's TEAM=blue", changes)
				}
			})
		}
	}
}

// TestInfoDecodesAfterFailure checks that Info survives the JSON round
// trip of the daemon's API once a plugin has failed.
func TestInfoDecodesAfterFailure(t *testing.T) {
	tm := newTestManager(t)
	install(t, tm.Manager, loopWasm, fields{"name": "slow", "timeout": "50ms",
		"failurePolicy": "ignore"})
	if _, _, err := tm.PreStart(context.Background(), preStartInput()); err != nil {
		t.Fatalf("PreStart: %v", err)
	}

	data, err := json.Marshal(tm.mustGet(t, "slow"))
	if err != nil {
		t.Fatalf("encode Info: %v", err)
	}
	var decoded Info
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("decode Info of a plugin that timed out: %v", err)
	}
	if decoded.Stats == nil || decoded.Stats.LastFailure == nil {
		t.Fatalf("decoded Info has no last failure: %s", data)
	}
	if got := decoded.Stats.LastFailure.Type; got != plugins.FailureTimeout {
		t.Errorf("decoded last failure type = %q, want timeout", got)
	}
}

func (tm *testManager) mustGet(t *testing.T, name string) Info {
	t.Helper()
	info, err := tm.Get(name)
	if err != nil {
		t.Fatalf("get plugin %s: %v", name, err)
	}
	return info
}

func TestPreStartDeniedByEnforcingPlugin(t *testing.T) {
	tm := newTestManager(t)
	install(t, tm.Manager, replyWasm, replying("gate",
		map[string]any{"status": "deny", "message": "image localhost/busybox is not allowed"}, nil))

	_, outcomes, err := tm.PreStart(context.Background(), preStartInput())
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("PreStart error = %v, want ErrDenied", err)
	}
	if !strings.Contains(err.Error(), "image localhost/busybox is not allowed") {
		t.Errorf("denial %q lacks the plugin's message", err)
	}
	if len(outcomes) != 1 || outcomes[0].Result != "denied" {
		t.Errorf("outcomes = %+v, want one denied", outcomes)
	}
}

func TestPreStartMonitorModeChangesNothing(t *testing.T) {
	tm := newTestManager(t)
	monitor := fields{"mode": "monitor", "allowedChanges": []string{"env"}}
	install(t, tm.Manager, replyWasm, replying("gate",
		map[string]any{"status": "deny", "message": "would not run this"}, monitor))
	install(t, tm.Manager, replyWasm, replying("stamp", envChange("TEAM", "blue"), monitor))

	changes, outcomes, err := tm.PreStart(context.Background(), preStartInput())
	if err != nil {
		t.Fatalf("PreStart error = %v, want nil: monitor mode does not deny", err)
	}
	if changes != nil && !changes.Empty() {
		t.Errorf("changes = %+v, want none from monitor-mode plugins", changes)
	}
	want := map[string]string{"gate": "would-deny", "stamp": "would-change"}
	if len(outcomes) != len(want) {
		t.Fatalf("outcomes = %+v, want one per plugin", outcomes)
	}
	for _, o := range outcomes {
		if o.Result != want[o.Plugin] {
			t.Errorf("outcome of %s = %s, want %s", o.Plugin, o.Result, want[o.Plugin])
		}
	}
	for plugin, result := range want {
		events := tm.hookEvents(plugin)
		if len(events) != 1 {
			t.Errorf("plugin %s emitted %d hook events, want 1", plugin, len(events))
			continue
		}
		if events[0]["result"] != result {
			t.Errorf("hook event of %s has result %q, want %q", plugin, events[0]["result"], result)
		}
	}
	if msg := tm.hookEvents("gate"); len(msg) == 1 && msg[0]["message"] != "would not run this" {
		t.Errorf("would-deny event message = %q, want the plugin's message", msg[0]["message"])
	}
}

func TestCheckRequiredNamesDisabledPlugin(t *testing.T) {
	tm := newTestManager(t)
	ctx := context.Background()
	install(t, tm.Manager, replyWasm, replying("audit", map[string]any{"status": "ok"},
		fields{"required": true}))
	install(t, tm.Manager, replyWasm, replying("optional", map[string]any{"status": "ok"}, nil))
	if err := tm.CheckRequired(); err != nil {
		t.Fatalf("CheckRequired with every plugin enabled: %v", err)
	}

	if err := tm.SetEnabled(ctx, "optional", false); err != nil {
		t.Fatal(err)
	}
	if err := tm.CheckRequired(); err != nil {
		t.Errorf("CheckRequired with an optional plugin disabled: %v, want nil", err)
	}
	if err := tm.SetEnabled(ctx, "audit", false); err != nil {
		t.Fatal(err)
	}
	err := tm.CheckRequired()
	if !errors.Is(err, ErrRequiredMissing) {
		t.Fatalf("CheckRequired error = %v, want ErrRequiredMissing", err)
	}
	if !strings.Contains(err.Error(), "audit (disabled)") {
		t.Errorf("CheckRequired error %q does not name audit as disabled", err)
	}
	if _, _, err := tm.PreStart(ctx, preStartInput()); !errors.Is(err, ErrRequiredMissing) {
		t.Errorf("PreStart error = %v, want ErrRequiredMissing", err)
	}

	if err := tm.SetEnabled(ctx, "audit", true); err != nil {
		t.Fatal(err)
	}
	if err := tm.CheckRequired(); err != nil {
		t.Errorf("CheckRequired after enabling audit again: %v", err)
	}
}

// count returns the counter plugin's "count" key, 0 when absent.
func count(t *testing.T, db *store.Store, plugin string) uint32 {
	t.Helper()
	var value []byte
	err := db.View(func(tx *store.Tx) error {
		var err error
		value, err = tx.PluginKVGet(plugin, "count")
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("read count of %s: %v", plugin, err)
	}
	if len(value) != 4 {
		t.Fatalf("count of %s is %d bytes, want 4", plugin, len(value))
	}
	return binary.LittleEndian.Uint32(value)
}

func enqueue(t *testing.T, m *Manager, db *store.Store, exitCode int) {
	t.Helper()
	err := db.Update(func(tx *store.Tx) error { return m.EnqueuePostStop(tx, postStopInput(exitCode)) })
	if err != nil {
		t.Fatalf("enqueue post-stop: %v", err)
	}
}

func waitIdle(t *testing.T, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.WaitIdle(ctx); err != nil {
		t.Fatalf("wait for the post-stop queue to drain: %v", err)
	}
}

func TestPostStopRunsOncePerExit(t *testing.T) {
	tm := newTestManager(t)
	install(t, tm.Manager, counterWasm, fields{"name": "counter", "hooks": []string{HookPostStop}})

	enqueue(t, tm.Manager, tm.db, 0)
	tm.Kick()
	waitIdle(t, tm.Manager)
	if got := count(t, tm.db, "counter"); got != 1 {
		t.Errorf("count after one exit = %d, want 1", got)
	}

	tm.Kick()
	time.Sleep(200 * time.Millisecond)
	if got := count(t, tm.db, "counter"); got != 1 {
		t.Errorf("count after a second kick with an empty queue = %d, want 1", got)
	}

	enqueue(t, tm.Manager, tm.db, 1)
	enqueue(t, tm.Manager, tm.db, 137)
	tm.Kick()
	waitIdle(t, tm.Manager)
	if got := count(t, tm.db, "counter"); got != 3 {
		t.Errorf("count after three exits = %d, want 3", got)
	}
}

func TestPostStopFailedCallDropsWrites(t *testing.T) {
	tm := newTestManager(t)
	install(t, tm.Manager, counterWasm, fields{"name": "counter", "hooks": []string{HookPostStop},
		"config": map[string]any{"trap": true}})

	enqueue(t, tm.Manager, tm.db, 0)
	tm.Kick()
	waitIdle(t, tm.Manager)
	if got := count(t, tm.db, "counter"); got != 0 {
		t.Errorf("count after a call that trapped after kv_set = %d, want 0", got)
	}
	events := tm.hookEvents("counter")
	if len(events) != 1 || events[0]["type"] != string(plugins.FailureTrap) {
		t.Errorf("hook events = %v, want one trap failure", events)
	}
}

// TestPostStopExactlyOnceAcrossCrash queues an exit on a manager whose
// worker never runs, stops it as a crash would, and opens a new manager on
// the same directory: the call must run there once, with its writes.
func TestPostStopExactlyOnceAcrossCrash(t *testing.T) {
	cases := []struct {
		name string
		// beforeCrash runs on the first manager after the exit is queued.
		beforeCrash func(t *testing.T, m *Manager, db *store.Store)
	}{
		{"before the call", func(*testing.T, *Manager, *store.Store) {}},
		{"after the call before its commit", func(t *testing.T, m *Manager, db *store.Store) {
			// The worker's call without its commit: the writes stay buffered.
			e := m.entries["counter"]
			input, err := json.Marshal(postStopInput(0))
			if err != nil {
				t.Fatal(err)
			}
			kv := newBufferedKV(db, "counter")
			ctx := plugins.WithKV(context.Background(), kv)
			if _, err := e.plugin.Call(ctx, HookPostStop, input); err != nil {
				t.Fatalf("call counter: %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{Dir: filepath.Join(dir, "plugins")}

			db := openStore(t, filepath.Join(dir, "db"))
			cfg.Store = db
			stopped, cancel := context.WithCancel(context.Background())
			cancel()
			m := startManager(t, stopped, cfg)
			<-m.done // the worker returned without running a call
			install(t, m, counterWasm, fields{"name": "counter", "hooks": []string{HookPostStop}})
			enqueue(t, m, db, 0)
			m.Kick()
			tc.beforeCrash(t, m, db)
			if n, err := m.queueLength(); err != nil || n != 1 {
				t.Fatalf("queue length before the crash = %d (%v), want 1", n, err)
			}
			if got := count(t, db, "counter"); got != 0 {
				t.Fatalf("count before the crash = %d, want 0", got)
			}
			m.Close(context.Background())
			closeStore(t, db)

			for restart := 1; restart <= 2; restart++ {
				db = openStore(t, filepath.Join(dir, "db"))
				cfg.Store = db
				ctx, cancel := context.WithCancel(context.Background())
				m = startManager(t, ctx, cfg)
				waitIdle(t, m)
				if got := count(t, db, "counter"); got != 1 {
					t.Errorf("count after restart %d = %d, want 1", restart, got)
				}
				cancel()
				<-m.done
				m.Close(context.Background())
				closeStore(t, db)
			}
		})
	}
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("open store %s: %v", dir, err)
	}
	return db
}

func closeStore(t *testing.T, db *store.Store) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
}

func TestInspectRunsInParallel(t *testing.T) {
	tm := newTestManager(t)
	const timeout = 500 * time.Millisecond
	spin := fields{"hooks": []string{HookInspect}, "timeout": timeout.String(),
		"config": map[string]any{"spin": true}}
	spin["name"] = "slow-a"
	install(t, tm.Manager, replyWasm, spin)
	spin["name"] = "slow-b"
	install(t, tm.Manager, replyWasm, spin)
	install(t, tm.Manager, replyWasm, replying("audit",
		map[string]any{"status": "ok", "data": map[string]any{"exits": 3}},
		fields{"hooks": []string{HookInspect}}))

	start := time.Now()
	out := tm.Inspect(context.Background(), InspectInput{Kind: "pod",
		Pod: PodInfo{ID: "pod1", Name: "web"}})
	elapsed := time.Since(start)

	if elapsed >= 2*timeout {
		t.Errorf("inspect with two plugins timing out after %s took %s, want under %s: "+
			"enrichers do not run in parallel", timeout, elapsed, 2*timeout)
	}
	if len(out) != 3 {
		t.Errorf("inspect returned %d entries, want one per plugin: %v", len(out), out)
	}
	data, ok := out["audit"].(map[string]any)
	if !ok || data["exits"] != float64(3) {
		t.Errorf("inspect data of audit = %#v, want {exits: 3}", out["audit"])
	}
	for _, name := range []string{"slow-a", "slow-b"} {
		failure, ok := out[name].(map[string]string)
		if !ok {
			t.Errorf("inspect entry of %s = %#v, want a failure", name, out[name])
			continue
		}
		if failure["type"] != string(plugins.FailureTimeout) {
			t.Errorf("inspect failure type of %s = %q, want timeout", name, failure["type"])
		}
	}
}
