package network

import "errors"

// ErrInvalidConfig is returned by New for a Config with a malformed or
// unusable value, such as a subnet that is not a private IPv4 prefix.
var ErrInvalidConfig = errors.New("invalid network config")

// ErrPluginNotFound is returned when a CNI plugin binary the network needs
// is in none of the plugin directories. The message names the plugin, the
// directories searched and the package that installs it.
var ErrPluginNotFound = errors.New("cni plugin not found")

// ErrUnavailable is returned by Check and Setup when bridge networking
// cannot work on this host, such as without root. The message gives the
// reason.
var ErrUnavailable = errors.New("bridge networking unavailable")

// ErrSubnetConflict is returned when the bridge subnet overlaps an address
// or route of another interface on the host.
var ErrSubnetConflict = errors.New("subnet conflict")

// ErrAddressExhausted is returned by Setup when the host-local IPAM plugin
// has no free address left in the subnet.
var ErrAddressExhausted = errors.New("address pool exhausted")

// ErrInvalidPublish is returned by ParsePublish and Setup for a malformed
// or unsupported port mapping.
var ErrInvalidPublish = errors.New("invalid publish spec")

// ErrPortUnavailable is returned by Setup when no free host port can be
// found for a mapping with host port 0 (a random port).
var ErrPortUnavailable = errors.New("host port unavailable")

// ErrAttached is returned by Setup for a pod that is already set up on the
// network and not torn down.
var ErrAttached = errors.New("already attached")
