package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/podplug/podplug/plugins"
	"github.com/podplug/podplug/store"
)

// queueBucket holds pending post-stop calls, one record per exit and
// plugin, keyed so they sort in the order the exits were recorded.
const queueBucket = "hookq"

// pending is one queued post-stop call.
type pending struct {
	Plugin string        `json:"plugin"`
	Input  PostStopInput `json:"input"`
}

// retryInterval is how often the worker looks at the queue without being
// woken, so calls held back by an open circuit breaker run later.
const retryInterval = 5 * time.Second

// EnqueuePostStop records a pending post-stop call for every subscribed
// plugin inside tx, the transaction that records the exit. So the calls
// are durable exactly when the exit is, and a daemon crash delays them but
// does not drop them. Call Kick after tx commits.
func (m *Manager) EnqueuePostStop(tx *store.Tx, in PostStopInput) error {
	in.Hook = "post_stop"
	stamp := time.Now().UnixNano()
	for _, e := range m.subscribed(HookPostStop) {
		name := e.rec.Manifest.Name
		key := fmt.Sprintf("%020d-%s-%s", stamp, in.Container.ID, name)
		if err := tx.PutRecord(queueBucket, key, pending{Plugin: name, Input: in}); err != nil {
			return err
		}
	}
	return nil
}

// Kick wakes the post-stop worker.
func (m *Manager) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// WaitIdle returns once the queue is empty or ctx is done, for tests.
func (m *Manager) WaitIdle(ctx context.Context) error {
	for {
		n, err := m.queueLength()
		if err != nil || n == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (m *Manager) queueLength() (int, error) {
	n := 0
	err := m.cfg.Store.View(func(tx *store.Tx) error {
		return tx.ListRecords(queueBucket, func(string, []byte) error { n++; return nil })
	})
	return n, err
}

func (m *Manager) postStopWorker(ctx context.Context) {
	defer close(m.done)
	ticker := time.NewTicker(retryInterval)
	defer ticker.Stop()
	for {
		m.drainQueue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-m.kick:
		case <-ticker.C:
		}
	}
}

type queued struct {
	key string
	pending
}

func (m *Manager) drainQueue(ctx context.Context) {
	var items []queued
	err := m.cfg.Store.View(func(tx *store.Tx) error {
		return tx.ListRecords(queueBucket, func(key string, value []byte) error {
			var p pending
			if err := json.Unmarshal(value, &p); err != nil {
				m.log.Error("drop malformed post-stop call", "key", key, "error", err)
				p.Plugin = ""
			}
			items = append(items, queued{key: key, pending: p})
			return nil
		})
	})
	if err != nil {
		m.log.Error("read post-stop queue", "error", err)
		return
	}
	for _, item := range items {
		if ctx.Err() != nil {
			return
		}
		m.runPending(ctx, item)
	}
}

// runPending calls one plugin for one exit and removes the call from the
// queue in the same transaction as the key-value writes the plugin made, so
// a crash before that commit repeats the call with none of its effects
// applied, and a crash after it does not repeat it.
func (m *Manager) runPending(ctx context.Context, item queued) {
	m.mu.RLock()
	e := m.entries[item.Plugin]
	m.mu.RUnlock()
	if e == nil || e.plugin == nil || !e.rec.Enabled {
		m.dequeue(item.key, nil)
		return
	}
	man := &e.rec.Manifest
	item.Input.Plugin = PluginRef{Name: man.Name, Config: rawConfig(man.Config)}
	input, err := json.Marshal(item.Input)
	if err != nil {
		m.dequeue(item.key, nil)
		return
	}
	kv := newBufferedKV(m.cfg.Store, man.Name)
	_, callErr := e.plugin.Call(plugins.WithKV(ctx, kv), HookPostStop, input)
	var failure *plugins.Failure
	if errors.As(callErr, &failure) && failure.Type == plugins.FailureCircuitOpen {
		return // keep it for a later try
	}
	if callErr != nil {
		outcome := Outcome{Plugin: man.Name, Result: "failed", Message: callErr.Error()}
		if failure != nil {
			outcome.Type = string(failure.Type)
		}
		m.report(man.Name, HookPostStop, outcome, item.Input.Container.Name)
		kv = nil // effects of a failed call are dropped
	}
	m.dequeue(item.key, kv)
}

func (m *Manager) dequeue(key string, kv *bufferedKV) {
	err := m.cfg.Store.Update(func(tx *store.Tx) error {
		if kv != nil {
			if err := kv.commit(tx); err != nil {
				return err
			}
		}
		return tx.DeleteRecord(queueBucket, key)
	})
	if err != nil {
		m.log.Error("finish post-stop call", "key", key, "error", err)
	}
}

// bufferedKV reads through to the store and keeps writes in memory until
// commit, so a post-stop call's writes land with its removal from the queue.
type bufferedKV struct {
	db     *store.Store
	plugin string
	mu     sync.Mutex
	writes map[string][]byte // nil value: deleted
	order  []string
}

func newBufferedKV(db *store.Store, plugin string) *bufferedKV {
	return &bufferedKV{db: db, plugin: plugin, writes: map[string][]byte{}}
}

func (b *bufferedKV) Get(plugin, key string) ([]byte, bool, error) {
	b.mu.Lock()
	v, ok := b.writes[key]
	b.mu.Unlock()
	if plugin == b.plugin && ok {
		return v, v != nil, nil
	}
	return storeKV{b.db}.Get(plugin, key)
}

func (b *bufferedKV) Set(plugin, key string, value []byte) error {
	if plugin != b.plugin {
		return storeKV{b.db}.Set(plugin, key, value)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.writes[key]; !ok {
		b.order = append(b.order, key)
	}
	b.writes[key] = append([]byte{}, value...)
	return nil
}

func (b *bufferedKV) Delete(plugin, key string) error {
	if plugin != b.plugin {
		return storeKV{b.db}.Delete(plugin, key)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.writes[key]; !ok {
		b.order = append(b.order, key)
	}
	b.writes[key] = nil
	return nil
}

func (b *bufferedKV) commit(tx *store.Tx) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, key := range b.order {
		var err error
		if v := b.writes[key]; v == nil {
			err = tx.PluginKVDelete(b.plugin, key)
		} else {
			err = tx.PluginKVPut(b.plugin, key, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
