package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/podplug/podplug/store"
)

// VolumeDir returns the directory of named volumes. The data of volume NAME
// is in VolumeDir()/NAME/_data, created by the first container that mounts
// it.
func (e *Engine) VolumeDir() string { return filepath.Join(e.cfg.Root, "volumes") }

// ListVolumes returns the names of every named volume, sorted.
func (e *Engine) ListVolumes() ([]string, error) {
	entries, err := os.ReadDir(e.VolumeDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var names []string
	for _, entry := range entries {
		if entry.IsDir() {
			names = append(names, entry.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// RemoveVolume deletes the named volume and its data. It returns an error
// wrapping ErrConflict while any container mounts the volume, and one
// wrapping store.ErrNotFound when there is no such volume.
func (e *Engine) RemoveVolume(name string) error {
	if !validName(name) {
		return invalidf("volume name %q: use letters, digits, _ . - and start with a letter or digit", name)
	}
	dir := filepath.Join(e.VolumeDir(), name)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("volume %s: %w", name, store.ErrNotFound)
	}
	data := filepath.Join(dir, "_data")
	users, err := e.volumeUsers(data)
	if err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	if len(users) > 0 {
		return fmt.Errorf("remove volume %s: containers %s mount it: remove them first: %w",
			name, strings.Join(users, ", "), ErrConflict)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// volumeUsers returns the names of the containers that mount source.
func (e *Engine) volumeUsers(source string) ([]string, error) {
	var users []string
	err := e.db.View(func(tx *store.Tx) error {
		ctrs, err := tx.ListContainers()
		if err != nil {
			return err
		}
		for _, c := range ctrs {
			for _, m := range c.Mounts {
				if m.Source == source {
					users = append(users, c.Name)
					break
				}
			}
		}
		return nil
	})
	return users, err
}
