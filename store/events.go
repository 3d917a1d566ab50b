package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/podplug/podplug/engine/model"
)

// AppendEvent adds e to the event log when the transaction commits. It sets
// e.Time to the current time if it is zero. The store sets e.Seq at commit,
// so e.Seq is 0 inside the transaction and, once Update returns nil, is
// greater than the Seq of every event committed before. The store encodes e
// at commit, so changes made to e before fn returns are stored. Appending
// events never makes concurrent transactions conflict.
func (tx *Tx) AppendEvent(e *model.Event) error {
	if !tx.writable {
		return fmt.Errorf("append %s %s event: %w", e.Type, e.Action, badger.ErrReadOnlyTxn)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	tx.events = append(tx.events, e)
	return nil
}

// commit commits tx. For a transaction with events, commit holds s.seqMu
// from assigning their Seq numbers until badger has given the commit its
// timestamp. A new badger transaction waits until every commit with a lower
// timestamp is done (oracle.readTs in badger v4 txn.go), so a reader that
// reads an event also reads every committed event with a lower Seq. A reader
// that follows the log with Events(last seen Seq) therefore skips none.
// Transactions without events never take the lock, and the disk sync
// happens after it is released.
func (s *Store) commit(tx *Tx) error {
	if len(tx.events) == 0 {
		return tx.txn.Commit()
	}

	done := make(chan error, 1)
	s.seqMu.Lock()
	err := s.writeEvents(tx)
	if err == nil {
		tx.txn.CommitWith(func(err error) { done <- err })
	}
	s.seqMu.Unlock()
	if err == nil {
		err = <-done
	}

	if err != nil {
		for _, e := range tx.events {
			e.Seq = 0
		}
	}
	return err
}

// writeEvents assigns Seq numbers to the transaction's events and writes them.
// The caller holds s.seqMu.
func (s *Store) writeEvents(tx *Tx) error {
	for _, e := range tx.events {
		seq, err := s.nextSeq()
		if err != nil {
			return fmt.Errorf("append %s %s event: %w", e.Type, e.Action, err)
		}
		e.Seq = seq
		if err := tx.writeJSON(eventKey(seq), e); err != nil {
			return fmt.Errorf("append event %d: %w", seq, err)
		}
	}
	return nil
}

// nextSeq returns the next event Seq. Seq 0 is skipped, so Events(0, fn)
// starts at the first event.
func (s *Store) nextSeq() (uint64, error) {
	for {
		seq, err := s.seq.Next()
		if err != nil || seq != 0 {
			return seq, err
		}
	}
}

// Events calls fn with each event whose Seq is greater than afterSeq, in Seq
// order, and stops at the first error fn returns, which it returns as is. It
// reads one snapshot, so events committed during the call are not passed.
// Seq numbers can skip values after a crash and where a transaction that
// appended events failed to commit.
func (s *Store) Events(afterSeq uint64, fn func(*model.Event) error) error {
	if afterSeq == ^uint64(0) {
		return nil
	}
	return s.View(func(tx *Tx) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefixEvent)
		it := tx.txn.NewIterator(opts)
		defer it.Close()

		for it.Seek(eventKey(afterSeq + 1)); it.ValidForPrefix(opts.Prefix); it.Next() {
			e := new(model.Event)
			err := it.Item().Value(func(val []byte) error { return json.Unmarshal(val, e) })
			if err != nil {
				return fmt.Errorf("read event log: decode %q: %w", it.Item().Key(), err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastEventSeq returns the Seq of the last committed event, or 0 when the log
// is empty.
func (s *Store) LastEventSeq() (uint64, error) {
	var last uint64
	err := s.View(func(tx *Tx) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Reverse = true
		opts.Prefix = []byte(prefixEvent)
		it := tx.txn.NewIterator(opts)
		defer it.Close()

		it.Seek(eventKey(^uint64(0)))
		if it.ValidForPrefix(opts.Prefix) {
			last = binary.BigEndian.Uint64(it.Item().Key()[len(prefixEvent):])
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read last event seq: %w", err)
	}
	return last, nil
}
