package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Records are JSON values of components other than the engine, such as the
// plugin registry or the queue of pending post-stop calls, kept in named
// buckets. Keys within a bucket sort bytewise.

func recordKey(bucket, key string) []byte { return scopedKey(prefixRecord, bucket, key) }

func validateRecordKey(bucket, key string) error {
	if bucket == "" || key == "" {
		return fmt.Errorf("record %q in bucket %q: %w: empty bucket or key", key, bucket, ErrInvalid)
	}
	return nil
}

// GetRecord decodes the record at key in bucket into v, or returns
// ErrNotFound.
func (tx *Tx) GetRecord(bucket, key string, v any) error {
	err := tx.readJSON(recordKey(bucket, key), v)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("%s %q: %w", bucket, key, ErrNotFound)
	}
	return err
}

// PutRecord stores v as JSON at key in bucket.
func (tx *Tx) PutRecord(bucket, key string, v any) error {
	if err := validateRecordKey(bucket, key); err != nil {
		return err
	}
	if err := tx.writeJSON(recordKey(bucket, key), v); err != nil {
		return fmt.Errorf("put %s %q: %w", bucket, key, err)
	}
	return nil
}

// DeleteRecord deletes key in bucket; an absent key is not an error.
func (tx *Tx) DeleteRecord(bucket, key string) error {
	if err := validateRecordKey(bucket, key); err != nil {
		return err
	}
	return tx.txn.Delete(recordKey(bucket, key))
}

// ListRecords calls fn with each key of bucket, in key order, and its raw
// JSON value, valid only during the call.
func (tx *Tx) ListRecords(bucket string, fn func(key string, value []byte) error) error {
	prefix := recordKey(bucket, "")
	return tx.scanValues(prefix, func(key, val []byte) error {
		return fn(string(key[len(prefix):]), val)
	})
}
