// Package engine runs pods and their containers through their lifecycle:
// create, start with init containers and dependency order, stop in reverse
// order with timeouts, pause, unpause, restart, kill and remove. It keeps
// every record in the store, runs containers through the oci package and
// reacts to exits that conmon reports, also those that happened while the
// daemon was down.
package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/network"
	"github.com/podplug/podplug/engine/oci"
	"github.com/podplug/podplug/hooks"
	"github.com/podplug/podplug/store"
)

// Config sets where an engine keeps its state and which binaries it uses.
type Config struct {
	// Root holds the database, images, volumes and container files.
	Root string
	// RunRoot holds runtime state: bundles, runc's and conmon's files.
	RunRoot string
	// PauseBinary is the infra container's program; it defaults to
	// podplug-pause next to the running executable, then in PATH.
	PauseBinary string
	RuncPath    string
	ConmonPath  string
	// SubUIDFile and SubGIDFile list the host ids that tenants without
	// configured ids get blocks of, in subuid(5) format; they default to
	// /etc/subuid and /etc/subgid.
	SubUIDFile string
	SubGIDFile string
	Logger     *slog.Logger
}

// Engine is the pod engine. Its methods are safe for concurrent use; each
// operation on a pod holds that pod's lock.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	db     *store.Store
	images *image.Store
	rt     *oci.Runtime
	net    *network.Manager
	hooks  *hooks.Manager
	// startCheck is the policy check of final specs; nil allows all.
	startCheck StartCheck

	podLocks keyedMutex
	ctrLocks keyedMutex
	exits    waiters
	events   eventBus

	// idMu serializes allotting host id ranges to tenants.
	idMu sync.Mutex

	// ctx ends background work (restarts, exit watching) on Close.
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup
}

// New opens the store, checks the runtime and reconciles recorded state with
// what runc and conmon report, then starts watching container exits.
func New(cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for _, dir := range []string{cfg.Root, cfg.RunRoot} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	rt, err := oci.New(oci.Config{
		RuncPath: cfg.RuncPath, ConmonPath: cfg.ConmonPath,
		Dir: cfg.RunRoot, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, rt: rt}
	if err := e.prepareInfraRootfs(); err != nil {
		return nil, err
	}
	if err := e.openNetwork(); err != nil {
		return nil, err
	}
	e.db, err = store.Open(filepath.Join(cfg.Root, "db"), store.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	e.images, err = image.NewStore(filepath.Join(cfg.Root, "images"), e.db, cfg.Logger)
	if err != nil {
		e.db.Close()
		return nil, err
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.hooks, err = hooks.New(e.ctx, hooks.Config{
		Dir: filepath.Join(cfg.Root, "plugins"), Store: e.db, Logger: cfg.Logger, Emit: e.emit,
	})
	if err != nil {
		e.cancel()
		e.db.Close()
		return nil, err
	}
	e.reconcile(e.ctx)
	e.reconcileNetworks(e.ctx)
	if err := rt.WatchExits(e.ctx, e.onExitFile); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops background work and closes the store. Containers keep running.
func (e *Engine) Close() error {
	e.cancel()
	e.bg.Wait()
	e.hooks.Close(context.Background())
	return e.db.Close()
}

// Store returns the engine's store, for components that keep their own
// records in it.
func (e *Engine) Store() *store.Store { return e.db }

// Images returns the engine's image store.
func (e *Engine) Images() *image.Store { return e.images }

// Versions returns the versions of runc and conmon.
func (e *Engine) Versions(ctx context.Context) (runc, conmon string) {
	return e.rt.Versions(ctx)
}

// infraRootfs is the read-only root file system every infra container
// shares: an empty tree with the pause binary.
func (e *Engine) infraRootfs() string { return filepath.Join(e.cfg.Root, "infra", "rootfs") }

func (e *Engine) prepareInfraRootfs() error {
	src, err := e.findPauseBinary()
	if err != nil {
		return err
	}
	dir := e.infraRootfs()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create infra root file system: %w", err)
	}
	if err := makeInfraMountPoints(dir); err != nil {
		return fmt.Errorf("create infra root file system: %w", err)
	}
	// Mode 0755 lets the infra run as any uid: in a user namespace, its
	// root is an unprivileged host uid that does not own the file.
	return copyFile(src, filepath.Join(dir, "pause"), 0o755)
}

func (e *Engine) findPauseBinary() (string, error) {
	candidates := []string{e.cfg.PauseBinary}
	if e.cfg.PauseBinary == "" {
		if exe, err := os.Executable(); err == nil {
			candidates = []string{filepath.Join(filepath.Dir(exe), "podplug-pause")}
		}
		candidates = append(candidates, "/usr/local/libexec/podplug/podplug-pause",
			"/usr/libexec/podplug/podplug-pause")
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, nil
		}
	}
	return "", fmt.Errorf("infra program podplug-pause not found in %v: build it with `make build`",
		candidates)
}

// copyFile writes src to dst through a temporary file and a rename, so a
// running infra container never reads a half-written binary.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".pause-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// keyedMutex hands out one mutex per key.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*sync.Mutex{}
	}
	m, ok := k.locks[key]
	if !ok {
		m = &sync.Mutex{}
		k.locks[key] = m
	}
	k.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// forget drops the mutex of a removed object.
func (k *keyedMutex) forget(key string) {
	k.mu.Lock()
	delete(k.locks, key)
	k.mu.Unlock()
}

// waiters lets goroutines wait for the next recorded exit of a container.
type waiters struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

// next returns a channel closed when the container's next exit is recorded.
// Call it before acting, so an exit that follows at once is not missed.
func (w *waiters) next(id string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = map[string]chan struct{}{}
	}
	c, ok := w.ch[id]
	if !ok {
		c = make(chan struct{})
		w.ch[id] = c
	}
	return c
}

func (w *waiters) notify(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.ch[id]; ok {
		close(c)
		delete(w.ch, id)
	}
}
