package store

import (
	"errors"
	"testing"
	"time"

	"github.com/podplug/podplug/engine/model"
)

func newEvent(action, id string) *model.Event {
	return &model.Event{Type: "pod", Action: action, ID: id, Tenant: "acme"}
}

func appendEvents(t testing.TB, s *Store, events ...*model.Event) {
	t.Helper()
	update(t, s, func(tx *Tx) error {
		for _, e := range events {
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// readEvents returns the events after afterSeq.
func readEvents(t testing.TB, s *Store, afterSeq uint64) []*model.Event {
	t.Helper()
	var events []*model.Event
	err := s.Events(afterSeq, func(e *model.Event) error {
		events = append(events, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func eventSeqs(events []*model.Event) []uint64 {
	seqs := make([]uint64, 0, len(events))
	for _, e := range events {
		seqs = append(seqs, e.Seq)
	}
	return seqs
}

func wantIncreasing(t *testing.T, seqs []uint64) {
	t.Helper()
	for i, seq := range seqs {
		if seq == 0 || (i > 0 && seq <= seqs[i-1]) {
			t.Fatalf("seqs %v are not strictly increasing from 1", seqs)
		}
	}
}

func testEventSeqOrder(t *testing.T, s *Store) {
	events := []*model.Event{
		newEvent("create", "a1"), newEvent("start", "a1"), newEvent("stop", "a1"),
		newEvent("remove", "a1"), newEvent("create", "b2"),
	}
	appendEvents(t, s, events[0])
	appendEvents(t, s, events[1])
	appendEvents(t, s, events[2], events[3]) // two events in one transaction
	appendEvents(t, s, events[4])

	seqs := eventSeqs(events)
	wantIncreasing(t, seqs)

	stored := readEvents(t, s, 0)
	wantEqual(t, "stored seqs", eventSeqs(stored), seqs)
	wantEqual(t, "first stored event", stored[0].Action, "create")
	wantEqual(t, "seqs after second", eventSeqs(readEvents(t, s, seqs[1])), seqs[2:])
	wantEqual(t, "events after last", len(readEvents(t, s, seqs[4])), 0)

	last, err := s.LastEventSeq()
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "LastEventSeq", last, seqs[4])
}

func testEventTime(t *testing.T, s *Store) {
	callerTime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	withoutTime := newEvent("start", "a1")
	withTime := newEvent("stop", "a1")
	withTime.Time = callerTime

	before := time.Now()
	appendEvents(t, s, withoutTime, withTime)

	stored := readEvents(t, s, 0)
	if stored[0].Time.Before(before) {
		t.Errorf("stamped time %v is before the append at %v", stored[0].Time, before)
	}
	wantEqual(t, "caller's time", stored[1].Time, callerTime)
}

func testEventReadOnly(t *testing.T, s *Store) {
	e := newEvent("start", "a1")
	err := s.View(func(tx *Tx) error { return tx.AppendEvent(e) })
	if err == nil {
		t.Fatal("AppendEvent in View returned nil")
	}

	last, err := s.LastEventSeq()
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "LastEventSeq", last, uint64(0))
}

func testEventRolledBack(t *testing.T, s *Store) {
	e := newEvent("start", "a1")
	errStop := errors.New("stop")
	err := s.Update(func(tx *Tx) error {
		if err := tx.AppendEvent(e); err != nil {
			return err
		}
		return errStop
	})
	wantErrorIs(t, err, errStop)
	wantEqual(t, "Seq of rolled back event", e.Seq, uint64(0))
	wantEqual(t, "stored events", len(readEvents(t, s, 0)), 0)
}

func testEventsStopOnError(t *testing.T, s *Store) {
	appendEvents(t, s, newEvent("create", "a1"), newEvent("start", "a1"))

	errStop := errors.New("stop")
	calls := 0
	err := s.Events(0, func(e *model.Event) error {
		calls++
		return errStop
	})
	wantErrorIs(t, err, errStop)
	wantEqual(t, "calls", calls, 1)
}
