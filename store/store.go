package store

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"golang.org/x/sys/unix"
)

// schemaVersion is the layout version this code reads and writes. Open
// stores it in a new database and rejects a database with a higher one.
const schemaVersion = 1

// optimisticAttempts is how many times Update runs its function concurrently
// with other transactions before it runs it alone.
const optimisticAttempts = 4

// eventSeqLease is how many event Seq numbers the store reserves per durable
// write of meta/eventseq. A crash loses at most this many numbers as a gap.
const eventSeqLease = 128

// Options configure Open.
type Options struct {
	// InMemory runs badger without files, for unit tests. Open ignores dir.
	InMemory bool
	// Logger receives badger's warnings and errors. Nil discards them.
	Logger *slog.Logger
}

// Store is podplug's database: typed records with their indexes, the event
// log and plugin key-value data, in one badger database. A Store is safe for
// concurrent use.
type Store struct {
	db     *badger.DB
	log    *slog.Logger
	dir    string // the directory, or "(in memory)", for messages
	seq    *badger.Sequence
	seqMu  sync.Mutex // orders event Seq assignment with commits
	closed sync.Once

	// updateMu is held shared by each Update attempt, and exclusively by a
	// last attempt after conflicts and by Close.
	updateMu sync.RWMutex

	// conflicts counts commits that conflicted and made Update run its
	// function again.
	conflicts atomic.Uint64
}

// Open opens or creates the database in dir. Writes are synced to disk before
// Update returns. Open fails with ErrLocked when another process has dir
// open, and with ErrSchema when a newer podplug wrote the database.
func Open(dir string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	label := dir
	if opts.InMemory {
		dir, label = "", "(in memory)"
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}

	db, err := badger.Open(badgerOptions(dir, opts.InMemory, log))
	if err != nil {
		return nil, openError(dir, label, err)
	}

	s := &Store{db: db, log: log, dir: label}
	if err := s.initialize(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// badgerOptions returns settings for a small daemon database: one version per
// key, no compression, no block cache and two 16 MiB memtables. Values up to
// 1 MiB stay in the LSM tree. The memtable size also caps a transaction at
// about 2.4 MiB (badger allows 15% of it).
//
// NOTE: the store never runs badger's value log garbage collection, so the
// space of replaced or deleted values of 1 MiB or more is not reclaimed. Only
// plugin key-value entries can be that large.
func badgerOptions(dir string, inMemory bool, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithInMemory(inMemory).
		WithSyncWrites(true).
		WithLogger(badgerLogger{log: log}).
		WithNumVersionsToKeep(1).
		WithCompression(options.None).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
}

// openError explains a failed badger.Open of dir, which is empty in memory,
// naming the store by label. Badger's lock error does not wrap the system
// error, so openError probes the directory lock itself.
func openError(dir, label string, err error) error {
	if dir != "" && dirLocked(dir) {
		return fmt.Errorf("open store %s: %w: another podplug daemon probably owns it, "+
			"so stop that daemon or use another directory", dir, ErrLocked)
	}
	return fmt.Errorf("open store %s: %w", label, err)
}

// dirLocked reports whether another open file holds a flock on dir, the lock
// badger takes on its directory.
func dirLocked(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()

	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}

// initialize checks the schema version and loads the event sequence.
func (s *Store) initialize() error {
	if err := s.db.Update(s.checkSchema); err != nil {
		return err
	}
	seq, err := s.db.GetSequence(keyEventSeq, eventSeqLease)
	if err != nil {
		return fmt.Errorf("open store %s: load event sequence: %w", s.dir, err)
	}
	s.seq = seq
	return nil
}

// checkSchema writes the schema version into a new database and checks it in
// an existing one.
func (s *Store) checkSchema(txn *badger.Txn) error {
	item, err := txn.Get(keySchema)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return txn.Set(keySchema, []byte(strconv.Itoa(schemaVersion)))
	}
	if err != nil {
		return fmt.Errorf("open store %s: read schema version: %w", s.dir, err)
	}

	value, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("open store %s: read schema version: %w", s.dir, err)
	}
	version, err := strconv.Atoi(string(value))
	switch {
	case err != nil || version < 1:
		return fmt.Errorf("open store %s: %w %q: the database is damaged or not podplug's",
			s.dir, ErrSchema, value)
	case version > schemaVersion:
		return fmt.Errorf("open store %s: %w %d: a newer podplug wrote this database "+
			"and this one reads up to version %d; upgrade podplug",
			s.dir, ErrSchema, version, schemaVersion)
	}
	return nil
}

// Close waits for running Update calls, releases unused event Seq numbers and
// closes the database. Calls after the first return nil.
//
// NOTE: Close does not wait for View or Events calls. The caller ends them
// first, because badger panics when a read opens an iterator on a closed
// database.
func (s *Store) Close() error {
	s.updateMu.Lock()
	defer s.updateMu.Unlock()

	var err error
	s.closed.Do(func() {
		err = errors.Join(s.seq.Release(), s.db.Close())
		if err != nil {
			err = fmt.Errorf("close store %s: %w", s.dir, err)
		}
	})
	return err
}

// Update runs fn in a read-write transaction and commits it if fn returns
// nil. The error fn returns is returned as is. When the commit conflicts with
// a concurrent transaction, Update runs fn again in a new transaction. After
// 4 conflicts it runs fn a last time while no other Update runs, so that
// attempt cannot conflict and an Update never fails with badger.ErrConflict.
// Because fn can run more than once, it must have no effects outside tx, and
// it must not call Update, which would deadlock.
func (s *Store) Update(fn func(tx *Tx) error) error {
	for attempt := 1; ; attempt++ {
		exclusive := attempt > optimisticAttempts
		committed, err := s.updateOnce(fn, exclusive)
		if committed || exclusive || !errors.Is(err, badger.ErrConflict) {
			return err
		}
		s.conflicts.Add(1)
		s.log.Debug("store transaction conflict, retrying", "attempt", attempt)
		time.Sleep(rand.N(time.Duration(attempt) * time.Millisecond))
	}
}

// updateOnce runs fn in one transaction. committed is false when the commit
// itself failed, as opposed to fn. An exclusive attempt holds off every other
// Update. The only commits left during it are event Seq leases, which write
// meta/eventseq, a key no Tx method reads, so it cannot conflict.
func (s *Store) updateOnce(fn func(tx *Tx) error, exclusive bool) (committed bool, err error) {
	if exclusive {
		s.updateMu.Lock()
		defer s.updateMu.Unlock()
	} else {
		s.updateMu.RLock()
		defer s.updateMu.RUnlock()
	}
	if s.db.IsClosed() {
		return true, fmt.Errorf("store %s: %w", s.dir, badger.ErrDBClosed)
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()

	tx := &Tx{txn: txn, writable: true}
	if err := fn(tx); err != nil {
		return true, err
	}
	if err := s.commit(tx); err != nil {
		return false, err
	}
	return true, nil
}

// View runs fn in a read-only transaction on a consistent snapshot.
func (s *Store) View(fn func(tx *Tx) error) error {
	if s.db.IsClosed() {
		return fmt.Errorf("store %s: %w", s.dir, badger.ErrDBClosed)
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()

	return fn(&Tx{txn: txn})
}

// badgerLogger passes badger's warnings and errors to slog and drops its
// info and debug messages.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(format string, args ...any) {
	l.log.Error(badgerMessage(format, args), "component", "badger")
}

func (l badgerLogger) Warningf(format string, args ...any) {
	l.log.Warn(badgerMessage(format, args), "component", "badger")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

func badgerMessage(format string, args []any) string {
	msg := fmt.Sprintf(format, args...)
	for len(msg) > 0 && msg[len(msg)-1] == '\n' {
		msg = msg[:len(msg)-1]
	}
	return msg
}
