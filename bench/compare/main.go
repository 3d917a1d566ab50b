// Command compare benchmarks podplug against podman side by side and writes
// the result as a Markdown report. Both engines get the same pods and the
// same containers and run the same CLI commands, in alternation (podplug,
// podman, podplug, ...), so that load from other processes falls on both.
// Only the wall time of the command under test is measured: the set-up of
// each run (creating and starting the pod) is outside the timing.
//
// Usage, from the repository root, as root:
//
//	make build
//	go run ./bench/compare -out BENCHMARKS.md -runs 5 -scenarios all
//	go run ./bench/compare -runs 3 -scenarios create,start5,stop5
//	go run ./bench/compare -scenarios scale -scale-pods 50,500
//
// Each engine keeps its state under a private directory (-workdir): podplug
// runs with --root and --run-root there, podman with --root, --runroot,
// --tmpdir and private containers.conf, storage.conf and registries.conf
// files, so neither touches the host's own engines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config holds the command-line flags.
type config struct {
	out           string   // path of the Markdown report
	runs          int      // timed runs per engine and scenario
	scenarios     []string // scenario names, or "all"
	psPods        []int    // pod counts of the pod ps scenario
	scalePods     []int    // increasing pod counts of the scale scenario
	scale         bool     // run the scale scenario
	podplug       string   // podplug binary, with podplug-pause next to it
	podman        string   // podman binary
	rootfsScript  string   // script that writes the busybox root file system tarball
	workDir       string   // state of both engines; empty: a new temporary directory
	keep          bool     // keep the work directory afterwards
	cpuProfileDir string   // directory for the podplug daemon's CPU profiles, one per scenario
	goBench       string   // output of the Go micro-benchmarks to append to the report
	args          []string // the command line, for the report
}

func parseFlags(args []string) (*config, error) {
	cfg := &config{args: args}
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.StringVar(&cfg.out, "out", "BENCHMARKS.md", "path of the Markdown report")
	fs.IntVar(&cfg.runs, "runs", 5, "timed runs per engine and scenario")
	scenarios := fs.String("scenarios", "all",
		"comma-separated scenario names, or all: "+strings.Join(scenarioNames(), ","))
	psPods := fs.String("ps-pods", "50,500", "comma-separated pod counts for the pod ps scenario")
	scalePods := fs.String("scale-pods", "50,500",
		"comma-separated increasing pod counts at which the scale scenario measures")
	fs.StringVar(&cfg.podplug, "podplug", "bin/podplug",
		"podplug binary (podplug-pause must be next to it)")
	fs.StringVar(&cfg.podman, "podman", "podman", "podman binary")
	fs.StringVar(&cfg.rootfsScript, "rootfs-script", "scripts/busybox-rootfs.sh",
		"script that writes the busybox root file system tarball given as its argument")
	fs.StringVar(&cfg.workDir, "workdir", "",
		"directory for both engines' state (default: a new directory under $TMPDIR, removed at the end)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the work directory at the end")
	fs.StringVar(&cfg.cpuProfileDir, "cpu-profile-dir", "",
		"write a CPU profile of the podplug daemon per scenario to this directory")
	fs.StringVar(&cfg.goBench, "go-bench", "",
		"file with `go test -bench` output to append to the report")

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q: use flags only", fs.Args())
	}
	if cfg.runs < 1 {
		return nil, fmt.Errorf("invalid -runs %d: must be at least 1", cfg.runs)
	}

	cfg.scenarios = splitList(*scenarios)
	counts, err := parseCounts("-ps-pods", *psPods)
	if err != nil {
		return nil, err
	}
	cfg.psPods = counts
	if cfg.scalePods, err = parseCounts("-scale-pods", *scalePods); err != nil {
		return nil, err
	}
	for i := 1; i < len(cfg.scalePods); i++ {
		if cfg.scalePods[i] <= cfg.scalePods[i-1] {
			return nil, fmt.Errorf("invalid -scale-pods %q: counts must increase", *scalePods)
		}
	}
	if len(cfg.scalePods) == 0 {
		return nil, errors.New("invalid -scale-pods: give at least one pod count")
	}
	cfg.scale = slices.Contains(cfg.scenarios, "all") || slices.Contains(cfg.scenarios, scaleName)
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// parseCounts parses the comma-separated pod counts of the flag name.
func parseCounts(name, s string) ([]int, error) {
	var counts []int
	for _, item := range splitList(s) {
		n, err := strconv.Atoi(item)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("invalid %s value %q: use positive integers", name, item)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// run prepares both engines, runs the selected scenarios, writes the report
// and removes everything it started, also when interrupted.
func run(ctx context.Context, cfg *config) error {
	scenarios, err := selectScenarios(cfg.scenarios, cfg.psPods)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("run as root: both engines need root for runc and cgroups")
	}
	if cfg.cpuProfileDir != "" {
		if cfg.cpuProfileDir, err = filepath.Abs(cfg.cpuProfileDir); err != nil {
			return err
		}
		if err := os.MkdirAll(cfg.cpuProfileDir, 0o755); err != nil {
			return fmt.Errorf("create CPU profile directory: %w", err)
		}
	}
	lab, err := newLab(ctx, cfg)
	if lab != nil {
		defer lab.close()
	}
	if err != nil {
		return err
	}

	started := time.Now()
	machine := describeMachine()
	results := runScenarios(ctx, lab, scenarios, cfg.runs)
	var scale *scaleResult
	if cfg.scale && ctx.Err() == nil {
		scale = runScale(ctx, lab, cfg.scalePods)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted; no report written: %w", err)
	}
	machine.finish()

	rep := &report{cfg: cfg, lab: lab, machine: machine, results: results, scale: scale,
		started: started, elapsed: time.Since(started)}
	if err := rep.write(cfg.out); err != nil {
		return err
	}
	printSummary(os.Stderr, results, scale)
	fmt.Fprintf(os.Stderr, "report written to %s\n", cfg.out)
	return nil
}
