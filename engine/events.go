package engine

import (
	"context"
	"sync"
	"time"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// eventBus fans new events out to live subscribers.
type eventBus struct {
	mu   sync.Mutex
	subs map[chan *model.Event]struct{}
}

// subscriberBuffer is how many events a slow subscriber may lag behind
// before it misses some; the log in the store keeps them all.
const subscriberBuffer = 256

func (b *eventBus) subscribe() chan *model.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[chan *model.Event]struct{}{}
	}
	ch := make(chan *model.Event, subscriberBuffer)
	b.subs[ch] = struct{}{}
	return ch
}

func (b *eventBus) unsubscribe(ch chan *model.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs, ch)
}

func (b *eventBus) publish(ev *model.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default: // the subscriber is too slow; it can reread the log
		}
	}
}

// emit appends an event to the log and publishes it. A failure to record an
// event is logged, not returned: the operation it describes already happened.
func (e *Engine) emit(ev *model.Event) {
	err := e.db.Update(func(tx *store.Tx) error { return tx.AppendEvent(ev) })
	if err != nil {
		e.log.Error("record event", "action", ev.Action, "id", ev.ID, "error", err)
		return
	}
	e.events.publish(ev)
}

// updateAndRecord changes a stored container and appends ev in one
// transaction, one disk sync instead of two, then publishes ev.
func (e *Engine) updateAndRecord(id string, ev *model.Event, change func(*model.Container)) error {
	err := e.db.Update(func(tx *store.Tx) error {
		c, err := tx.GetContainer(id)
		if err != nil {
			return err
		}
		change(c)
		if err := tx.PutContainer(c); err != nil {
			return err
		}
		return tx.AppendEvent(ev)
	})
	if err == nil {
		e.events.publish(ev)
	}
	return err
}

func podEvent(p *model.Pod, action string) *model.Event {
	return &model.Event{
		Type: "pod", Action: action, ID: p.ID, Name: p.Name,
		PodID: p.ID, PodName: p.Name, Tenant: p.Owner.Tenant, Time: time.Now(),
	}
}

func containerEvent(p *model.Pod, c *model.Container, action string) *model.Event {
	ev := &model.Event{
		Type: "container", Action: action, ID: c.ID, Name: c.Name,
		PodID: c.PodID, Tenant: c.Owner.Tenant, Time: time.Now(),
	}
	if p != nil {
		ev.PodName = p.Name
	}
	return ev
}

// EventFilter selects events for Events.
type EventFilter struct {
	// Since skips events older than this time; zero means live events only.
	Since time.Time
	Pod   string // pod name or ID
	Type  string // pod, container, image, system
}

func (f EventFilter) match(ev *model.Event) bool {
	if f.Pod != "" && f.Pod != ev.PodName && f.Pod != ev.PodID {
		return false
	}
	if f.Type != "" && f.Type != ev.Type {
		return false
	}
	return true
}

// Events sends matching events to fn: first those recorded since f.Since,
// then live ones until ctx is done or fn returns an error.
func (e *Engine) Events(ctx context.Context, f EventFilter, fn func(*model.Event) error) error {
	live := e.events.subscribe()
	defer e.events.unsubscribe(live)

	var lastSeq uint64
	if !f.Since.IsZero() {
		err := e.db.Events(0, func(ev *model.Event) error {
			lastSeq = ev.Seq
			if ev.Time.Before(f.Since) || !f.match(ev) {
				return nil
			}
			return fn(ev)
		})
		if err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-live:
			if ev.Seq <= lastSeq || !f.match(ev) {
				continue
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
}
