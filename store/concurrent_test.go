package store

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
)

// testConcurrentCounter increments one counter from many goroutines, each
// increment in its own Update with an event. Conflicting commits are retried,
// so no increment and no event is lost.
func testConcurrentCounter(t *testing.T, s *Store) {
	const goroutines, increments = 16, 25
	errs := make(chan error, goroutines*increments)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range increments {
				errs <- s.Update(incrementCounter)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	view(t, s, func(tx *Tx) error {
		value, err := tx.PluginKVGet("test", "counter")
		if err != nil {
			return err
		}
		wantEqual(t, "counter", string(value), strconv.Itoa(goroutines*increments))
		return nil
	})
	events := readEvents(t, s, 0)
	wantEqual(t, "events", len(events), goroutines*increments)
	wantIncreasing(t, eventSeqs(events))
}

func incrementCounter(tx *Tx) error {
	n := 0
	value, err := tx.PluginKVGet("test", "counter")
	if err == nil {
		n, err = strconv.Atoi(string(value))
	}
	if err != nil && !isNotFound(err) {
		return err
	}

	if err := tx.PluginKVPut("test", "counter", []byte(strconv.Itoa(n+1))); err != nil {
		return err
	}
	return tx.AppendEvent(newEvent("increment", strconv.Itoa(n+1)))
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// testDisjointWritesNoConflict runs transactions that write different pods
// and append events, which must never conflict with each other.
func testDisjointWritesNoConflict(t *testing.T, s *Store) {
	const goroutines, puts = 16, 10
	errs := make(chan error, goroutines*puts)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range puts {
				id := fmt.Sprintf("g%di%d", g, i)
				errs <- s.Update(func(tx *Tx) error {
					if err := tx.PutPod(newPod(id, "acme", id, i)); err != nil {
						return err
					}
					return tx.AppendEvent(newEvent("create", id))
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	wantEqual(t, "conflicts", s.conflicts.Load(), uint64(0))
	wantEqual(t, "events", len(readEvents(t, s, 0)), goroutines*puts)
}
