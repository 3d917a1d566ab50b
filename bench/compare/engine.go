package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// commandTimeout bounds every engine command, set-up and clean-up included,
// so that a hung engine fails the run instead of the whole benchmark.
const commandTimeout = 10 * time.Minute

// engine is one pod engine driven through its CLI. podplug and podman take
// the same subcommands and flags for everything the scenarios use, so an
// engine differs from the other only in its program, global flags and
// environment.
type engine struct {
	name string
	argv []string // program and global flags, placed before the subcommand
	env  []string // KEY=VALUE added to this process's environment
}

func (e *engine) command(ctx context.Context, args ...string) *exec.Cmd {
	argv := append(append([]string{}, e.argv...), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), e.env...)
	return cmd
}

// run runs one command and returns its standard output. The error contains
// the command and its standard error.
func (e *engine) run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := e.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), e.commandError(args, err, stderr.String())
	}
	return stdout.String(), nil
}

// timed runs one command with its standard output sent to /dev/null and
// returns the wall time from just before the fork to the exit.
func (e *engine) timed(ctx context.Context, args ...string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := e.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)

	if err != nil {
		return elapsed, e.commandError(args, err, stderr.String())
	}
	return elapsed, nil
}

func (e *engine) commandError(args []string, err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if len(msg) > 600 {
		msg = msg[:600] + "..."
	}
	if msg == "" {
		return fmt.Errorf("%s %s: %w", e.name, strings.Join(args, " "), err)
	}
	return fmt.Errorf("%s %s: %w: %s", e.name, strings.Join(args, " "), err, msg)
}

// containerStates returns the state of every container of a pod, infra
// included, as the engine's pod inspect reports it ("running", "exited",
// "paused", ...). The same Go template works on both engines.
func (e *engine) containerStates(ctx context.Context, pod string) ([]string, error) {
	out, err := e.run(ctx, "pod", "inspect", pod,
		"--format", "{{range .Containers}}{{.State}} {{end}}")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}
