package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

func pluginKey(plugin, key string) []byte { return scopedKey(prefixPluginKV, plugin, key) }

func validatePluginKey(plugin, key string) error {
	if plugin == "" {
		return fmt.Errorf("plugin key %q: %w: empty plugin name", key, ErrInvalid)
	}
	if key == "" {
		return fmt.Errorf("plugin %q: %w: empty key", plugin, ErrInvalid)
	}
	return nil
}

// PluginKVGet returns a copy of the value the plugin stored under key, or
// ErrNotFound.
func (tx *Tx) PluginKVGet(plugin, key string) ([]byte, error) {
	value, err := tx.readValue(pluginKey(plugin, key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("plugin %q key %q: %w", plugin, key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get plugin %q key %q: %w", plugin, key, err)
	}
	return value, nil
}

// PluginKVPut stores a copy of value under the plugin's key. Each plugin has
// its own key space. It returns ErrInvalid when plugin or key is empty.
func (tx *Tx) PluginKVPut(plugin, key string, value []byte) error {
	if err := validatePluginKey(plugin, key); err != nil {
		return err
	}
	// Badger keeps a reference to the value until commit, and the caller may
	// reuse its slice before that.
	stored := append([]byte{}, value...)
	if err := tx.txn.Set(pluginKey(plugin, key), stored); err != nil {
		return fmt.Errorf("put plugin %q key %q: %w", plugin, key, err)
	}
	return nil
}

// PluginKVDelete deletes the plugin's key. Deleting an absent key is not an
// error.
func (tx *Tx) PluginKVDelete(plugin, key string) error {
	if err := validatePluginKey(plugin, key); err != nil {
		return err
	}
	if err := tx.txn.Delete(pluginKey(plugin, key)); err != nil {
		return fmt.Errorf("delete plugin %q key %q: %w", plugin, key, err)
	}
	return nil
}

// PluginKVList returns copies of all the plugin's keys and values.
func (tx *Tx) PluginKVList(plugin string) (map[string][]byte, error) {
	base := pluginKey(plugin, "")
	entries := make(map[string][]byte)
	err := tx.scanValues(base, func(key, val []byte) error {
		entries[string(key[len(base):])] = append([]byte{}, val...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list plugin %q keys: %w", plugin, err)
	}
	return entries, nil
}
