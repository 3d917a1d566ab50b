package kube

import (
	"fmt"
	"strings"

	"github.com/podplug/podplug/engine"
)

// ErrInvalid is returned for a manifest that is not valid Kubernetes YAML:
// a syntax error, an unknown field, a value of the wrong type or a missing
// required field. It wraps engine.ErrInvalid, so the API reports it as a
// bad request.
var ErrInvalid = fmt.Errorf("invalid manifest: %w", engine.ErrInvalid)

// ErrUnsupported is returned for a valid manifest that requests something
// podplug cannot do and that would surprise a user if ignored, such as a
// probe, a lifecycle hook or a kind other than Pod. It wraps
// engine.ErrInvalid.
var ErrUnsupported = fmt.Errorf("unsupported in a manifest: %w", engine.ErrInvalid)

// Error is a problem at one place of a manifest.
type Error struct {
	// File is the manifest's name as the caller gave it, or empty.
	File string
	// Line is 1-based; 0 means the line is not known.
	Line int
	// Field is the path of the field, such as spec.containers[0].image, or
	// empty.
	Field string
	// Message describes the problem and its fix.
	Message string
	// Err is ErrInvalid or ErrUnsupported.
	Err error
}

func (e *Error) Error() string {
	return position(e.File, e.Line, e.Field) + e.Message
}

// Unwrap returns ErrInvalid or ErrUnsupported.
func (e *Error) Unwrap() error { return e.Err }

// Warning is a field that play ignores, or a fact that generate could not
// write into the manifest.
type Warning struct {
	File    string
	Line    int
	Field   string
	Message string
}

func (w Warning) String() string {
	return position(w.File, w.Line, w.Field) + w.Message
}

// position formats "FILE:LINE: FIELD: ", leaving out the parts not known.
func position(file string, line int, field string) string {
	var parts []string
	switch {
	case file != "" && line > 0:
		parts = append(parts, fmt.Sprintf("%s:%d", file, line))
	case file != "":
		parts = append(parts, file)
	case line > 0:
		parts = append(parts, fmt.Sprintf("line %d", line))
	}
	if field != "" {
		parts = append(parts, field)
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ": ") + ": "
}
