package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/tetratelabs/wazero"
)

// Plugin is a loaded plugin: its compiled module, its own wazero runtime
// with the host modules, a pool of instances and a circuit breaker.
// A Plugin is safe for concurrent use.
type Plugin struct {
	rt        *Runtime
	manifest  *Manifest
	wr        wazero.Runtime
	compiled  wazero.CompiledModule
	modConfig wazero.ModuleConfig
	exports   map[string]string // hook name to export name, for exported hooks only
	pool      *pool
	breaker   *breaker
	logs      logLimiter
	stats     statsRecorder

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close
	calls  sync.WaitGroup
}

// newPlugin creates the plugin's wazero runtime and host modules, compiles
// wasm and checks its imports and exports.
func newPlugin(ctx context.Context, r *Runtime, wasm []byte, m *Manifest) (*Plugin, error) {
	p := &Plugin{
		rt:       r,
		manifest: m,
		wr:       wazero.NewRuntimeWithConfig(ctx, r.wconfig),
		pool:     newPool(r.cfg.PoolSize),
		breaker:  newBreaker(r.cfg.Breaker),
		done:     make(chan struct{}),
	}
	p.modConfig = sandboxConfig(m)
	if err := p.instantiateHostModules(ctx); err != nil {
		_ = p.wr.Close(ctx)
		return nil, fmt.Errorf("plugin %s: load: instantiate host modules: %w", m.Name, err)
	}

	compiled, err := p.wr.CompileModule(ctx, wasm)
	if err != nil {
		_ = p.wr.Close(ctx)
		return nil, &Failure{Plugin: m.Name, Hook: "load", Type: FailureABIMismatch,
			Message: "module does not compile: " + firstLine(err), Err: err}
	}
	p.compiled = compiled
	if p.exports, err = p.checkModule(m, compiled); err != nil {
		_ = p.wr.Close(ctx)
		return nil, err
	}
	return p, nil
}

// start creates the first instance, which checks the ABI version, and
// validates the manifest's config when the module exports validate_config.
func (p *Plugin) start(ctx context.Context) error {
	if err := p.warmUp(ctx); err != nil {
		return err
	}
	if _, ok := p.exports[HookValidateConfig]; !ok {
		return nil
	}
	return p.ValidateConfig(ctx, p.manifest.Config)
}

// warmUp creates the first instance under the validate-config timeout and
// makes it idle, or closes it when isolation is per-call.
func (p *Plugin) warmUp(ctx context.Context) error {
	if !p.enter() {
		return p.failure("load", FailureError, ErrClosed, "plugin closed")
	}
	defer p.calls.Done()
	if _, err := p.pool.take(ctx, p.done); err != nil {
		return p.waitFailure(ctx, "load", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, p.manifest.HookTimeout(HookValidateConfig))
	defer cancel()

	inst, f := p.newInstance(ctx, callCtx, "load")
	if f != nil {
		p.pool.free()
		return f
	}
	p.release(inst, true)
	return nil
}

// Manifest returns the plugin's manifest. The caller must not change it.
func (p *Plugin) Manifest() *Manifest { return p.manifest }

// ExportedHooks returns the hooks the module exports, in the order
// pre-start, post-stop, inspect. validate-config is not listed.
func (p *Plugin) ExportedHooks() []string {
	var hooks []string
	for _, h := range hookNames {
		if _, ok := p.exports[h]; ok {
			hooks = append(hooks, h)
		}
	}
	return hooks
}

// Call runs hook (pre-start, post-stop or inspect, as listed in the
// manifest's hooks) with input, the JSON document of ABI.md, under the
// hook's timeout. It returns the raw result JSON when the status is ok.
// Every error is a *Failure: a denial has type denied and carries the
// plugin's message; a malfunction has another type.
func (p *Plugin) Call(ctx context.Context, hook string, input []byte) ([]byte, error) {
	if !slices.Contains(p.manifest.Hooks, hook) {
		return nil, p.failure(hook, FailureError, ErrNotSubscribed,
			"not subscribed: the manifest's hooks do not list "+hook)
	}
	if len(input) > MaxInputBytes {
		return nil, p.failure(hook, FailureError, ErrInputTooLarge,
			fmt.Sprintf("input is %d bytes, over the limit of %d", len(input), MaxInputBytes))
	}
	if !p.enter() {
		return nil, p.failure(hook, FailureError, ErrClosed, "plugin closed")
	}
	defer p.calls.Done()

	probe, err := p.breaker.allow()
	if err != nil {
		f := p.failure(hook, FailureCircuitOpen, nil, err.Error())
		p.stats.record(f)
		return nil, f
	}
	out, f := p.run(ctx, hook, input)
	p.breaker.done(probe, outcomeOf(f))
	p.stats.record(f)
	if f != nil {
		return nil, f
	}
	return out, nil
}

// ValidateConfig calls podplug_validate_config with config, as Load does
// with the manifest's config. It returns nil when the module does not
// export validate_config. A denial is a Failure of type denied carrying
// the plugin's message. The circuit breaker does not apply.
func (p *Plugin) ValidateConfig(ctx context.Context, config json.RawMessage) error {
	if _, ok := p.exports[HookValidateConfig]; !ok {
		return nil
	}
	input, err := hookInput("validate_config", p.manifest.Name, config)
	if err != nil {
		return p.failure(HookValidateConfig, FailureError, err, "encode input: "+err.Error())
	}
	if !p.enter() {
		return p.failure(HookValidateConfig, FailureError, ErrClosed, "plugin closed")
	}
	defer p.calls.Done()

	_, f := p.run(ctx, HookValidateConfig, input)
	p.stats.record(f)
	if f != nil {
		return f
	}
	return nil
}

// hookInput encodes {"hook": ..., "plugin": {"name": ..., "config": ...}}.
func hookInput(hook, name string, config json.RawMessage) ([]byte, error) {
	if len(config) == 0 || string(config) == "null" {
		config = json.RawMessage("{}")
	}
	type pluginInfo struct {
		Name   string          `json:"name"`
		Config json.RawMessage `json:"config"`
	}
	return json.Marshal(struct {
		Hook   string     `json:"hook"`
		Plugin pluginInfo `json:"plugin"`
	}{hook, pluginInfo{name, config}})
}

// Stats returns a snapshot of the plugin's counters.
func (p *Plugin) Stats() Stats {
	s := p.stats.snapshot()
	s.Breaker = p.breaker.state()
	s.LogLinesDropped = p.logs.totalDropped()
	return s
}

// Close stops the plugin: calls waiting for an instance return ErrClosed,
// running guest code is stopped, and Close waits for every call to return
// before releasing the instances and the plugin's wazero runtime.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()

	// Closing the runtime closes every instance, which stops guest code
	// that is running (WithCloseOnContextDone), so the calls return soon.
	err := p.wr.Close(ctx)
	p.calls.Wait()
	p.pool.drain(ctx)
	p.rt.forget(p)
	if err != nil {
		return fmt.Errorf("close plugin %s: %w", p.manifest.Name, err)
	}
	return nil
}

// enter registers a call; it returns false when the plugin is closed.
func (p *Plugin) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.calls.Add(1)
	return true
}

func (p *Plugin) isClosed() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *Plugin) failure(hook string, typ FailureType, err error, msg string) *Failure {
	return &Failure{Plugin: p.manifest.Name, Hook: hook, Type: typ, Message: msg, Err: err}
}
