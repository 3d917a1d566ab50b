package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is returned for a request with a bad argument: a malformed
// name, signal, size or flag. Nothing was changed.
var ErrInvalid = errors.New("invalid argument")

// ErrConflict is returned when the request clashes with current state: a
// running pod removed without force, an image still in use, a container
// others require.
var ErrConflict = errors.New("conflict")

// ErrNotRunning is returned when an operation needs a running container.
var ErrNotRunning = errors.New("not running")

// ErrNoIDRange is returned by TenantIDMap when no host id range is
// available for a tenant. The message names what the operator can
// configure.
var ErrNoIDRange = errors.New("no host id range for user namespaces")

// ErrInitFailed is returned by pod start when an init container fails; the
// message names the container and its exit code.
var ErrInitFailed = errors.New("init container failed")

// PartialError reports a multi-container operation in which some containers
// failed. Errs has one entry per failed container, keyed by name.
type PartialError struct {
	Op   string // such as "pod start"
	Pod  string
	Errs map[string]error
}

func (e *PartialError) Error() string {
	names := make([]string, 0, len(e.Errs))
	for name := range e.Errs {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s: %v", name, e.Errs[name]))
	}
	return fmt.Sprintf("%s %s: %d container(s) failed: %s",
		e.Op, e.Pod, len(names), strings.Join(parts, "; "))
}

// Unwrap returns the container errors, so errors.Is finds a cause in any.
func (e *PartialError) Unwrap() []error {
	out := make([]error, 0, len(e.Errs))
	for _, err := range e.Errs {
		out = append(out, err)
	}
	return out
}

// partial returns nil when errs is empty and a *PartialError otherwise.
func partial(op, pod string, errs map[string]error) error {
	if len(errs) == 0 {
		return nil
	}
	return &PartialError{Op: op, Pod: pod, Errs: errs}
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}
