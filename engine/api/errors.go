package api

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/hooks"
	"github.com/podplug/podplug/policy"
	"github.com/podplug/podplug/store"
)

// Error kinds carried in error replies; the CLI maps them to exit codes.
const (
	KindNotFound = "not-found"
	KindInvalid  = "invalid"
	KindConflict = "conflict"
	KindPartial  = "partial"
	KindInternal = "internal"
	KindDenied   = "denied"
)

// Error is an error reply from the daemon.
type Error struct {
	Status  int    `json:"-"`
	Kind    string `json:"kind"`
	Message string `json:"error"`
	// Op and Errs are set for a partial failure: the operation and the error
	// of each container that failed.
	Op   string            `json:"op,omitempty"`
	Errs map[string]string `json:"errors,omitempty"`
}

func (e *Error) Error() string {
	if len(e.Errs) == 0 {
		return e.Message
	}
	names := make([]string, 0, len(e.Errs))
	for name := range e.Errs {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d container(s) failed", e.Op, len(names))
	for _, name := range names {
		fmt.Fprintf(&b, "\n  %s: %s", name, e.Errs[name])
	}
	return b.String()
}

// toError classifies an error for the reply to who. A non-admin's
// not-found replies never reveal whether another tenant has such an object.
func (s *Server) toError(err error, who Subject) *Error {
	if !who.Admin && errors.Is(err, store.ErrNotFound) && !errors.Is(err, errHidden) {
		return &Error{Status: http.StatusNotFound, Kind: KindNotFound,
			Message: err.Error() + " (tenant_isolation: only objects of your own tenant are visible)"}
	}
	if errors.Is(err, policy.ErrDenied) {
		return &Error{Status: http.StatusForbidden, Kind: KindDenied, Message: err.Error()}
	}
	return toError(err)
}

// toError classifies an engine error for the reply.
func toError(err error) *Error {
	var pe *engine.PartialError
	if errors.As(err, &pe) {
		out := &Error{Status: http.StatusInternalServerError, Kind: KindPartial,
			Message: err.Error(), Op: pe.Op + " " + pe.Pod, Errs: map[string]string{}}
		for name, cerr := range pe.Errs {
			out.Errs[name] = cerr.Error()
		}
		return out
	}
	switch {
	case errors.Is(err, hooks.ErrDenied):
		return &Error{Status: http.StatusForbidden, Kind: KindDenied, Message: err.Error()}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, hooks.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Kind: KindNotFound, Message: err.Error()}
	case errors.Is(err, engine.ErrInvalid), errors.Is(err, image.ErrInvalidName),
		errors.Is(err, image.ErrUnsafePath), errors.Is(err, image.ErrInvalidArchive),
		errors.Is(err, store.ErrAmbiguous):
		return &Error{Status: http.StatusBadRequest, Kind: KindInvalid, Message: err.Error()}
	case errors.Is(err, hooks.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Kind: KindInvalid, Message: err.Error()}
	case errors.Is(err, engine.ErrConflict), errors.Is(err, store.ErrNameInUse),
		errors.Is(err, hooks.ErrConflict),
		errors.Is(err, engine.ErrNotRunning):
		return &Error{Status: http.StatusConflict, Kind: KindConflict, Message: err.Error()}
	}
	return &Error{Status: http.StatusInternalServerError, Kind: KindInternal, Message: err.Error()}
}
