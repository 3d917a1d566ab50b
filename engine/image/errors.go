package image

import "errors"

// ErrUnsafePath is returned by Extract for an entry whose name or hardlink
// target is absolute or leaves the destination directory through "..".
var ErrUnsafePath = errors.New("unsafe path in archive")

// ErrInvalidArchive is returned by Extract when the input is not a tar
// archive, is truncated or corrupt, uses an unsupported compression or entry
// type, or carries overlay metadata of its own.
var ErrInvalidArchive = errors.New("invalid archive")

// ErrInvalidName is returned by NormalizeName, and by the Store methods that
// take a new name, for a reference that is not a valid image name.
var ErrInvalidName = errors.New("invalid image name")

// ErrInvalidImage is returned when an image record read from the store is
// unusable, such as a layer that is not a sha256 digest.
var ErrInvalidImage = errors.New("invalid image record")
