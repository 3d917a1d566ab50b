package image

import "errors"

// ErrUnsafePath is returned by Extract for an entry whose name or hardlink
// target is absolute or leaves the destination directory through "..".
var ErrUnsafePath = errors.New("unsafe path in archive")

// ErrInvalidArchive is returned by Extract when the input is not a tar
// archive, is truncated or corrupt, uses an unsupported compression or entry
// type, or carries overlay metadata of its own. Load returns it for the same
// faults in an image archive and for one that is neither a docker-archive
// nor an OCI layout or misses a file that its metadata names.
var ErrInvalidArchive = errors.New("invalid archive")

// ErrInvalidName is returned by NormalizeName, and by the Store methods that
// take a new name, for a reference that is not a valid image name. Pull
// also returns it for a reference without a registry host.
var ErrInvalidName = errors.New("invalid image name")

// ErrInvalidImage is returned when an image record read from the store is
// unusable, such as a layer that is not a sha256 digest. Load and Pull
// return it for an image that podplug cannot store or run: a config that
// does not parse, is not for Linux or lists no layers, or a layer whose
// content does not match its diff ID.
var ErrInvalidImage = errors.New("invalid image record")

// ErrInsecureRegistry is returned by Pull when it would have to talk plain
// HTTP to a registry and PullOptions.Insecure is not set.
var ErrInsecureRegistry = errors.New(
	"the registry needs plain HTTP, which only --tls-verify=false allows")
