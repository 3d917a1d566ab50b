package plugins

import (
	"context"
	"testing"
	"time"
)

func TestBreakerStates(t *testing.T) {
	type step struct {
		advance   time.Duration // move the clock first
		outcome   outcome       // the outcome of the call, when allowed
		wantAllow bool
		wantState BreakerState // after the step
	}
	ok, fail, neutral := outcomeSuccess, outcomeFailure, outcomeNeutral
	tests := []struct {
		name  string
		steps []step
	}{
		{"opens after threshold", []step{
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerOpen},
			{0, ok, false, BreakerOpen},
		}},
		{"success resets the count", []step{
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerClosed},
			{0, ok, true, BreakerClosed},
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerOpen},
		}},
		{"neutral does not count", []step{
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerClosed},
			{0, neutral, true, BreakerClosed},
			{0, fail, true, BreakerOpen},
		}},
		{"probe success closes", []step{
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerOpen},
			{999 * time.Millisecond, ok, false, BreakerOpen},
			{time.Millisecond, ok, true, BreakerClosed},
		}},
		{"probe failure doubles the cool-down up to the max", []step{
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerOpen},
			{time.Second, fail, true, BreakerOpen}, // cool-down now 2s
			{1999 * time.Millisecond, ok, false, BreakerOpen},
			{time.Millisecond, fail, true, BreakerOpen}, // now 3s, the max
			{2999 * time.Millisecond, ok, false, BreakerOpen},
			{time.Millisecond, fail, true, BreakerOpen}, // stays 3s
			{2999 * time.Millisecond, ok, false, BreakerOpen},
			{time.Millisecond, ok, true, BreakerClosed},
			{0, fail, true, BreakerClosed}, // closed again with the count reset
		}},
		{"neutral probe lets the next call probe", []step{
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerClosed},
			{0, fail, true, BreakerOpen},
			{time.Second, neutral, true, BreakerHalfOpen},
			{0, ok, true, BreakerClosed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(0, 0)
			b := newBreaker(BreakerConfig{Threshold: 3, Cooldown: time.Second,
				MaxCooldown: 3 * time.Second})
			b.now = func() time.Time { return now }
			for i, s := range tt.steps {
				now = now.Add(s.advance)
				probe, err := b.allow()
				if allowed := err == nil; allowed != s.wantAllow {
					t.Fatalf("step %d: allowed = %v, want %v (%v)", i, allowed, s.wantAllow, err)
				}
				if err == nil {
					b.done(probe, s.outcome)
				}
				if got := b.state(); got != s.wantState {
					t.Fatalf("step %d: state = %s, want %s", i, got, s.wantState)
				}
			}
		})
	}
}

func TestBreakerOneProbeAtATime(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBreaker(BreakerConfig{Threshold: 1, Cooldown: time.Second, MaxCooldown: time.Second})
	b.now = func() time.Time { return now }
	b.done(false, outcomeFailure)
	now = now.Add(time.Second)
	probe, err := b.allow()
	if err != nil || !probe {
		t.Fatalf("first call after the cool-down: probe %v, %v", probe, err)
	}
	if _, err := b.allow(); err == nil {
		t.Fatal("second call while the probe runs was allowed")
	}
	b.done(true, outcomeSuccess)
	if _, err := b.allow(); err != nil {
		t.Fatalf("call after a successful probe: %v", err)
	}
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		name    string
		failure *Failure
		want    outcome
	}{
		{"success", nil, outcomeSuccess},
		{"denied", &Failure{Type: FailureDenied}, outcomeSuccess},
		{"error status", &Failure{Type: FailureError}, outcomeFailure},
		{"timeout", &Failure{Type: FailureTimeout, Err: context.DeadlineExceeded}, outcomeFailure},
		{"trap", &Failure{Type: FailureTrap}, outcomeFailure},
		{"bad output", &Failure{Type: FailureBadOutput}, outcomeFailure},
		{"caller cancelled", &Failure{Type: FailureError, Err: context.Canceled}, outcomeNeutral},
		{"closed", &Failure{Type: FailureError, Err: ErrClosed}, outcomeNeutral},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outcomeOf(tt.failure); got != tt.want {
				t.Errorf("outcomeOf = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCircuitBreakerSkipsGuest(t *testing.T) {
	var rec logRecorder
	r := newTestRuntime(t, Config{OnLog: rec.onLog, Breaker: BreakerConfig{
		Threshold: 3, Cooldown: 50 * time.Millisecond, MaxCooldown: 80 * time.Millisecond}})
	p := loadFixture(t, r, "trap", nil, HookPreStart, HookInspect)
	// A fake clock keeps a slow machine from ending a cool-down early.
	now := time.Now()
	p.breaker.now = func() time.Time { return now }
	call := func(hook string) error {
		_, err := p.Call(ctx, hook, []byte(`{}`))
		return err
	}
	ran := func() int { return rec.count("pre-start ran") }

	for range 3 {
		wantFailure(t, call(HookPreStart), FailureTrap)
	}
	if s := p.Stats(); s.Breaker != BreakerOpen {
		t.Fatalf("breaker = %s after 3 traps, want open", s.Breaker)
	}
	wantFailure(t, call(HookPreStart), FailureCircuitOpen, "circuit open after 3")
	if ran() != 3 {
		t.Errorf("guest ran %d times, want 3: an open circuit must not run guest code", ran())
	}

	now = now.Add(50 * time.Millisecond)
	if s := p.Stats(); s.Breaker != BreakerHalfOpen {
		t.Fatalf("breaker = %s after the cool-down, want half-open", s.Breaker)
	}
	wantFailure(t, call(HookPreStart), FailureTrap) // the probe fails
	if ran() != 4 {
		t.Errorf("guest ran %d times, want 4 with the probe", ran())
	}
	wantFailure(t, call(HookInspect), FailureCircuitOpen)

	now = now.Add(79 * time.Millisecond) // the doubled cool-down is capped at 80ms
	wantFailure(t, call(HookInspect), FailureCircuitOpen)
	now = now.Add(time.Millisecond)
	if err := call(HookInspect); err != nil {
		t.Fatalf("probe after the second cool-down: %v", err)
	}
	s := p.Stats()
	if s.Breaker != BreakerClosed {
		t.Errorf("breaker = %s after a successful probe, want closed", s.Breaker)
	}
	if s.Failures[FailureTrap] != 4 || s.Failures[FailureCircuitOpen] != 3 {
		t.Errorf("failures = %v, want 4 traps and 3 circuit_open", s.Failures)
	}
}
