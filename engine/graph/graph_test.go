package graph_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podplug/podplug/engine/graph"
)

// errVisit is what a test visit returns to make its node fail.
var errVisit = errors.New("visit failed")

const (
	// visitTimeout bounds how long a visit waits for another visit, so a walk
	// that runs visits one at a time fails the test instead of hanging it.
	visitTimeout = 2 * time.Second
	// walkTimeout bounds a whole Walk call.
	walkTimeout = 10 * time.Second
)

// podNodes is a pod in which web requires app, app and worker require db,
// and cache requires nothing.
func podNodes() []graph.Node {
	return []graph.Node{
		{Name: "web", Requires: []string{"app"}},
		{Name: "app", Requires: []string{"db"}},
		{Name: "worker", Requires: []string{"db"}},
		{Name: "db"},
		{Name: "cache"},
	}
}

// diamondNodes is a graph in which app requires db and cache, and both of
// those require base.
func diamondNodes() []graph.Node {
	return []graph.Node{
		{Name: "app", Requires: []string{"db", "cache"}},
		{Name: "db", Requires: []string{"base"}},
		{Name: "cache", Requires: []string{"base"}},
		{Name: "base"},
	}
}

// chainNodes returns n nodes in which each node requires the one before it.
func chainNodes(n int) []graph.Node {
	nodes := make([]graph.Node, n)
	for i := range nodes {
		nodes[i].Name = fmt.Sprintf("c%02d", i)
		if i > 0 {
			nodes[i].Requires = []string{nodes[i-1].Name}
		}
	}
	return nodes
}

// fanOutNodes returns n nodes in which every node but the first requires the
// first.
func fanOutNodes(n int) []graph.Node {
	nodes := make([]graph.Node, n)
	for i := range nodes {
		nodes[i].Name = fmt.Sprintf("f%02d", i)
		if i > 0 {
			nodes[i].Requires = []string{nodes[0].Name}
		}
	}
	return nodes
}

// independentNodes returns n nodes that require nothing.
func independentNodes(n int) []graph.Node {
	nodes := make([]graph.Node, n)
	for i := range nodes {
		nodes[i].Name = fmt.Sprintf("n%02d", i)
	}
	return nodes
}

func nodeNames(nodes []graph.Node) []string {
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	return names
}

func mustNew(t *testing.T, nodes []graph.Node) *graph.Graph {
	t.Helper()
	g, err := graph.New(nodes)
	if err != nil {
		t.Fatalf("New(%v) returned error %q, expected a graph", nodes, err)
	}
	return g
}

// walk runs graph.Walk and fails the test if Walk does not return within
// walkTimeout.
func walk(t *testing.T, ctx context.Context, g *graph.Graph, opts graph.WalkOptions,
	visit func(context.Context, string) error) map[string]error {
	t.Helper()
	done := make(chan map[string]error, 1)
	go func() { done <- graph.Walk(ctx, g, opts, visit) }()
	select {
	case errs := <-done:
		return errs
	case <-time.After(walkTimeout):
		t.Fatalf("Walk did not return within %v", walkTimeout)
		return nil
	}
}

// recorder logs when each visit starts and ends on one shared counter, so a
// test can tell whether one visit ended before another started.
type recorder struct {
	mu     sync.Mutex
	clock  int
	starts map[string]int
	ends   map[string]int
	calls  map[string]int
}

func newRecorder() *recorder {
	return &recorder{starts: map[string]int{}, ends: map[string]int{}, calls: map[string]int{}}
}

// visitFailing returns a visit that records its node and returns errVisit
// for the names in failing.
func (r *recorder) visitFailing(failing ...string) func(context.Context, string) error {
	return func(_ context.Context, name string) error {
		r.mu.Lock()
		r.clock++
		r.starts[name] = r.clock
		r.calls[name]++
		r.mu.Unlock()

		// Sleep briefly so that a walk that starts dependents too early has a
		// chance to show it.
		time.Sleep(time.Millisecond)

		r.mu.Lock()
		r.clock++
		r.ends[name] = r.clock
		r.mu.Unlock()
		if slices.Contains(failing, name) {
			return errVisit
		}
		return nil
	}
}

// assertWalkOrder checks every visited pair of a node and a node it
// requires: Forward must start the node after its requirement ended, and
// Backward must start the requirement after the node ended.
func assertWalkOrder(t *testing.T, r *recorder, nodes []graph.Node, dir graph.Direction) {
	t.Helper()
	for _, n := range nodes {
		for _, dep := range n.Requires {
			if r.calls[n.Name] == 0 || r.calls[dep] == 0 {
				continue
			}
			first, second := dep, n.Name
			if dir == graph.Backward {
				first, second = n.Name, dep
			}
			if r.starts[second] < r.ends[first] {
				t.Errorf("%s started at %d before %s ended at %d, but %s requires %s",
					second, r.starts[second], first, r.ends[first], n.Name, dep)
			}
		}
	}
}

// assertTopological checks that order lists every node once, each after
// the nodes it requires.
func assertTopological(t *testing.T, nodes []graph.Node, order []string) {
	t.Helper()
	if len(order) != len(nodes) {
		t.Errorf("order %v has %d names, expected %d", order, len(order), len(nodes))
	}
	position := make(map[string]int, len(order))
	for i, name := range order {
		if _, seen := position[name]; seen {
			t.Errorf("order %v lists %s more than once", order, name)
		}
		position[name] = i
	}
	for _, n := range nodes {
		if _, ok := position[n.Name]; !ok {
			t.Errorf("order %v is missing %s", order, n.Name)
			continue
		}
		for _, dep := range n.Requires {
			if position[dep] > position[n.Name] {
				t.Errorf("order %v puts %s before %s, which it requires", order, n.Name, dep)
			}
		}
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name    string
		nodes   []graph.Node
		wantErr error
		// wantInMessage are substrings the error message must contain.
		wantInMessage []string
	}{
		{
			name:          "missing dependency",
			nodes:         []graph.Node{{Name: "web", Requires: []string{"db"}}},
			wantErr:       graph.ErrMissingDependency,
			wantInMessage: []string{`"web"`, `"db"`},
		},
		{
			name: "missing dependency among present ones",
			nodes: []graph.Node{
				{Name: "web", Requires: []string{"app", "cache"}},
				{Name: "app"},
			},
			wantErr:       graph.ErrMissingDependency,
			wantInMessage: []string{`"web"`, `"cache"`},
		},
		{
			name: "two-node cycle",
			nodes: []graph.Node{
				{Name: "a", Requires: []string{"b"}},
				{Name: "b", Requires: []string{"a"}},
			},
			wantErr:       graph.ErrCycle,
			wantInMessage: []string{"a -> b -> a"},
		},
		{
			name: "three-node cycle",
			nodes: []graph.Node{
				{Name: "c", Requires: []string{"a"}},
				{Name: "b", Requires: []string{"c"}},
				{Name: "a", Requires: []string{"b"}},
			},
			wantErr:       graph.ErrCycle,
			wantInMessage: []string{"a -> b -> c -> a"},
		},
		{
			name:          "self requirement",
			nodes:         []graph.Node{{Name: "a", Requires: []string{"a"}}},
			wantErr:       graph.ErrCycle,
			wantInMessage: []string{"a -> a"},
		},
		{
			name: "every container has a dependency",
			nodes: []graph.Node{
				{Name: "web", Requires: []string{"db"}},
				{Name: "db", Requires: []string{"cache"}},
				{Name: "cache", Requires: []string{"db"}},
			},
			wantErr:       graph.ErrCycle,
			wantInMessage: []string{"cache -> db -> cache"},
		},
		{
			name: "cycle behind an acyclic part",
			nodes: []graph.Node{
				{Name: "a"},
				{Name: "b", Requires: []string{"a"}},
				{Name: "x", Requires: []string{"b", "y"}},
				{Name: "y", Requires: []string{"x"}},
			},
			wantErr:       graph.ErrCycle,
			wantInMessage: []string{"x -> y -> x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := graph.New(tt.nodes)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New returned error %v, expected one wrapping %q", err, tt.wantErr)
			}
			if g != nil {
				t.Errorf("New returned a graph along with error %q, expected nil", err)
			}
			for _, want := range tt.wantInMessage {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name  string
		nodes []graph.Node
	}{
		{name: "no nodes", nodes: nil},
		{name: "single node", nodes: []graph.Node{{Name: "web"}}},
		{name: "chain", nodes: chainNodes(5)},
		{name: "diamond", nodes: diamondNodes()},
		{name: "pod", nodes: podNodes()},
		{
			name: "repeated requirement",
			nodes: []graph.Node{
				{Name: "web", Requires: []string{"db", "db"}},
				{Name: "db"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustNew(t, tt.nodes)

			want := slices.Sorted(slices.Values(nodeNames(tt.nodes)))
			if got := g.Names(); !slices.Equal(got, want) {
				t.Errorf("Names() = %v, expected the sorted names %v", got, want)
			}
		})
	}
}

func TestNewCopiesRequires(t *testing.T) {
	requires := []string{"c"}
	g := mustNew(t, []graph.Node{{Name: "a", Requires: requires}, {Name: "b"}, {Name: "c"}})

	requires[0] = "b"

	if got := g.Order(); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Errorf("Order() = %v after the caller changed its Requires slice, "+
			"expected [c a b] from the slice New was given", got)
	}
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name  string
		nodes []graph.Node
	}{
		{name: "no nodes", nodes: nil},
		{name: "single node", nodes: []graph.Node{{Name: "web"}}},
		{name: "chain", nodes: chainNodes(6)},
		{name: "fan-out", nodes: fanOutNodes(6)},
		{name: "diamond", nodes: diamondNodes()},
		{name: "pod", nodes: podNodes()},
		{name: "independent", nodes: independentNodes(4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustNew(t, tt.nodes)

			order := g.Order()

			assertTopological(t, tt.nodes, order)
			if again := g.Order(); !slices.Equal(again, order) {
				t.Errorf("second Order() = %v, expected the first result %v", again, order)
			}
			reversed := slices.Clone(tt.nodes)
			slices.Reverse(reversed)
			if got := mustNew(t, reversed).Order(); !slices.Equal(got, order) {
				t.Errorf("Order() of the nodes in reverse = %v, expected %v as for the "+
					"original node order", got, order)
			}
		})
	}
}

func TestWalkOrder(t *testing.T) {
	tests := []struct {
		name  string
		nodes []graph.Node
	}{
		{name: "no nodes", nodes: nil},
		{name: "single node", nodes: []graph.Node{{Name: "web"}}},
		{name: "chain", nodes: chainNodes(6)},
		{name: "fan-out", nodes: fanOutNodes(6)},
		{name: "diamond", nodes: diamondNodes()},
		{name: "pod", nodes: podNodes()},
		{
			name: "repeated requirement",
			nodes: []graph.Node{
				{Name: "web", Requires: []string{"db", "db"}},
				{Name: "db"},
			},
		},
	}
	directions := []struct {
		name string
		dir  graph.Direction
	}{
		{name: "forward", dir: graph.Forward},
		{name: "backward", dir: graph.Backward},
	}
	for _, tt := range tests {
		for _, d := range directions {
			t.Run(tt.name+"/"+d.name, func(t *testing.T) {
				g := mustNew(t, tt.nodes)
				r := newRecorder()

				errs := walk(t, context.Background(), g, graph.WalkOptions{Direction: d.dir},
					r.visitFailing())

				if len(errs) != 0 {
					t.Errorf("Walk returned errors %v, expected none", errs)
				}
				for _, name := range nodeNames(tt.nodes) {
					if r.calls[name] != 1 {
						t.Errorf("%s was visited %d times, expected once", name, r.calls[name])
					}
				}
				assertWalkOrder(t, r, tt.nodes, d.dir)
			})
		}
	}
}

func TestWalkRunsIndependentNodesConcurrently(t *testing.T) {
	tests := []struct {
		name string
		opts graph.WalkOptions
	}{
		{name: "forward", opts: graph.WalkOptions{Direction: graph.Forward}},
		{name: "backward", opts: graph.WalkOptions{Direction: graph.Backward}},
		{name: "limit of two", opts: graph.WalkOptions{Limit: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// a and b require nothing, and top requires both. Each of a and b
			// closes its own channel and then waits for the other's, so both
			// return only if they run at the same time.
			g := mustNew(t, []graph.Node{
				{Name: "top", Requires: []string{"a", "b"}},
				{Name: "a"},
				{Name: "b"},
			})
			started := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
			peer := map[string]string{"a": "b", "b": "a"}
			visit := func(_ context.Context, name string) error {
				if name == "top" {
					return nil
				}
				close(started[name])
				select {
				case <-started[peer[name]]:
					return nil
				case <-time.After(visitTimeout):
					return fmt.Errorf("%s waited %v for %s to start", name, visitTimeout, peer[name])
				}
			}

			errs := walk(t, context.Background(), g, tt.opts, visit)

			for name, err := range errs {
				t.Errorf("%s failed: %v. Independent nodes did not run concurrently", name, err)
			}
		})
	}
}

func TestWalkDependencyFailure(t *testing.T) {
	tests := []struct {
		name    string
		opts    graph.WalkOptions
		failing string
		// wantVisited are the nodes whose visit must be called once.
		wantVisited []string
		// wantCause maps each node that must be skipped to the failed node
		// its error names.
		wantCause map[string]string
	}{
		{
			name:        "forward skips dependents",
			opts:        graph.WalkOptions{Direction: graph.Forward},
			failing:     "db",
			wantVisited: []string{"cache", "db"},
			wantCause:   map[string]string{"app": "db", "worker": "db", "web": "app"},
		},
		{
			name:        "forward with ContinueOnError",
			opts:        graph.WalkOptions{Direction: graph.Forward, ContinueOnError: true},
			failing:     "db",
			wantVisited: []string{"app", "cache", "db", "web", "worker"},
		},
		{
			name:        "backward skips requirements",
			opts:        graph.WalkOptions{Direction: graph.Backward},
			failing:     "web",
			wantVisited: []string{"cache", "web", "worker"},
			wantCause:   map[string]string{"app": "web", "db": "app"},
		},
		{
			name:        "backward with ContinueOnError",
			opts:        graph.WalkOptions{Direction: graph.Backward, ContinueOnError: true},
			failing:     "web",
			wantVisited: []string{"app", "cache", "db", "web", "worker"},
		},
		{
			name:        "failing leaf skips nothing",
			opts:        graph.WalkOptions{Direction: graph.Forward},
			failing:     "web",
			wantVisited: []string{"app", "cache", "db", "web", "worker"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := podNodes()
			g := mustNew(t, nodes)
			r := newRecorder()

			errs := walk(t, context.Background(), g, tt.opts, r.visitFailing(tt.failing))

			if !errors.Is(errs[tt.failing], errVisit) {
				t.Errorf("error of %s = %v, expected its visit's error %q",
					tt.failing, errs[tt.failing], errVisit)
			}
			for _, name := range tt.wantVisited {
				if r.calls[name] != 1 {
					t.Errorf("%s was visited %d times, expected once", name, r.calls[name])
				}
			}
			for name, cause := range tt.wantCause {
				err := errs[name]
				if !errors.Is(err, graph.ErrDependencyFailed) {
					t.Errorf("error of %s = %v, expected one wrapping %q",
						name, err, graph.ErrDependencyFailed)
					continue
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", cause)) {
					t.Errorf("error of %s = %q, expected it to name %q", name, err, cause)
				}
				if r.calls[name] != 0 {
					t.Errorf("%s was visited %d times, expected no visit after %s failed",
						name, r.calls[name], tt.failing)
				}
			}
			for _, name := range nodeNames(nodes) {
				_, skipped := tt.wantCause[name]
				if name != tt.failing && !skipped && errs[name] != nil {
					t.Errorf("error of %s = %q, expected none", name, errs[name])
				}
			}
			assertWalkOrder(t, r, nodes, tt.opts.Direction)
		})
	}
}

func TestWalkLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		nodes int
		// wantMax is the number of visits that must run at once.
		wantMax int
	}{
		{name: "limit of one", limit: 1, nodes: 6, wantMax: 1},
		{name: "limit of two", limit: 2, nodes: 6, wantMax: 2},
		{name: "limit of three", limit: 3, nodes: 8, wantMax: 3},
		{name: "limit above node count", limit: 10, nodes: 4, wantMax: 4},
		{name: "no limit", limit: 0, nodes: 8, wantMax: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustNew(t, independentNodes(tt.nodes))
			var (
				mu       sync.Mutex
				inFlight int
				maxSeen  int
				once     sync.Once
			)
			// full closes once wantMax visits run together. Until then each
			// visit waits, so the walk must reach wantMax to finish.
			full := make(chan struct{})
			visit := func(_ context.Context, name string) error {
				mu.Lock()
				inFlight++
				maxSeen = max(maxSeen, inFlight)
				if inFlight == tt.wantMax {
					once.Do(func() { close(full) })
				}
				mu.Unlock()
				defer func() {
					mu.Lock()
					inFlight--
					mu.Unlock()
				}()

				select {
				case <-full:
					time.Sleep(time.Millisecond)
					return nil
				case <-time.After(visitTimeout):
					return fmt.Errorf("%s waited %v for %d visits to run at once",
						name, visitTimeout, tt.wantMax)
				}
			}

			errs := walk(t, context.Background(), g, graph.WalkOptions{Limit: tt.limit}, visit)

			for name, err := range errs {
				t.Errorf("%s failed: %v", name, err)
			}
			if maxSeen > tt.wantMax {
				t.Errorf("%d visits ran at once, expected at most %d", maxSeen, tt.wantMax)
			}
		})
	}
}

func TestWalkCancelledContext(t *testing.T) {
	tests := []struct {
		name string
		opts graph.WalkOptions
		// cancelIn is the node whose visit cancels the context. An empty
		// cancelIn cancels it before Walk starts.
		cancelIn     string
		wantVisited  []string
		wantCanceled []string
	}{
		{
			name:         "cancelled before the walk",
			opts:         graph.WalkOptions{Direction: graph.Forward},
			wantCanceled: []string{"app", "cache", "db", "web", "worker"},
		},
		{
			name:         "cancelled before the walk with ContinueOnError",
			opts:         graph.WalkOptions{Direction: graph.Forward, ContinueOnError: true},
			wantCanceled: []string{"app", "cache", "db", "web", "worker"},
		},
		{
			name:         "cancelled before the walk with a limit",
			opts:         graph.WalkOptions{Direction: graph.Backward, Limit: 1},
			wantCanceled: []string{"app", "cache", "db", "web", "worker"},
		},
		{
			name:         "cancelled during forward walk",
			opts:         graph.WalkOptions{Direction: graph.Forward},
			cancelIn:     "c00",
			wantVisited:  []string{"c00"},
			wantCanceled: []string{"c01", "c02", "c03"},
		},
		{
			name:         "cancelled during backward walk",
			opts:         graph.WalkOptions{Direction: graph.Backward, ContinueOnError: true},
			cancelIn:     "c03",
			wantVisited:  []string{"c03"},
			wantCanceled: []string{"c00", "c01", "c02"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := podNodes()
			if tt.cancelIn != "" {
				nodes = chainNodes(4)
			}
			g := mustNew(t, nodes)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelIn == "" {
				cancel()
			}
			r := newRecorder()
			record := r.visitFailing()
			visit := func(ctx context.Context, name string) error {
				if name == tt.cancelIn {
					cancel()
				}
				return record(ctx, name)
			}

			errs := walk(t, ctx, g, tt.opts, visit)

			for _, name := range tt.wantVisited {
				if r.calls[name] != 1 {
					t.Errorf("%s was visited %d times, expected once", name, r.calls[name])
				}
				if errs[name] != nil {
					t.Errorf("error of %s = %q, expected none", name, errs[name])
				}
			}
			for _, name := range tt.wantCanceled {
				if r.calls[name] != 0 {
					t.Errorf("%s was visited %d times after the context was cancelled, "+
						"expected no visit", name, r.calls[name])
				}
				if !errors.Is(errs[name], context.Canceled) {
					t.Errorf("error of %s = %v, expected one wrapping %q",
						name, errs[name], context.Canceled)
				}
			}
		})
	}
}

func ExampleWalk() {
	g, err := graph.New([]graph.Node{
		{Name: "web", Requires: []string{"app"}},
		{Name: "app", Requires: []string{"db"}},
		{Name: "db"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("order:", g.Order())

	errs := graph.Walk(context.Background(), g, graph.WalkOptions{Direction: graph.Forward},
		func(_ context.Context, name string) error {
			fmt.Println("start", name)
			if name == "app" {
				return errors.New("port 8080 is in use")
			}
			return nil
		})
	for _, name := range g.Names() {
		if err := errs[name]; err != nil {
			fmt.Printf("%s: %v\n", name, err)
		}
	}
	// Output:
	// order: [db app web]
	// start db
	// start app
	// app: port 8080 is in use
	// web: "app" failed: dependency failed
}

func BenchmarkNew(b *testing.B) {
	// c00 to c09 form a chain, f00 requires its end, and f01 to f09 require f00.
	chainAndFanOut := append(chainNodes(10), graph.Node{Name: "f00", Requires: []string{"c09"}})
	chainAndFanOut = append(chainAndFanOut, fanOutNodes(10)[1:]...)
	benchmarks := []struct {
		name  string
		nodes []graph.Node
	}{
		{name: "chain-20", nodes: chainNodes(20)},
		{name: "fan-out-20", nodes: fanOutNodes(20)},
		{name: "chain-10-then-fan-out-10", nodes: chainAndFanOut},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := graph.New(bm.nodes); err != nil {
					b.Fatalf("New returned error %q, expected a graph", err)
				}
			}
		})
	}
}
