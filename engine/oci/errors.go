package oci

import "errors"

// ErrNotFound is returned when runc has no container with the given ID.
var ErrNotFound = errors.New("no such container in the runtime")

// ErrNotRunning is returned when an operation needs a running process and
// the container has none.
var ErrNotRunning = errors.New("container not running")

// ErrMissingBinary is returned by New when runc or conmon is not installed.
var ErrMissingBinary = errors.New("missing runtime binary")
