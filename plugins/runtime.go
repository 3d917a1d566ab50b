package plugins

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
)

// KV is the key-value store behind the podplug.kv_* host functions. Keys are
// scoped by plugin name, so no plugin can read another's keys.
// Implementations must be safe for concurrent use.
type KV interface {
	// Get returns the value of key, and false when it is absent.
	Get(plugin, key string) ([]byte, bool, error)
	Set(plugin, key string, value []byte) error
	// Delete removes key; a key that is absent is not an error.
	Delete(plugin, key string) error
}

// Config configures a Runtime.
type Config struct {
	// CacheDir is the directory of wazero's compilation cache, such as
	// ROOT/plugins/cache. "" keeps compiled code in memory only.
	CacheDir string
	// KV stores the plugins' keys. nil means a MemoryKV, which does not
	// survive the process.
	KV KV
	// Logger receives the runtime's own logs, and the plugins' log lines
	// when OnLog is nil. nil discards them.
	Logger *slog.Logger
	// OnLog receives plugin log lines after size and rate capping, with
	// levels 0 debug, 1 info, 2 warn, 3 error. It must be safe for
	// concurrent use.
	OnLog func(plugin string, level int, msg string)
	// PoolSize is the maximum number of instances per plugin, warm or in a
	// call; calls beyond it wait for a free instance. Default 4.
	PoolSize int
	// Breaker configures the per-plugin circuit breaker.
	Breaker BreakerConfig
}

// BreakerConfig configures the circuit breaker of each plugin. Zero fields
// take the defaults.
type BreakerConfig struct {
	// Threshold is the number of consecutive failures, denials not counted,
	// that opens the breaker. Default 5.
	Threshold int
	// Cooldown is how long the breaker stays open the first time. It
	// doubles on each failed probe, up to MaxCooldown. Default 1s.
	Cooldown time.Duration
	// MaxCooldown caps the cool-down. Default 1m.
	MaxCooldown time.Duration
}

// DefaultPoolSize is the default of Config.PoolSize.
const DefaultPoolSize = 4

// Runtime loads and runs Wasm plugins. Each plugin gets its own wazero
// runtime, so the podplug host functions act for that plugin alone. The
// wazero runtimes share one compilation cache, so a module is compiled once
// per sha256. A Runtime is safe for concurrent use.
type Runtime struct {
	cfg     Config
	cache   wazero.CompilationCache
	wconfig wazero.RuntimeConfig

	mu      sync.Mutex
	plugins map[*Plugin]struct{}
	closed  bool
}

// NewRuntime creates a Runtime. It creates cfg.CacheDir when missing.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	cfg = withDefaults(cfg)
	var cache wazero.CompilationCache
	if cfg.CacheDir == "" {
		cache = wazero.NewCompilationCache()
	} else {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("open plugin compilation cache %s: %w", cfg.CacheDir, err)
		}
		cache = c
	}
	// WithCloseOnContextDone makes compiled code check for a cancelled
	// context and a closed module, so a runaway guest stops at its deadline.
	wconfig := wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithCloseOnContextDone(true)
	return &Runtime{
		cfg:     cfg,
		cache:   cache,
		wconfig: wconfig,
		plugins: map[*Plugin]struct{}{},
	}, nil
}

func withDefaults(cfg Config) Config {
	if cfg.KV == nil {
		cfg.KV = NewMemoryKV()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = DefaultPoolSize
	}
	if cfg.Breaker.Threshold <= 0 {
		cfg.Breaker.Threshold = 5
	}
	if cfg.Breaker.Cooldown <= 0 {
		cfg.Breaker.Cooldown = time.Second
	}
	if cfg.Breaker.MaxCooldown <= 0 {
		cfg.Breaker.MaxCooldown = time.Minute
	}
	cfg.Breaker.MaxCooldown = max(cfg.Breaker.MaxCooldown, cfg.Breaker.Cooldown)
	return cfg
}

// Close closes every plugin loaded by r, waiting for their calls to
// return, then the compilation cache. The cache directory is kept.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	loaded := make([]*Plugin, 0, len(r.plugins))
	for p := range r.plugins {
		loaded = append(loaded, p)
	}
	r.mu.Unlock()

	var errs []error
	for _, p := range loaded {
		errs = append(errs, p.Close(ctx))
	}
	if err := r.cache.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close plugin compilation cache: %w", err))
	}
	return errors.Join(errs...)
}

// Load checks wasm against m's sha256 pin, compiles it through the cache,
// instantiates one instance to check the ABI version and exports, checks
// that every hook in m.Hooks is exported, and calls podplug_validate_config
// with m.Config when the module exports it. A denial or error from
// validate_config fails Load with the plugin's message. Load works on a
// copy of m with the defaults applied, which Plugin.Manifest returns.
func (r *Runtime) Load(ctx context.Context, wasm []byte, m *Manifest) (*Plugin, error) {
	m = m.clone()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := m.checkDigest(sha256.Sum256(wasm)); err != nil {
		return nil, err
	}

	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("load plugin %s: runtime %w", m.Name, ErrClosed)
	}

	start := time.Now()
	p, err := newPlugin(ctx, r, wasm, m)
	if err != nil {
		return nil, err
	}
	if err := p.start(ctx); err != nil {
		_ = p.Close(ctx)
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		_ = p.Close(ctx)
		return nil, fmt.Errorf("load plugin %s: runtime %w", m.Name, ErrClosed)
	}
	r.plugins[p] = struct{}{}
	r.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "plugin loaded", slog.String("plugin", m.Name),
		slog.String("version", m.Version), slog.String("sha256", m.SHA256),
		slog.Duration("duration", time.Since(start)))
	return p, nil
}

func (r *Runtime) forget(p *Plugin) {
	r.mu.Lock()
	delete(r.plugins, p)
	r.mu.Unlock()
}
