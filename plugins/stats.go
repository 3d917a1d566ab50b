package plugins

import (
	"maps"
	"sync"
	"time"
)

// Stats is a snapshot of a plugin's counters since it was loaded.
type Stats struct {
	// Calls counts hook calls that reached the breaker, validate-config included.
	Calls uint64
	// Failures counts failed calls by type, denials and circuit_open included.
	Failures map[FailureType]uint64
	// InstancesCreated counts instances created, the one Load creates included.
	InstancesCreated uint64
	// InstancesReplaced counts instances discarded after a trap, a timeout,
	// running out of memory, or growing past memoryHighWaterPages.
	InstancesReplaced uint64
	// LogLinesDropped counts podplug.log calls over the rate limit.
	LogLinesDropped uint64
	Breaker         BreakerState
	// LastFailure is the most recent failure, nil when none; LastFailureAt is its time.
	LastFailure   *Failure
	LastFailureAt time.Time
}

type statsRecorder struct {
	mu            sync.Mutex
	calls         uint64
	failures      map[FailureType]uint64
	created       uint64
	replaced      uint64
	lastFailure   *Failure
	lastFailureAt time.Time
}

func (s *statsRecorder) record(f *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if f == nil {
		return
	}
	if s.failures == nil {
		s.failures = map[FailureType]uint64{}
	}
	s.failures[f.Type]++
	last := *f
	s.lastFailure, s.lastFailureAt = &last, time.Now()
}

func (s *statsRecorder) addCreated() {
	s.mu.Lock()
	s.created++
	s.mu.Unlock()
}

func (s *statsRecorder) addReplaced() {
	s.mu.Lock()
	s.replaced++
	s.mu.Unlock()
}

func (s *statsRecorder) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Calls:             s.calls,
		Failures:          maps.Clone(s.failures),
		InstancesCreated:  s.created,
		InstancesReplaced: s.replaced,
		LastFailureAt:     s.lastFailureAt,
	}
	if s.failures == nil {
		st.Failures = map[FailureType]uint64{}
	}
	if s.lastFailure != nil {
		last := *s.lastFailure
		st.LastFailure = &last
	}
	return st
}
