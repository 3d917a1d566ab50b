package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/podplug/podplug/engine/model"
)

// Tx is a transaction, passed to the function given to Store.Update or
// Store.View. It is valid only until that function returns and is not safe
// for concurrent use.
type Tx struct {
	txn      *badger.Txn
	writable bool
	events   []*model.Event // appended events, written at commit
}

// readValue returns a copy of the value at key, or badger.ErrKeyNotFound.
func (tx *Tx) readValue(key []byte) ([]byte, error) {
	item, err := tx.txn.Get(key)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// readJSON decodes the value at key into v. It returns badger.ErrKeyNotFound
// unwrapped when the key is absent.
func (tx *Tx) readJSON(key []byte, v any) error {
	item, err := tx.txn.Get(key)
	if err != nil {
		return err
	}
	return item.Value(func(val []byte) error { return decode(key, val, v) })
}

func decode(key, val []byte, v any) error {
	if err := json.Unmarshal(val, v); err != nil {
		return fmt.Errorf("decode %q: %w", key, err)
	}
	return nil
}

func (tx *Tx) writeJSON(key []byte, v any) error {
	val, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.txn.Set(key, val)
}

// deleteIfValue deletes key if its value is want. Indexes use it so that a
// stale entry never removes one that another record owns.
func (tx *Tx) deleteIfValue(key []byte, want string) error {
	val, err := tx.readValue(key)
	if errors.Is(err, badger.ErrKeyNotFound) || (err == nil && string(val) != want) {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.txn.Delete(key)
}

// scanKeys returns the key suffixes after base of up to limit keys that start
// with base+rest, in key order. A limit of 0 means no limit.
func (tx *Tx) scanKeys(base []byte, rest string, limit int) []string {
	prefix := append(slices.Clip(base), rest...)
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = prefix
	it := tx.txn.NewIterator(opts)
	defer it.Close()

	var suffixes []string
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		suffixes = append(suffixes, string(it.Item().Key()[len(base):]))
		if len(suffixes) == limit {
			break
		}
	}
	return suffixes
}

// scanValues calls fn with each key and value under prefix, in key order. The
// slices are valid only during the call.
func (tx *Tx) scanValues(prefix []byte, fn func(key, val []byte) error) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	it := tx.txn.NewIterator(opts)
	defer it.Close()

	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		key := item.Key()
		err := item.Value(func(val []byte) error { return fn(key, val) })
		if err != nil {
			return err
		}
	}
	return nil
}

// listJSON decodes every record under prefix.
func listJSON[T any](tx *Tx, prefix string) ([]*T, error) {
	var records []*T
	err := tx.scanValues([]byte(prefix), func(key, val []byte) error {
		record := new(T)
		if err := decode(key, val, record); err != nil {
			return err
		}
		records = append(records, record)
		return nil
	})
	return records, err
}

// sortByCreation sorts records by creation time, then by ID.
func sortByCreation[T any](records []*T, key func(*T) (time.Time, string)) {
	slices.SortFunc(records, func(a, b *T) int {
		createdA, idA := key(a)
		createdB, idB := key(b)
		if c := createdA.Compare(createdB); c != 0 {
			return c
		}
		return strings.Compare(idA, idB)
	})
}

// matchID resolves ref among the IDs stored as key suffixes after base: an
// exact ID first, else the only ID that starts with ref. Errors name the
// object as noun and displayRef.
func (tx *Tx) matchID(base []byte, ref, noun, displayRef string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("%s %q: %w", noun, displayRef, ErrNotFound)
	}
	// The exact key sorts first among the keys that start with it.
	ids := tx.scanKeys(base, ref, 2)
	switch {
	case len(ids) == 0:
		return "", fmt.Errorf("%s %q: %w", noun, displayRef, ErrNotFound)
	case len(ids) == 1 || ids[0] == ref:
		return ids[0], nil
	}
	return "", fmt.Errorf("%s %q: %w: matches %s, %s and possibly more, so use a longer prefix",
		noun, displayRef, ErrAmbiguous, shortID(ids[0]), shortID(ids[1]))
}

// shortID returns the first 12 hex digits of an ID, as podman prints them.
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
