package policy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one evaluation when Options.Timeout is zero.
const DefaultTimeout = 100 * time.Millisecond

// Options configures an Engine.
type Options struct {
	// Dir is a directory of policies or an OPA bundle tarball (.tar.gz). All
	// .rego files in it except *_test.rego are loaded, with data from files
	// named data.json, data.yaml or data.yml.
	Dir string
	// Logger receives load and reload events. Nil discards them.
	Logger *slog.Logger
	// DecisionLog, when set, receives one JSON line per decision. Writes are
	// serialized, so any io.Writer works.
	DecisionLog io.Writer
	// LogInput adds the input document to each decision log line, with every
	// field named "env" removed at any depth.
	LogInput bool
	// Timeout bounds one evaluation; DefaultTimeout when zero.
	Timeout time.Duration
}

// Engine makes policy decisions. Decide and Visible are safe for concurrent
// use, also while Reload runs: each evaluation uses the policy set that was
// current when it started.
type Engine struct {
	opts    Options
	logger  *slog.Logger
	current atomic.Pointer[policySet]

	// reloadMu serializes Reload, so two reloads cannot finish out of order.
	reloadMu sync.Mutex

	// logMu serializes writes to opts.DecisionLog.
	logMu       sync.Mutex
	logFailures atomic.Int64
}

// Load reads, compiles and prepares the policies in opts.Dir. A policy that
// does not parse or compile fails with ErrInvalidPolicy, and the error names
// the file and line. A directory without policies fails with ErrNoPolicies.
func Load(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Dir == "" {
		return nil, errors.New("load policies: Options.Dir is empty")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	set, err := loadSet(ctx, opts.Dir)
	if err != nil {
		return nil, err
	}

	e := &Engine{opts: opts, logger: logger}
	e.current.Store(set)
	logger.Info("policies loaded", "dir", opts.Dir, "files", set.files)
	return e, nil
}

// Reload reads opts.Dir again and swaps the new policies in at once. On
// failure it returns the error, naming file and line as Load does, and the
// policies loaded before stay in force.
func (e *Engine) Reload(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()

	set, err := loadSet(ctx, e.opts.Dir)
	if err != nil {
		return err
	}

	e.current.Store(set)
	e.logger.Info("policies reloaded", "dir", e.opts.Dir, "files", set.files)
	return nil
}

// Files returns the .rego files of the policy set in force, sorted.
func (e *Engine) Files() []string {
	return append([]string(nil), e.current.Load().files...)
}
