package plugins

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// BreakerState is the state of a plugin's circuit breaker.
type BreakerState string

// Breaker states.
const (
	// BreakerClosed lets calls run.
	BreakerClosed BreakerState = "closed"
	// BreakerOpen fails calls with circuit_open until the cool-down ends.
	BreakerOpen BreakerState = "open"
	// BreakerHalfOpen lets one probe call run; its outcome closes or reopens.
	BreakerHalfOpen BreakerState = "half-open"
)

type outcome int

const (
	outcomeSuccess outcome = iota // ok or denied: the plugin works
	outcomeFailure                // a malfunction: counts toward opening
	outcomeNeutral                // the caller cancelled or the plugin closed
)

// outcomeOf returns how a call's result counts for the breaker.
func outcomeOf(f *Failure) outcome {
	switch {
	case f == nil || f.Type == FailureDenied:
		return outcomeSuccess
	case f.Type == FailureError && (errors.Is(f.Err, ErrClosed) ||
		errors.Is(f.Err, context.Canceled) || errors.Is(f.Err, context.DeadlineExceeded)):
		return outcomeNeutral
	default:
		return outcomeFailure
	}
}

// breaker opens after Threshold consecutive failures and stays open for a
// cool-down, then lets one probe call through. A successful probe closes
// it; a failed one reopens it with the cool-down doubled, up to MaxCooldown.
type breaker struct {
	cfg BreakerConfig
	now func() time.Time

	mu        sync.Mutex
	st        BreakerState
	failures  int // consecutive, while closed
	cooldown  time.Duration
	openUntil time.Time
	probing   bool // a half-open probe is running
}

func newBreaker(cfg BreakerConfig) *breaker {
	return &breaker{cfg: cfg, now: time.Now, st: BreakerClosed, cooldown: cfg.Cooldown}
}

// allow returns whether a call may run and whether it is the probe.
func (b *breaker) allow() (probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st == BreakerOpen {
		now := b.now()
		if now.Before(b.openUntil) {
			wait := b.openUntil.Sub(now).Round(time.Millisecond)
			return false, fmt.Errorf("circuit open after %d consecutive failures; "+
				"next probe in %s", b.cfg.Threshold, wait)
		}
		b.st = BreakerHalfOpen
	}
	if b.st == BreakerHalfOpen {
		if b.probing {
			return false, errors.New("circuit half-open: a probe call is running")
		}
		b.probing = true
		return true, nil
	}
	return false, nil
}

// done records the outcome of a call that allow let through.
func (b *breaker) done(probe bool, o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
		switch o {
		case outcomeSuccess:
			b.st, b.failures, b.cooldown = BreakerClosed, 0, b.cfg.Cooldown
		case outcomeFailure:
			b.cooldown = min(2*b.cooldown, b.cfg.MaxCooldown)
			b.open()
		}
		return
	}
	if b.st != BreakerClosed {
		return // a call that started before the breaker opened
	}
	switch o {
	case outcomeSuccess:
		b.failures = 0
	case outcomeFailure:
		b.failures++
		if b.failures >= b.cfg.Threshold {
			b.open()
		}
	}
}

func (b *breaker) open() {
	b.st = BreakerOpen
	b.openUntil = b.now().Add(b.cooldown)
	b.failures = 0
}

func (b *breaker) state() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st == BreakerOpen && !b.now().Before(b.openUntil) {
		return BreakerHalfOpen // the next call is the probe
	}
	return b.st
}
