package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/podplug/podplug/plugins"
)

// Inspect runs every inspect enricher on in, in parallel, and returns each
// plugin's data keyed by plugin name. A plugin that fails gets an entry with
// the error and its type instead of data, so inspect itself never fails
// because of a plugin.
func (m *Manager) Inspect(ctx context.Context, in InspectInput) map[string]any {
	subs := m.subscribed(HookInspect)
	results := make([]any, len(subs))
	var wg sync.WaitGroup
	for i, e := range subs {
		wg.Go(func() { results[i] = m.callInspect(ctx, e, in) })
	}
	wg.Wait()
	out := make(map[string]any, len(subs))
	for i, e := range subs {
		out[e.rec.Manifest.Name] = results[i]
	}
	return out
}

func (m *Manager) callInspect(ctx context.Context, e *entry, in InspectInput) any {
	man := &e.rec.Manifest
	in.Hook = "inspect"
	in.Plugin = PluginRef{Name: man.Name, Config: rawConfig(man.Config)}
	input, err := json.Marshal(in)
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	out, err := e.plugin.Call(ctx, HookInspect, input)
	var res result
	if err == nil {
		err = decodeResult(man.Name, out, &res)
	}
	if err != nil {
		failure := map[string]string{"error": err.Error()}
		var f *plugins.Failure
		if errors.As(err, &f) {
			failure["type"] = string(f.Type)
		}
		m.report(man.Name, HookInspect, Outcome{Plugin: man.Name, Result: "failed",
			Message: err.Error(), Type: failure["type"]}, "")
		return failure
	}
	return res.Data
}
