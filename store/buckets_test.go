package store

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestRecordsRoundTrip(t *testing.T) {
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type rec struct{ N int }
	err = s.Update(func(tx *Tx) error {
		for key, n := range map[string]int{"b": 2, "a": 1, "c": 3} {
			if err := tx.PutRecord("bucket", key, rec{n}); err != nil {
				return err
			}
		}
		return tx.PutRecord("other", "a", rec{9})
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	err = s.View(func(tx *Tx) error {
		return tx.ListRecords("bucket", func(key string, value []byte) error {
			var r rec
			if err := json.Unmarshal(value, &r); err != nil {
				return err
			}
			keys = append(keys, key)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(keys); got != 3 || keys[0] != "a" || keys[2] != "c" {
		t.Fatalf("keys = %v, want [a b c] (other buckets excluded)", keys)
	}
	err = s.Update(func(tx *Tx) error { return tx.DeleteRecord("bucket", "a") })
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error { return tx.GetRecord("bucket", "a", &rec{}) })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted record: err = %v, want ErrNotFound", err)
	}
}
