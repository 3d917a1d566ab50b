package hooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/plugins"
	"github.com/podplug/podplug/store"
)

// bucket is the store bucket of the plugin registry.
const bucket = "plugins"

// Config sets where the manager keeps modules and how it reports.
type Config struct {
	// Dir holds the installed modules and wazero's compilation cache.
	Dir    string
	Store  *store.Store
	Logger *slog.Logger
	// Emit records an event; it may be nil.
	Emit func(*model.Event)
}

// Manager is the registry of installed plugins and their dispatcher. It is
// safe for concurrent use.
type Manager struct {
	cfg  Config
	log  *slog.Logger
	rt   *plugins.Runtime
	kick chan struct{} // wakes the post-stop worker
	done chan struct{}

	mu      sync.RWMutex
	entries map[string]*entry
}

// Record is the stored entry of an installed plugin.
type Record struct {
	Manifest    plugins.Manifest `json:"manifest"`
	Enabled     bool             `json:"enabled"`
	InstalledAt time.Time        `json:"installedAt"`
}

type entry struct {
	rec     Record
	plugin  *plugins.Plugin // nil when loading failed
	loadErr error
}

// New opens the registry, loads every installed plugin (from the
// compilation cache when it was compiled before) and starts the post-stop
// worker, which runs until ctx is done.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "modules"), 0o700); err != nil {
		return nil, fmt.Errorf("create plugin directory: %w", err)
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, entries: map[string]*entry{},
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	rt, err := plugins.NewRuntime(ctx, plugins.Config{
		CacheDir: filepath.Join(cfg.Dir, "cache"), KV: storeKV{cfg.Store},
		Logger: cfg.Logger, OnLog: m.onLog,
	})
	if err != nil {
		return nil, err
	}
	m.rt = rt
	if err := m.loadAll(ctx); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	m.logOrder()
	go m.postStopWorker(ctx)
	return m, nil
}

// Close stops the runtime; the post-stop worker stops with New's context.
func (m *Manager) Close(ctx context.Context) error {
	return m.rt.Close(ctx)
}

func (m *Manager) loadAll(ctx context.Context) error {
	var recs []Record
	err := m.cfg.Store.View(func(tx *store.Tx) error {
		return tx.ListRecords(bucket, func(_ string, value []byte) error {
			var r Record
			if err := json.Unmarshal(value, &r); err != nil {
				return err
			}
			recs = append(recs, r)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read plugin registry: %w", err)
	}
	for _, r := range recs {
		e := &entry{rec: r}
		e.plugin, e.loadErr = m.load(ctx, &e.rec.Manifest)
		if e.loadErr != nil {
			m.log.Error("load plugin", "plugin", r.Manifest.Name, "error", e.loadErr)
		}
		m.entries[r.Manifest.Name] = e
	}
	return nil
}

func (m *Manager) load(ctx context.Context, man *plugins.Manifest) (*plugins.Plugin, error) {
	wasm, err := os.ReadFile(m.modulePath(man.Name))
	if err != nil {
		return nil, fmt.Errorf("read module of plugin %s: %w", man.Name, err)
	}
	return m.rt.Load(ctx, wasm, man)
}

func (m *Manager) modulePath(name string) string {
	return filepath.Join(m.cfg.Dir, "modules", name+".wasm")
}

func (m *Manager) logOrder() {
	var names []string
	for _, e := range m.sorted() {
		names = append(names, e.rec.Manifest.Name)
	}
	if len(names) > 0 {
		m.log.Info("plugin order", "plugins", strings.Join(names, ", "))
	}
}

// sorted returns every entry by priority, then name. The caller holds mu
// or owns the manager exclusively.
func (m *Manager) sorted() []*entry {
	out := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].rec.Manifest, out[j].rec.Manifest
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Name < b.Name
	})
	return out
}

// InstallOptions tune Install.
type InstallOptions struct {
	// Manifest is YAML or JSON; nil means a manifest derived from the file
	// name and the module's exports, with defaults.
	Manifest []byte
	// Name names the plugin when no manifest is given.
	Name string
	// Grants are the host capabilities the operator grants: clock, random.
	Grants []string
}

// Install checks, compiles and records a plugin. The module's sha256 must
// match the manifest's pin when the manifest has one; otherwise the pin is
// set to the module's digest. The plugin's config is validated by the
// plugin itself before anything is recorded.
func (m *Manager) Install(ctx context.Context, wasm []byte, opts InstallOptions) (Info, error) {
	man, err := m.manifestFor(ctx, wasm, opts)
	if err != nil {
		return Info{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[man.Name]; ok {
		return Info{}, fmt.Errorf("install plugin %s: already installed: remove it first: %w",
			man.Name, ErrConflict)
	}
	p, err := m.rt.Load(ctx, wasm, man)
	if err != nil {
		return Info{}, fmt.Errorf("install plugin %s: %w", man.Name, err)
	}
	if err := writeFileAtomic(m.modulePath(man.Name), wasm); err != nil {
		p.Close(ctx)
		return Info{}, fmt.Errorf("install plugin %s: %w", man.Name, err)
	}
	rec := Record{Manifest: *man, Enabled: true, InstalledAt: time.Now()}
	err = m.cfg.Store.Update(func(tx *store.Tx) error { return tx.PutRecord(bucket, man.Name, rec) })
	if err != nil {
		p.Close(ctx)
		os.Remove(m.modulePath(man.Name))
		return Info{}, fmt.Errorf("install plugin %s: %w", man.Name, err)
	}
	e := &entry{rec: rec, plugin: p}
	m.entries[man.Name] = e
	m.event(man.Name, "install", nil)
	m.logOrder()
	return m.info(e), nil
}

func (m *Manager) manifestFor(ctx context.Context, wasm []byte,
	opts InstallOptions) (*plugins.Manifest, error) {
	data := opts.Manifest
	if data == nil {
		derived, err := deriveManifest(ctx, wasm, opts.Name)
		if err != nil {
			return nil, err
		}
		data = derived
	}
	man, err := plugins.ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("plugin manifest: %w: %w", err, ErrInvalid)
	}
	if len(opts.Grants) > 0 {
		man.Grants = opts.Grants
	}
	return man, nil
}

// deriveManifest writes a manifest with defaults for a module installed
// without one: the hooks it exports and its own digest as the pin.
func deriveManifest(ctx context.Context, wasm []byte, name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("plugin name missing: give --name or a manifest: %w", ErrInvalid)
	}
	hooks, err := plugins.ExportedHooksOf(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w: %w", name, err, ErrInvalid)
	}
	sum := sha256.Sum256(wasm)
	man := map[string]any{"name": name, "version": "0.0.0",
		"sha256": hex.EncodeToString(sum[:]), "hooks": hooks}
	return json.Marshal(man)
}

// Remove unloads and deletes a plugin; its key-value entries stay.
func (m *Manager) Remove(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[name]
	if !ok {
		return fmt.Errorf("plugin %s: %w", name, ErrNotFound)
	}
	err := m.cfg.Store.Update(func(tx *store.Tx) error { return tx.DeleteRecord(bucket, name) })
	if err != nil {
		return fmt.Errorf("remove plugin %s: %w", name, err)
	}
	if e.plugin != nil {
		e.plugin.Close(ctx)
	}
	delete(m.entries, name)
	os.Remove(m.modulePath(name))
	m.event(name, "remove", nil)
	return nil
}

// SetEnabled enables or disables a plugin. Enabling validates its config
// again and retries a failed load.
func (m *Manager) SetEnabled(ctx context.Context, name string, enabled bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[name]
	if !ok {
		return fmt.Errorf("plugin %s: %w", name, ErrNotFound)
	}
	if enabled && e.plugin == nil {
		p, err := m.load(ctx, &e.rec.Manifest)
		if err != nil {
			return fmt.Errorf("enable plugin %s: %w", name, err)
		}
		e.plugin, e.loadErr = p, nil
	}
	rec := e.rec
	rec.Enabled = enabled
	err := m.cfg.Store.Update(func(tx *store.Tx) error { return tx.PutRecord(bucket, name, rec) })
	if err != nil {
		return fmt.Errorf("update plugin %s: %w", name, err)
	}
	e.rec = rec
	action := "disable"
	if enabled {
		action = "enable"
	}
	m.event(name, action, nil)
	return nil
}

// Info describes an installed plugin for `plugin ls` and `plugin inspect`.
type Info struct {
	Order       int              `json:"Order"`
	Name        string           `json:"Name"`
	Version     string           `json:"Version"`
	SHA256      string           `json:"SHA256"`
	Hooks       []string         `json:"Hooks"`
	Priority    int              `json:"Priority"`
	Mode        string           `json:"Mode"`
	Failure     string           `json:"FailurePolicy"`
	Required    bool             `json:"Required"`
	Isolation   string           `json:"Isolation"`
	Enabled     bool             `json:"Enabled"`
	Loaded      bool             `json:"Loaded"`
	LoadError   string           `json:"LoadError,omitempty"`
	InstalledAt time.Time        `json:"InstalledAt"`
	Manifest    plugins.Manifest `json:"Manifest"`
	Stats       *plugins.Stats   `json:"Stats,omitempty"`
}

// List returns the installed plugins in the order they run.
func (m *Manager) List() []Info {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Info
	for i, e := range m.sorted() {
		info := m.info(e)
		info.Order = i + 1
		out = append(out, info)
	}
	return out
}

// Get returns one plugin.
func (m *Manager) Get(name string) (Info, error) {
	for _, info := range m.List() {
		if info.Name == name {
			return info, nil
		}
	}
	return Info{}, fmt.Errorf("plugin %s: %w", name, ErrNotFound)
}

func (m *Manager) info(e *entry) Info {
	man := e.rec.Manifest
	info := Info{
		Name: man.Name, Version: man.Version, SHA256: man.SHA256, Hooks: man.Hooks,
		Priority: man.Priority, Mode: man.Mode, Failure: man.FailurePolicy,
		Required: man.Required, Isolation: man.Isolation, Enabled: e.rec.Enabled,
		Loaded: e.plugin != nil, InstalledAt: e.rec.InstalledAt, Manifest: man,
	}
	if e.loadErr != nil {
		info.LoadError = e.loadErr.Error()
	}
	if e.plugin != nil {
		stats := e.plugin.Stats()
		if stats.LastFailure != nil {
			// The cause is an error interface, which the API client
			// cannot decode from JSON, so it is dropped. Message describes it.
			stats.LastFailure.Err = nil
		}
		info.Stats = &stats
	}
	return info
}

func (m *Manager) event(plugin, action string, attrs map[string]string) {
	if m.cfg.Emit == nil {
		return
	}
	m.cfg.Emit(&model.Event{Type: "plugin", Action: action, Name: plugin, Time: time.Now(),
		Attributes: attrs})
}

func (m *Manager) onLog(plugin string, level int, msg string) {
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	lvl := slog.LevelInfo
	if level >= 0 && level < len(levels) {
		lvl = levels[level]
	}
	m.log.Log(context.Background(), lvl, msg, "plugin", plugin)
	if level >= 1 {
		m.event(plugin, "log", map[string]string{"message": msg, "level": lvl.String()})
	}
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".module-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// storeKV keeps plugins' key-value entries in the store.
type storeKV struct{ db *store.Store }

func (s storeKV) Get(plugin, key string) ([]byte, bool, error) {
	var value []byte
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		value, err = tx.PluginKVGet(plugin, key)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	return value, err == nil, err
}

func (s storeKV) Set(plugin, key string, value []byte) error {
	return s.db.Update(func(tx *store.Tx) error { return tx.PluginKVPut(plugin, key, value) })
}

func (s storeKV) Delete(plugin, key string) error {
	return s.db.Update(func(tx *store.Tx) error { return tx.PluginKVDelete(plugin, key) })
}
