package plugins

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Hook names as manifests and Plugin.Call spell them.
const (
	HookPreStart       = "pre-start"
	HookPostStop       = "post-stop"
	HookInspect        = "inspect"
	HookValidateConfig = "validate-config" // called by Load; not listed in hooks
)

// Manifest defaults and limits.
const (
	DefaultTimeout          = time.Second
	MaxTimeout              = time.Minute
	DefaultMemoryLimitPages = 512 // 32 MiB
	MaxMemoryLimitPages     = 65536
	DefaultMaxOutputBytes   = 64 << 10
	MaxOutputBytesLimit     = 1 << 20
	// MaxInputBytes caps the input of one hook call.
	MaxInputBytes = 1 << 20
)

var (
	hookNames    = []string{HookPreStart, HookPostStop, HookInspect}
	changeKinds  = []string{"env", "labels", "annotations", "mounts", "rlimits", "resources"}
	grantNames   = []string{"clock", "random"}
	manifestName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	sha256Hex    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Manifest is a plugin's manifest, read from YAML or JSON by ParseManifest.
type Manifest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// SHA256 pins the module: the hex digest Load checks before compiling.
	SHA256 string `json:"sha256"`
	// Hooks lists the hooks the plugin subscribes to: pre-start, post-stop, inspect.
	Hooks []string `json:"hooks"`
	// Priority orders plugins: lower runs first, ties by name.
	Priority int `json:"priority"`
	// Timeout is the deadline of one hook call unless HookTimeouts names the
	// hook; it also covers creating the instance when none is warm.
	Timeout      Duration            `json:"timeout"`
	HookTimeouts map[string]Duration `json:"hookTimeouts,omitempty"`
	// MemoryLimitPages is the hard cap of the guest's memory in 64 KiB pages.
	MemoryLimitPages uint32 `json:"memoryLimitPages"`
	// MemoryHighWaterPages is the memory size past which an instance is
	// replaced after its call returns.
	MemoryHighWaterPages uint32 `json:"memoryHighWaterPages"`
	// FailurePolicy is fail or ignore, applied the same to errors and timeouts.
	FailurePolicy string `json:"failurePolicy"`
	// Mode is enforce, or monitor: log what would have happened.
	Mode     string `json:"mode"`
	Required bool   `json:"required"`
	// Isolation is pooled (warm instances reused) or per-call (a fresh
	// instance for every call).
	Isolation string `json:"isolation"`
	// AllowedChanges lists the kinds of pre-start changes the plugin may make.
	AllowedChanges []string `json:"allowedChanges"`
	MaxOutputBytes int      `json:"maxOutputBytes"`
	// Grants lists what the operator granted: clock, random.
	Grants []string        `json:"grants,omitempty"`
	Config json.RawMessage `json:"config,omitempty"`
}

// Duration is a time.Duration written in JSON and YAML as a string such as "100ms".
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as a string such as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a string such as "100ms" or "2s".
func (d *Duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("duration %s is not a string: use a quoted duration such as \"100ms\"",
			data)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q is invalid: use a duration such as \"100ms\"", s)
	}
	d.Duration = v
	return nil
}

// ParseManifest reads a manifest from YAML or JSON, strictly: an unknown
// field is an error naming it. It applies the defaults and checks every
// value, returning one ErrInvalidManifest error that lists each problem with
// what to use instead.
func ParseManifest(data []byte) (*Manifest, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: not YAML or JSON: %v", ErrInvalidManifest, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("%w: not a mapping of fields to values", ErrInvalidManifest)
	}

	var m Manifest
	var problems []string
	fields := m.fields()
	for _, key := range sortedKeys(raw) {
		dst, ok := fields[key]
		if !ok {
			problems = append(problems, fmt.Sprintf(
				"unknown field %q: remove it or correct its spelling", key))
			continue
		}
		if err := json.Unmarshal(raw[key], dst); err != nil {
			problems = append(problems, key+": "+describeDecodeError(err))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidManifest, strings.Join(problems, "; "))
	}
	m.applyDefaults()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// fields returns where each manifest field, by its exact JSON name, decodes to.
func (m *Manifest) fields() map[string]any {
	return map[string]any{
		"name": &m.Name, "version": &m.Version, "sha256": &m.SHA256,
		"hooks": &m.Hooks, "priority": &m.Priority,
		"timeout": &m.Timeout, "hookTimeouts": &m.HookTimeouts,
		"memoryLimitPages": &m.MemoryLimitPages, "memoryHighWaterPages": &m.MemoryHighWaterPages,
		"failurePolicy": &m.FailurePolicy, "mode": &m.Mode, "required": &m.Required,
		"isolation": &m.Isolation, "allowedChanges": &m.AllowedChanges,
		"maxOutputBytes": &m.MaxOutputBytes, "grants": &m.Grants, "config": &m.Config,
	}
}

// describeDecodeError rewords an encoding/json error about one field.
func describeDecodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	want := map[reflect.Kind]string{
		reflect.Int: "an integer", reflect.Uint32: "an integer from 0 to 4294967295",
		reflect.Bool: "true or false", reflect.String: "a string",
		reflect.Slice: "a list", reflect.Map: "a mapping",
	}[typeErr.Type.Kind()]
	if want == "" {
		want = typeErr.Type.String()
	}
	return fmt.Sprintf("%s is the wrong type: use %s", typeErr.Value, want)
}

// clone returns a deep copy of m with the defaults applied.
func (m *Manifest) clone() *Manifest {
	c := *m
	c.Hooks = slices.Clone(m.Hooks)
	c.HookTimeouts = maps.Clone(m.HookTimeouts)
	c.AllowedChanges = slices.Clone(m.AllowedChanges)
	c.Grants = slices.Clone(m.Grants)
	c.Config = bytes.Clone(m.Config)
	c.applyDefaults()
	return &c
}

func (m *Manifest) applyDefaults() {
	m.SHA256 = strings.ToLower(m.SHA256)
	if m.Timeout.Duration == 0 {
		m.Timeout.Duration = DefaultTimeout
	}
	if m.MemoryLimitPages == 0 {
		m.MemoryLimitPages = DefaultMemoryLimitPages
	}
	if m.MemoryHighWaterPages == 0 {
		m.MemoryHighWaterPages = max(1, m.MemoryLimitPages/4*3)
	}
	if m.FailurePolicy == "" {
		m.FailurePolicy = "fail"
	}
	if m.Mode == "" {
		m.Mode = "enforce"
	}
	if m.Isolation == "" {
		m.Isolation = "pooled"
	}
	if m.MaxOutputBytes == 0 {
		m.MaxOutputBytes = DefaultMaxOutputBytes
	}
}

// Validate checks a manifest whose defaults are applied, as ParseManifest
// does: a zero limit is invalid here. It returns an ErrInvalidManifest
// error listing every problem.
func (m *Manifest) Validate() error {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	m.validateIdentity(add)
	m.validateHooks(add)
	m.validateLimits(add)
	checkEnum(add, "failurePolicy", m.FailurePolicy, []string{"fail", "ignore"})
	checkEnum(add, "mode", m.Mode, []string{"enforce", "monitor"})
	checkEnum(add, "isolation", m.Isolation, []string{"pooled", "per-call"})
	checkList(add, "allowedChanges", m.AllowedChanges, changeKinds)
	checkList(add, "grants", m.Grants, grantNames)
	if len(m.Config) > 0 && !bytes.HasPrefix(bytes.TrimSpace(m.Config), []byte("{")) &&
		string(bytes.TrimSpace(m.Config)) != "null" {
		add("config: %s is not an object: use a mapping of keys to values", m.Config)
	}

	if len(problems) == 0 {
		return nil
	}
	name := m.Name
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Errorf("%w for plugin %s: %s", ErrInvalidManifest, name,
		strings.Join(problems, "; "))
}

func (m *Manifest) validateIdentity(add func(string, ...any)) {
	switch {
	case m.Name == "":
		add("name: missing: set a name such as \"stamp\"")
	case !manifestName.MatchString(m.Name):
		add("name: %q is invalid: use up to 63 lowercase letters, digits, '.', '_' or '-', "+
			"starting with a letter or digit", m.Name)
	}
	if m.Version == "" {
		add("version: missing: set the plugin's version such as \"1.0.0\"")
	}
	switch {
	case m.SHA256 == "":
		add("sha256: missing: set it to the module's digest (sha256sum plugin.wasm)")
	case !sha256Hex.MatchString(m.SHA256):
		add("sha256: %q is invalid: use the 64 hex digits of the module's digest", m.SHA256)
	}
}

func (m *Manifest) validateHooks(add func(string, ...any)) {
	if len(m.Hooks) == 0 {
		add("hooks: missing: list at least one of %s", strings.Join(hookNames, ", "))
	}
	checkList(add, "hooks", m.Hooks, hookNames)
	timeoutHooks := append(slices.Clone(hookNames), HookValidateConfig)
	checkTimeout(add, "timeout", m.Timeout.Duration)
	for _, hook := range sortedKeys(m.HookTimeouts) {
		field := "hookTimeouts." + hook
		if !slices.Contains(timeoutHooks, hook) {
			add("%s: unknown hook: use one of %s", field, strings.Join(timeoutHooks, ", "))
			continue
		}
		checkTimeout(add, field, m.HookTimeouts[hook].Duration)
	}
}

func (m *Manifest) validateLimits(add func(string, ...any)) {
	if m.MemoryLimitPages < 1 || m.MemoryLimitPages > MaxMemoryLimitPages {
		add("memoryLimitPages: %d is out of range: use 1 to %d (4 GiB)",
			m.MemoryLimitPages, MaxMemoryLimitPages)
	}
	if m.MemoryHighWaterPages < 1 || m.MemoryHighWaterPages > m.MemoryLimitPages {
		add("memoryHighWaterPages: %d is out of range: use 1 to memoryLimitPages %d",
			m.MemoryHighWaterPages, m.MemoryLimitPages)
	}
	if m.MaxOutputBytes < 1 || m.MaxOutputBytes > MaxOutputBytesLimit {
		add("maxOutputBytes: %d is out of range: use 1 to %d", m.MaxOutputBytes,
			MaxOutputBytesLimit)
	}
}

func checkTimeout(add func(string, ...any), field string, d time.Duration) {
	if d <= 0 || d > MaxTimeout {
		add("%s: %q is out of range: use a duration above 0 and at most %s, such as \"100ms\"",
			field, d.String(), MaxTimeout)
	}
}

func checkEnum(add func(string, ...any), field, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		add("%s: %q is invalid: use %s", field, value, strings.Join(allowed, " or "))
	}
}

func checkList(add func(string, ...any), field string, values, allowed []string) {
	seen := map[string]bool{}
	for _, v := range values {
		switch {
		case !slices.Contains(allowed, v):
			add("%s: %q is invalid: use %s", field, v, strings.Join(allowed, ", "))
		case seen[v]:
			add("%s: %q is listed twice: list it once", field, v)
		}
		seen[v] = true
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// HookTimeout returns the deadline of one call of hook.
func (m *Manifest) HookTimeout(hook string) time.Duration {
	if d, ok := m.HookTimeouts[hook]; ok && d.Duration > 0 {
		return d.Duration
	}
	return m.Timeout.Duration
}

// Granted reports whether the operator granted grant (clock or random).
func (m *Manifest) Granted(grant string) bool { return slices.Contains(m.Grants, grant) }

// checkDigest returns an error naming the expected and actual digests.
func (m *Manifest) checkDigest(actual [32]byte) error {
	got := hex.EncodeToString(actual[:])
	if got != m.SHA256 {
		return fmt.Errorf("plugin %s: %w: manifest pins %s, module is %s", m.Name,
			ErrSHA256Mismatch, m.SHA256, got)
	}
	return nil
}
