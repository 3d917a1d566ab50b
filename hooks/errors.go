package hooks

import "errors"

// ErrDenied is returned by PreStart when an enforcing plugin denies the
// container; the message is the plugin's.
var ErrDenied = errors.New("denied by plugin")

// ErrConflict is returned when two plugins set the same field, or when a
// plugin name is already installed.
var ErrConflict = errors.New("conflict")

// ErrPluginFailed is returned when a plugin with failure policy fail did not
// return a usable result.
var ErrPluginFailed = errors.New("plugin failed")

// ErrRequiredMissing is returned while a required plugin is disabled or
// failed to load: pods do not start until it is back.
var ErrRequiredMissing = errors.New("required plugin unavailable")

// ErrNotFound is returned for an unknown plugin name.
var ErrNotFound = errors.New("plugin not found")

// ErrInvalid is returned for a bad manifest, module or argument.
var ErrInvalid = errors.New("invalid plugin")
