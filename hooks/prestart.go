package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/podplug/podplug/plugins"
)

// Outcome is the result of one plugin in a hook call, for events and inspect.
type Outcome struct {
	Plugin string `json:"plugin"`
	// Result is ok, denied, would-deny, would-change, or failed.
	Result  string `json:"result"`
	Type    string `json:"type,omitempty"` // failure type when failed
	Message string `json:"message,omitempty"`
}

// subscribed returns the enabled, loaded plugins that handle hook, in run
// order.
func (m *Manager) subscribed(hook string) []*entry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*entry
	for _, e := range m.sorted() {
		if e.rec.Enabled && e.plugin != nil && contains(e.rec.Manifest.Hooks, hook) {
			out = append(out, e)
		}
	}
	return out
}

// CheckRequired returns an error naming every required plugin that is
// disabled or failed to load.
func (m *Manager) CheckRequired() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var missing []string
	for _, e := range m.sorted() {
		man := e.rec.Manifest
		if !man.Required {
			continue
		}
		switch {
		case !e.rec.Enabled:
			missing = append(missing, man.Name+" (disabled)")
		case e.plugin == nil:
			missing = append(missing, fmt.Sprintf("%s (not loaded: %v)", man.Name, e.loadErr))
		case e.plugin.Stats().Breaker == plugins.BreakerOpen:
			missing = append(missing, man.Name+" (failing: circuit breaker open)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: enable or fix them first: %w", strings.Join(missing, ", "), ErrRequiredMissing)
	}
	return nil
}

// PreStart runs every pre-start plugin on in, in order, and returns the
// merged changes. A denial by an enforcing plugin, a failure of a plugin
// whose failure policy is fail, and two plugins setting the same field are
// errors; monitor-mode plugins are called and reported but change nothing.
func (m *Manager) PreStart(ctx context.Context, in PreStartInput) (*Changes, []Outcome, error) {
	if err := m.CheckRequired(); err != nil {
		return nil, nil, err
	}
	merged := newMerger()
	var outcomes []Outcome
	for _, e := range m.subscribed(HookPreStart) {
		man := &e.rec.Manifest
		changes, outcome, err := m.callPreStart(ctx, e, in)
		outcomes = append(outcomes, outcome)
		m.report(man.Name, HookPreStart, outcome, in.Container.Name)
		if err != nil {
			return nil, outcomes, err
		}
		if changes == nil || man.Mode == "monitor" {
			continue
		}
		if err := merged.add(man.Name, changes); err != nil {
			return nil, outcomes, err
		}
	}
	return merged.changes, outcomes, nil
}

func (m *Manager) callPreStart(ctx context.Context, e *entry, in PreStartInput) (*Changes, Outcome, error) {
	man := &e.rec.Manifest
	in.Hook = "pre_start"
	in.Plugin = PluginRef{Name: man.Name, Config: rawConfig(man.Config)}
	input, err := json.Marshal(in)
	if err != nil {
		return nil, Outcome{}, err
	}
	out, callErr := e.plugin.Call(ctx, HookPreStart, input)
	var res result
	if callErr == nil {
		callErr = decodeResult(man.Name, out, &res)
	}
	if callErr == nil && res.Changes != nil {
		callErr = checkAllowed(man, res.Changes)
	}
	return m.judge(man, res.Changes, callErr)
}

// judge turns a plugin's result into an outcome, applying its mode and
// failure policy.
func (m *Manager) judge(man *plugins.Manifest, changes *Changes, callErr error) (*Changes, Outcome, error) {
	outcome := Outcome{Plugin: man.Name, Result: "ok"}
	var failure *plugins.Failure
	switch {
	case callErr == nil:
		if man.Mode == "monitor" && changes != nil && !changes.Empty() {
			outcome.Result = "would-change"
		}
		return changes, outcome, nil
	case errors.As(callErr, &failure) && failure.Type == plugins.FailureDenied:
		outcome.Message = failure.Message
		if man.Mode == "monitor" {
			outcome.Result = "would-deny"
			return nil, outcome, nil
		}
		outcome.Result = "denied"
		return nil, outcome, fmt.Errorf("plugin %s: %s: %w", man.Name, failure.Message, ErrDenied)
	}
	outcome.Result, outcome.Message = "failed", callErr.Error()
	outcome.Type = string(plugins.FailureError)
	if failure != nil {
		outcome.Type = string(failure.Type)
	}
	if man.Mode == "monitor" || man.FailurePolicy == "ignore" {
		return nil, outcome, nil
	}
	return nil, outcome, fmt.Errorf("%v: %w", callErr, ErrPluginFailed)
}

func (m *Manager) report(plugin, hook string, o Outcome, container string) {
	if o.Result == "ok" {
		return
	}
	attrs := map[string]string{"hook": hook, "result": o.Result, "container": container}
	if o.Type != "" {
		attrs["type"] = o.Type
	}
	if o.Message != "" {
		attrs["message"] = o.Message
	}
	m.event(plugin, "hook", attrs)
}

func rawConfig(raw json.RawMessage) any {
	if len(raw) == 0 {
		return map[string]any{}
	}
	return raw
}

// decodeResult parses a result the runtime already checked for a valid
// status.
func decodeResult(plugin string, out []byte, res *result) error {
	if err := json.Unmarshal(out, res); err != nil {
		return &plugins.Failure{Plugin: plugin, Type: plugins.FailureBadOutput,
			Message: "result is not valid JSON: " + err.Error()}
	}
	return nil
}

// checkAllowed rejects a change of a kind the manifest does not allow.
func checkAllowed(man *plugins.Manifest, c *Changes) error {
	kinds := map[string]bool{
		"env": len(c.Env) > 0, "labels": len(c.Labels) > 0,
		"annotations": len(c.Annotations) > 0, "mounts": len(c.Mounts) > 0,
		"rlimits": len(c.Rlimits) > 0, "resources": c.Resources != nil,
	}
	for kind, used := range kinds {
		if used && !contains(man.AllowedChanges, kind) {
			return &plugins.Failure{Plugin: man.Name, Hook: HookPreStart, Type: plugins.FailureBadOutput,
				Message: fmt.Sprintf("changes %s, which its manifest does not list in allowedChanges", kind)}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// merger combines plugins' changes and remembers who set each field.
type merger struct {
	changes *Changes
	owner   map[string]string // field key -> plugin
}

func newMerger() *merger {
	return &merger{changes: &Changes{}, owner: map[string]string{}}
}

func (mg *merger) claim(plugin, field string) error {
	if prev, ok := mg.owner[field]; ok && prev != plugin {
		return fmt.Errorf("plugins %s and %s both set %s: %w", prev, plugin, field, ErrConflict)
	}
	mg.owner[field] = plugin
	return nil
}

func (mg *merger) add(plugin string, c *Changes) error {
	for k, v := range c.Env {
		if err := mg.claim(plugin, "env "+k); err != nil {
			return err
		}
		mg.changes.Env = setKey(mg.changes.Env, k, v)
	}
	for k, v := range c.Labels {
		if err := mg.claim(plugin, "label "+k); err != nil {
			return err
		}
		mg.changes.Labels = setKey(mg.changes.Labels, k, v)
	}
	for k, v := range c.Annotations {
		if err := mg.claim(plugin, "annotation "+k); err != nil {
			return err
		}
		mg.changes.Annotations = setKey(mg.changes.Annotations, k, v)
	}
	for _, mnt := range c.Mounts {
		if err := mg.claim(plugin, "mount "+mnt.Destination); err != nil {
			return err
		}
		mg.changes.Mounts = append(mg.changes.Mounts, mnt)
	}
	for _, rl := range c.Rlimits {
		if err := mg.claim(plugin, "rlimit "+rl.Type); err != nil {
			return err
		}
		mg.changes.Rlimits = append(mg.changes.Rlimits, rl)
	}
	return mg.addResources(plugin, c.Resources)
}

func (mg *merger) addResources(plugin string, r *Resources) error {
	if r == nil {
		return nil
	}
	if mg.changes.Resources == nil {
		mg.changes.Resources = &Resources{}
	}
	fields := []struct {
		name string
		set  bool
		copy func()
	}{
		{"memory_limit", r.MemoryLimit != 0, func() { mg.changes.Resources.MemoryLimit = r.MemoryLimit }},
		{"cpu_shares", r.CPUShares != 0, func() { mg.changes.Resources.CPUShares = r.CPUShares }},
		{"pids_limit", r.PidsLimit != 0, func() { mg.changes.Resources.PidsLimit = r.PidsLimit }},
	}
	for _, f := range fields {
		if !f.set {
			continue
		}
		if err := mg.claim(plugin, "resources "+f.name); err != nil {
			return err
		}
		f.copy()
	}
	return nil
}

func setKey(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// Active reports whether a call of hook could do anything: some enabled
// plugin subscribes to it, or a required plugin exists whose absence must
// block the call.
func (m *Manager) Active(hook string) bool {
	if len(m.subscribed(hook)) > 0 {
		return true
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, e := range m.entries {
		if e.rec.Manifest.Required {
			return true
		}
	}
	return false
}
