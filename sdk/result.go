package sdk

import (
	"errors"
	"slices"
	"strings"

	"github.com/podplug/podplug/sdk/internal/jsonx"
)

// Status is the outcome every hook result carries.
type Status string

// Statuses of a hook result.
const (
	// StatusOK lets the operation go on, with the result's changes.
	StatusOK Status = "ok"
	// StatusDeny stops the container from starting (pre_start) or rejects
	// the config (validate_config); the message reaches the user.
	StatusDeny Status = "deny"
	// StatusError is a plugin failure, handled by the manifest's failure
	// policy like a trap or a timeout.
	StatusError Status = "error"
)

// PreStartResult is the result of a pre_start handler, made by Allow, Deny
// or Error, with changes to the container added by the Set and Add
// methods, as in
//
//	return sdk.Allow().SetEnv("TEAM", "blue").SetLabel("stamped-by", "stamp")
//
// The zero PreStartResult has no status and is reported to the host as an
// error. The methods return the updated result; copies share the change
// maps, so build one result and return it.
type PreStartResult struct {
	Status  Status
	Message string // reason for a deny or an error
	Changes Changes
}

// Changes are the changes a pre_start result requests. The manifest's
// allowedChanges lists the kinds a plugin may send ("env", "labels",
// "annotations", "mounts", "rlimits", "resources"). A kind not listed
// makes the whole result bad output. Empty kinds are not sent.
type Changes struct {
	Env         map[string]string // environment variables to set
	Labels      map[string]string
	Annotations map[string]string
	Mounts      []Mount  // at most one per destination
	Rlimits     []Rlimit // at most one per type
	Resources   Resources
}

// Allow returns a result that lets the container start.
func Allow() PreStartResult {
	return PreStartResult{Status: StatusOK}
}

// Deny returns a result that stops the container from starting. The
// message reaches the user, so it should name what is wrong and how to fix
// it.
func Deny(message string) PreStartResult {
	return PreStartResult{Status: StatusDeny, Message: message}
}

// Error returns a result that reports a plugin failure, such as a missing
// config value. The manifest's failure policy decides whether the container
// starts anyway.
func Error(err error) PreStartResult {
	if err == nil {
		return PreStartResult{Status: StatusError, Message: "sdk.Error called with a nil error"}
	}
	return PreStartResult{Status: StatusError, Message: err.Error()}
}

// SetEnv sets the environment variable name to value.
func (r PreStartResult) SetEnv(name, value string) PreStartResult {
	r.Changes.Env = setKey(r.Changes.Env, name, value)
	return r
}

// SetLabel sets a container label.
func (r PreStartResult) SetLabel(key, value string) PreStartResult {
	r.Changes.Labels = setKey(r.Changes.Labels, key, value)
	return r
}

// SetAnnotation sets an OCI annotation of the container.
func (r PreStartResult) SetAnnotation(key, value string) PreStartResult {
	r.Changes.Annotations = setKey(r.Changes.Annotations, key, value)
	return r
}

func setKey(m map[string]string, key, value string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[key] = value
	return m
}

// AddMount adds a mount, replacing an earlier one of this result with the
// same destination.
func (r PreStartResult) AddMount(m Mount) PreStartResult {
	i := slices.IndexFunc(r.Changes.Mounts, func(old Mount) bool {
		return old.Destination == m.Destination
	})
	if i >= 0 {
		r.Changes.Mounts[i] = m
		return r
	}
	r.Changes.Mounts = append(r.Changes.Mounts, m)
	return r
}

// SetRlimit sets a resource limit such as "RLIMIT_NOFILE", replacing an
// earlier one of this result with the same type. Use RlimitInfinity for no
// limit.
func (r PreStartResult) SetRlimit(limitType string, soft, hard uint64) PreStartResult {
	limit := Rlimit{Type: limitType, Soft: soft, Hard: hard}
	i := slices.IndexFunc(r.Changes.Rlimits, func(old Rlimit) bool {
		return old.Type == limitType
	})
	if i >= 0 {
		r.Changes.Rlimits[i] = limit
		return r
	}
	r.Changes.Rlimits = append(r.Changes.Rlimits, limit)
	return r
}

// SetResources sets the non-zero fields of res; zero fields keep the value
// set by an earlier call, or leave the container's value unchanged.
func (r PreStartResult) SetResources(res Resources) PreStartResult {
	if res.MemoryLimit != 0 {
		r.Changes.Resources.MemoryLimit = res.MemoryLimit
	}
	if res.CPUShares != 0 {
		r.Changes.Resources.CPUShares = res.CPUShares
	}
	if res.PidsLimit != 0 {
		r.Changes.Resources.PidsLimit = res.PidsLimit
	}
	return r
}

// Validate checks the result before it is sent: a known status and
// well-formed changes. The hook packages send an invalid result as an error
// result with Validate's message, so the plugin's failure names the cause
// rather than being the host's "bad output".
func (r PreStartResult) Validate() error {
	switch r.Status {
	case StatusOK:
		return r.Changes.validate()
	case StatusDeny, StatusError:
		return nil
	case "":
		return errors.New("pre_start result has no status: return sdk.Allow(), sdk.Deny or sdk.Error")
	}
	return errors.New("pre_start result has unknown status " + string(r.Status))
}

func (c *Changes) validate() error {
	for name := range c.Env {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return errors.New("invalid env change: name " + quote(name) + " is empty or contains '=' or NUL")
		}
	}
	if err := validateKeys("label", c.Labels); err != nil {
		return err
	}
	if err := validateKeys("annotation", c.Annotations); err != nil {
		return err
	}
	for _, m := range c.Mounts {
		if m.Type == "" || !strings.HasPrefix(m.Destination, "/") {
			return errors.New("invalid mount change to " + quote(m.Destination) +
				": want a type and an absolute destination")
		}
	}
	for _, l := range c.Rlimits {
		if !strings.HasPrefix(l.Type, "RLIMIT_") || l.Soft > l.Hard {
			return errors.New("invalid rlimit change " + quote(l.Type) +
				": want a type such as RLIMIT_NOFILE and soft <= hard")
		}
	}
	if c.Resources.MemoryLimit < 0 || c.Resources.PidsLimit < 0 {
		return errors.New("invalid resources change: memory_limit and pids_limit must not be negative")
	}
	return nil
}

func validateKeys(kind string, m map[string]string) error {
	if _, ok := m[""]; ok {
		return errors.New("invalid " + kind + " change: empty key")
	}
	return nil
}

func quote(s string) string {
	return string(jsonx.AppendString(nil, s))
}

// MarshalJSON encodes the result as the ABI's pre_start result.
func (r PreStartResult) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(nil)
}

// AppendJSON appends the ABI encoding of the result to dst. It returns
// Validate's error, and dst unchanged, for an invalid result. Changes are
// sent only with StatusOK, and map keys in sorted order.
func (r PreStartResult) AppendJSON(dst []byte) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return dst, err
	}
	e := jsonx.NewEncoder(dst)
	e.ObjectStart()
	e.Key("status")
	e.String(string(r.Status))
	if r.Status != StatusOK {
		e.Key("message")
		e.String(r.Message)
		e.ObjectEnd()
		return e.Bytes(), nil
	}
	if !r.Changes.empty() {
		e.Key("changes")
		r.Changes.encode(e)
	}
	e.ObjectEnd()
	return e.Bytes(), nil
}

func (c *Changes) empty() bool {
	return len(c.Env) == 0 && len(c.Labels) == 0 && len(c.Annotations) == 0 &&
		len(c.Mounts) == 0 && len(c.Rlimits) == 0 && c.Resources == Resources{}
}

func (c *Changes) encode(e *jsonx.Encoder) {
	e.ObjectStart()
	encodeStringMap(e, "env", c.Env)
	encodeStringMap(e, "labels", c.Labels)
	encodeStringMap(e, "annotations", c.Annotations)
	if len(c.Mounts) > 0 {
		e.Key("mounts")
		e.ArrayStart()
		for _, m := range c.Mounts {
			encodeMount(e, m)
		}
		e.ArrayEnd()
	}
	if len(c.Rlimits) > 0 {
		e.Key("rlimits")
		e.ArrayStart()
		for _, l := range c.Rlimits {
			e.ObjectStart()
			e.Key("type")
			e.String(l.Type)
			e.Key("soft")
			e.Uint(l.Soft)
			e.Key("hard")
			e.Uint(l.Hard)
			e.ObjectEnd()
		}
		e.ArrayEnd()
	}
	if c.Resources != (Resources{}) {
		e.Key("resources")
		encodeResources(e, c.Resources)
	}
	e.ObjectEnd()
}

// encodeStringMap writes a non-empty map under key, in sorted key order.
func encodeStringMap(e *jsonx.Encoder, key string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	e.Key(key)
	e.Value(m)
}

func encodeMount(e *jsonx.Encoder, m Mount) {
	e.ObjectStart()
	e.Key("type")
	e.String(m.Type)
	if m.Source != "" {
		e.Key("source")
		e.String(m.Source)
	}
	e.Key("destination")
	e.String(m.Destination)
	if m.ReadOnly {
		e.Key("read_only")
		e.Bool(true)
	}
	e.ObjectEnd()
}

// encodeResources writes only the fields that are set, since a zero field
// means "leave unchanged".
func encodeResources(e *jsonx.Encoder, r Resources) {
	e.ObjectStart()
	if r.MemoryLimit != 0 {
		e.Key("memory_limit")
		e.Int(r.MemoryLimit)
	}
	if r.CPUShares != 0 {
		e.Key("cpu_shares")
		e.Uint(r.CPUShares)
	}
	if r.PidsLimit != 0 {
		e.Key("pids_limit")
		e.Int(r.PidsLimit)
	}
	e.ObjectEnd()
}
