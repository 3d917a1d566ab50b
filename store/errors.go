package store

import "errors"

// Errors returned by the store. Returned errors wrap one of these with %w and
// name the object, as in `pod "web": not found`, so callers test them with
// errors.Is.
var (
	// ErrNotFound is returned when no record, name, ID or ID prefix matches the
	// request, and when a plugin key is absent.
	ErrNotFound = errors.New("not found")

	// ErrNameInUse is returned by PutPod and PutContainer when the name is
	// already taken in the same tenant by a record with another ID.
	ErrNameInUse = errors.New("name in use")

	// ErrAmbiguous is returned by the Lookup methods when the reference is not
	// a name or a full ID and more than one ID starts with it.
	ErrAmbiguous = errors.New("ambiguous ID prefix")

	// ErrSchema is returned by Open when the database was written by a newer
	// podplug, or its schema version key is not a version number.
	ErrSchema = errors.New("unsupported schema version")

	// ErrLocked is returned by Open when another process holds the database
	// directory's lock, which usually means another podplug daemon is running.
	ErrLocked = errors.New("directory locked by another process")

	// ErrInvalid is returned by PutPod, PutContainer and PutImage when a
	// record has an empty ID or name, and by PluginKVPut and PluginKVDelete
	// when the plugin name or key is empty.
	ErrInvalid = errors.New("invalid record")
)
