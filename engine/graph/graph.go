// Package graph orders a pod's containers by their dependencies and walks
// them in parallel: forward for start (a container after the ones it
// requires) and backward for stop (dependents first).
package graph

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ErrMissingDependency is returned by New when a node requires a name that
// is not in the graph.
var ErrMissingDependency = errors.New("missing dependency")

// ErrCycle is returned by New when requirements form a cycle.
var ErrCycle = errors.New("dependency cycle")

// ErrDependencyFailed is recorded for a node that was not visited because a
// node it waits for failed.
var ErrDependencyFailed = errors.New("dependency failed")

// Node is one container and the names of the containers it requires.
type Node struct {
	Name     string
	Requires []string
}

// Graph is a validated, acyclic dependency graph. It is immutable and safe
// for concurrent use.
type Graph struct {
	names      []string            // sorted, for stable output
	requires   map[string][]string // name -> what it needs
	dependents map[string][]string // name -> what needs it
}

// New builds a graph and rejects missing dependencies and cycles, so that a
// caller can refuse an operation before touching any container.
func New(nodes []Node) (*Graph, error) {
	g := &Graph{
		requires:   make(map[string][]string, len(nodes)),
		dependents: make(map[string][]string, len(nodes)),
	}
	for _, n := range nodes {
		g.names = append(g.names, n.Name)
		g.requires[n.Name] = append([]string(nil), n.Requires...)
	}
	sort.Strings(g.names)
	for _, name := range g.names {
		for _, dep := range g.requires[name] {
			if _, ok := g.requires[dep]; !ok {
				return nil, fmt.Errorf("container %q requires %q: %w", name, dep, ErrMissingDependency)
			}
			g.dependents[dep] = append(g.dependents[dep], name)
		}
	}
	if cycle := g.findCycle(); cycle != nil {
		return nil, fmt.Errorf("containers %s: %w", strings.Join(cycle, " -> "), ErrCycle)
	}
	return g, nil
}

// findCycle returns the names along one cycle, first name repeated at the
// end, or nil when the graph is acyclic.
func (g *Graph) findCycle() []string {
	const (
		unvisited = iota
		inProgress
		done
	)
	state := make(map[string]int, len(g.names))
	var stack []string
	var visit func(string) []string
	visit = func(name string) []string {
		state[name] = inProgress
		stack = append(stack, name)
		for _, dep := range g.requires[name] {
			switch state[dep] {
			case inProgress:
				start := indexOf(stack, dep)
				return append(append([]string(nil), stack[start:]...), dep)
			case unvisited:
				if c := visit(dep); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		return nil
	}
	for _, name := range g.names {
		if state[name] == unvisited {
			if c := visit(name); c != nil {
				return c
			}
		}
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// Names returns every node's name in sorted order.
func (g *Graph) Names() []string { return append([]string(nil), g.names...) }

// Order returns a topological order: each name after what it requires.
// The order is stable: roots are taken by name and each node's
// requirements in the order given.
func (g *Graph) Order() []string {
	var order []string
	seen := make(map[string]bool, len(g.names))
	var visit func(string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		for _, dep := range g.requires[name] {
			visit(dep)
		}
		order = append(order, name)
	}
	for _, name := range g.names {
		visit(name)
	}
	return order
}

// Direction picks which way Walk goes.
type Direction int

const (
	// Forward visits a node after every node it requires (start order).
	Forward Direction = iota
	// Backward visits a node after every node that requires it (stop order).
	Backward
)

// WalkOptions tune Walk.
type WalkOptions struct {
	Direction Direction
	// Limit bounds how many visits run at once; 0 means no bound.
	Limit int
	// ContinueOnError visits a node even when one it waits for failed. Stop
	// uses it: a dependent that failed to stop must not keep its
	// requirements running.
	ContinueOnError bool
}

// Walk calls visit on every node, in parallel where the graph allows, and
// returns the error of each node that failed; nodes skipped because a node
// they wait for failed get an error wrapping ErrDependencyFailed. Walk
// returns once every visit has returned. A cancelled ctx skips nodes not yet
// started, each recorded with ctx's error.
func Walk(ctx context.Context, g *Graph, opts WalkOptions, visit func(ctx context.Context,
	name string) error) map[string]error {
	before, after := g.requires, g.dependents
	if opts.Direction == Backward {
		before, after = g.dependents, g.requires
	}
	w := &walker{
		ctx: ctx, opts: opts, visit: visit, after: after,
		waiting: make(map[string]int, len(g.names)),
		failed:  make(map[string]string),
		errs:    make(map[string]error),
	}
	if opts.Limit > 0 {
		w.slots = make(chan struct{}, opts.Limit)
	}
	var ready []string
	for _, name := range g.names {
		w.waiting[name] = len(before[name])
		if w.waiting[name] == 0 {
			ready = append(ready, name)
		}
	}
	w.mu.Lock()
	for _, name := range ready {
		w.launch(name)
	}
	w.mu.Unlock()
	w.wg.Wait()
	return w.errs
}

type walker struct {
	ctx   context.Context
	opts  WalkOptions
	visit func(context.Context, string) error
	after map[string][]string
	slots chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	waiting map[string]int    // name -> nodes it still waits for
	failed  map[string]string // name -> a failed node it waited for
	errs    map[string]error
}

// launch runs name's visit in a goroutine; w.mu must be held.
func (w *walker) launch(name string) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		err := w.run(name)
		w.finish(name, err)
	}()
}

func (w *walker) run(name string) error {
	w.mu.Lock()
	cause, blocked := w.failed[name]
	w.mu.Unlock()
	if blocked && !w.opts.ContinueOnError && w.ctx.Err() == nil {
		return fmt.Errorf("%q failed: %w", cause, ErrDependencyFailed)
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.slots != nil {
		select {
		case w.slots <- struct{}{}:
			defer func() { <-w.slots }()
		case <-w.ctx.Done():
			return w.ctx.Err()
		}
	}
	return w.visit(w.ctx, name)
}

func (w *walker) finish(name string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.errs[name] = err
	}
	for _, next := range w.after[name] {
		if err != nil {
			if _, ok := w.failed[next]; !ok {
				w.failed[next] = name
			}
		}
		w.waiting[next]--
		if w.waiting[next] == 0 {
			w.launch(next)
		}
	}
}
