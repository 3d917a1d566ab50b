package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ExecOptions describe a process to run in a running container.
type ExecOptions struct {
	Process *specs.Process
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
}

// Exec runs a process in the container with `runc exec` and returns its exit
// code once it ends. Cancelling ctx kills the runc process, and with it
// the process in the container.
func (r *Runtime) Exec(ctx context.Context, id string, opts ExecOptions) (int, error) {
	processFile, err := writeProcess(opts.Process)
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	defer os.Remove(processFile)

	cmd := exec.CommandContext(ctx, r.runc, "--root", r.runcRoot, "exec",
		"--process", processFile, id)
	cmd.Stdin = opts.Stdin
	cmd.Stdout = opts.Stdout
	cmd.Stderr = opts.Stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", id, err)
	}
	return 0, nil
}

func writeProcess(p *specs.Process) (string, error) {
	f, err := os.CreateTemp("", "podplug-exec-*.json")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := json.NewEncoder(f).Encode(p); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
