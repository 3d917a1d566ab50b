package plugins

import (
	"context"
	"fmt"
	"sort"

	"github.com/tetratelabs/wazero"
)

type kvKey struct{}

// WithKV returns a context whose hook calls read and write the plugin's
// key-value store through kv instead of Config.KV. The engine uses it for
// post-stop calls, so a call's writes commit together with the removal of
// the call from its queue.
func WithKV(ctx context.Context, kv KV) context.Context {
	return context.WithValue(ctx, kvKey{}, kv)
}

// kvFor returns the store for a host call made under ctx.
func (p *Plugin) kvFor(ctx context.Context) KV {
	if kv, ok := ctx.Value(kvKey{}).(KV); ok && kv != nil {
		return kv
	}
	return p.rt.cfg.KV
}

// ExportedHooksOf compiles wasm without caching and returns the hooks it
// exports, in manifest spelling, for a manifest derived from the module.
func ExportedHooksOf(ctx context.Context, wasm []byte) ([]string, error) {
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compile module: %w", err)
	}
	var hooks []string
	for _, hook := range hookNames {
		if _, ok := cm.ExportedFunctions()[hookExport(hook)]; ok {
			hooks = append(hooks, hook)
		}
	}
	sort.Strings(hooks)
	return hooks, nil
}
