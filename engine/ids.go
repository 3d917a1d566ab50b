package engine

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// nameRE is what pod and container names may look like, as in podman.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// maxNameLength keeps names usable in paths and tables.
const maxNameLength = 128

func validName(name string) bool {
	return len(name) <= maxNameLength && nameRE.MatchString(name)
}

func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// shortID is the 12-character form shown in tables.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
