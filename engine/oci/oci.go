// Package oci runs containers with runc under conmon, the way podman does:
// conmon creates the container with `runc create`, keeps its logs in the
// k8s-file format and writes its exit code to a file named by the container
// ID, even when the daemon is down; the daemon then starts, signals, pauses
// and deletes it with runc directly.
package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config sets where the runtime keeps its files and which binaries it runs.
type Config struct {
	// RuncPath and ConmonPath default to the binaries found in PATH.
	RuncPath   string
	ConmonPath string
	// Dir holds runc's state, exit files, conmon's files and sockets.
	// Keep it short: unix socket paths under it are limited to 107 bytes.
	Dir    string
	Logger *slog.Logger
}

// Runtime drives runc and conmon. It is safe for concurrent use.
type Runtime struct {
	runc, conmon string
	runcRoot     string
	exitDir      string
	persistDir   string
	socketDir    string
	log          *slog.Logger
}

// New checks that runc and conmon exist and creates the runtime's
// directories.
func New(cfg Config) (*Runtime, error) {
	runc, err := findBinary(cfg.RuncPath, "runc")
	if err != nil {
		return nil, err
	}
	conmon, err := findBinary(cfg.ConmonPath, "conmon")
	if err != nil {
		return nil, err
	}
	r := &Runtime{
		runc:       runc,
		conmon:     conmon,
		runcRoot:   filepath.Join(cfg.Dir, "runc"),
		exitDir:    filepath.Join(cfg.Dir, "exits"),
		persistDir: filepath.Join(cfg.Dir, "persist"),
		socketDir:  filepath.Join(cfg.Dir, "s"),
		log:        cfg.Logger,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for _, dir := range []string{r.runcRoot, r.exitDir, r.persistDir, r.socketDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create runtime directory: %w", err)
		}
	}
	return r, nil
}

func findBinary(path, name string) (string, error) {
	if path == "" {
		path = name
	}
	found, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("%s not found (install it with `apt-get install %s`): %w",
			path, name, ErrMissingBinary)
	}
	return found, nil
}

// Versions returns the first line of `runc --version` and `conmon --version`.
func (r *Runtime) Versions(ctx context.Context) (runc, conmon string) {
	firstLine := func(bin string) string {
		out, err := exec.CommandContext(ctx, bin, "--version").Output()
		if err != nil {
			return "unknown"
		}
		line, _, _ := strings.Cut(string(out), "\n")
		return strings.TrimSpace(line)
	}
	return firstLine(r.runc), firstLine(r.conmon)
}

// ExitDir is the directory conmon writes exit files into, one per container
// ID; the engine watches it.
func (r *Runtime) ExitDir() string { return r.exitDir }

// CreateOptions describe a container for Create.
type CreateOptions struct {
	ID string
	// Bundle holds config.json; conmon's pid files go there too.
	Bundle  string
	LogPath string
}

// Created holds the process IDs that Create reports.
type Created struct {
	PID       int
	ConmonPID int
}

// Create has conmon run `runc create` for the bundle and waits until the
// container's process exists (it does not run the user's program yet).
// Stale exit and OOM files of an earlier run are removed first.
func (r *Runtime) Create(ctx context.Context, opts CreateOptions) (Created, error) {
	r.clearExit(opts.ID)
	if err := os.MkdirAll(r.persist(opts.ID), 0o700); err != nil {
		return Created{}, fmt.Errorf("create container %s: %w", opts.ID, err)
	}
	syncRead, syncWrite, err := os.Pipe()
	if err != nil {
		return Created{}, fmt.Errorf("create container %s: sync pipe: %w", opts.ID, err)
	}
	defer syncRead.Close()
	conmonPID, err := r.startConmon(ctx, opts, syncWrite)
	syncWrite.Close()
	if err != nil {
		return Created{}, err
	}
	pid, err := readSyncPipe(ctx, syncRead)
	if err != nil {
		return Created{}, fmt.Errorf("create container %s: %w", opts.ID, err)
	}
	return Created{PID: pid, ConmonPID: conmonPID}, nil
}

func (r *Runtime) startConmon(ctx context.Context, opts CreateOptions, sync *os.File) (int, error) {
	pidFile := filepath.Join(opts.Bundle, "conmon.pid")
	args := []string{
		"--api-version", "1",
		"-c", opts.ID, "-u", socketName(opts.ID), "-n", opts.ID,
		"-r", r.runc, "-b", opts.Bundle,
		"-p", filepath.Join(opts.Bundle, "pidfile"),
		"--exit-dir", r.exitDir,
		"--persist-dir", r.persist(opts.ID),
		"--socket-dir-path", r.socketDir,
		"-l", "k8s-file:" + opts.LogPath,
		"--log-level", "error",
		"--runtime-arg", "--root", "--runtime-arg", r.runcRoot,
		"--conmon-pidfile", pidFile,
	}
	stderr, err := os.CreateTemp(opts.Bundle, "conmon-stderr-")
	if err != nil {
		return 0, fmt.Errorf("create container %s: %w", opts.ID, err)
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()

	cmd := exec.CommandContext(ctx, r.conmon, args...)
	cmd.Env = append(os.Environ(), "_OCI_SYNCPIPE=3")
	cmd.ExtraFiles = []*os.File{sync}
	// A file, not a pipe: conmon forks and the child keeps stderr open, so a
	// pipe would hold Wait until the container exits.
	cmd.Stderr = stderr
	cmd.Stdout = stderr
	// conmon must outlive the daemon and must not get the daemon's signals.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(stderr.Name())
		return 0, fmt.Errorf("create container %s: conmon: %w: %s",
			opts.ID, err, strings.TrimSpace(string(msg)))
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, fmt.Errorf("create container %s: conmon pid file: %w", opts.ID, err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid, nil
}

// readSyncPipe reads conmon's report on `runc create`: the container's pid,
// or a negative number and runc's error message.
func readSyncPipe(ctx context.Context, f *os.File) (int, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Minute)
	}
	_ = f.SetReadDeadline(deadline)
	var msg struct {
		Data    int    `json:"data"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(f).Decode(&msg); err != nil {
		return 0, fmt.Errorf("no report from conmon: %w", err)
	}
	if msg.Data <= 0 {
		return 0, fmt.Errorf("runc create: %s", cleanRuncMessage(msg.Message))
	}
	return msg.Data, nil
}

// cleanRuncMessage turns runc's logfmt error line into its message.
func cleanRuncMessage(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "msg=\""); i >= 0 {
		rest := s[i+5:]
		if j := strings.LastIndex(rest, "\""); j >= 0 {
			rest = rest[:j]
		}
		s = strings.ReplaceAll(rest, `\"`, `"`)
	}
	return s
}

func (r *Runtime) persist(id string) string { return filepath.Join(r.persistDir, id) }

func (r *Runtime) clearExit(id string) {
	_ = os.Remove(filepath.Join(r.exitDir, id))
	_ = os.Remove(filepath.Join(r.persist(id), "exit"))
	_ = os.Remove(filepath.Join(r.persist(id), "oom"))
}

// Start runs the user's program in a created container.
func (r *Runtime) Start(ctx context.Context, id string) error {
	return r.runcCmd(ctx, "start", id)
}

// Kill sends sig to the container's init process, or with all to every
// process in it (needed when it shares the infra's PID namespace).
func (r *Runtime) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	args := []string{"kill"}
	if all {
		args = append(args, "--all")
	}
	return r.runcCmd(ctx, append(args, id, strconv.Itoa(int(sig)))...)
}

// Pause freezes every process of the container.
func (r *Runtime) Pause(ctx context.Context, id string) error {
	return r.runcCmd(ctx, "pause", id)
}

// Resume thaws a paused container.
func (r *Runtime) Resume(ctx context.Context, id string) error {
	return r.runcCmd(ctx, "resume", id)
}

// Exists reports whether runc has a record of the container, by looking
// for its state directory instead of running runc.
func (r *Runtime) Exists(id string) bool {
	_, err := os.Stat(filepath.Join(r.runcRoot, id))
	return err == nil
}

// Delete removes runc's record of a stopped container; with force it kills a
// running one first. A container runc does not know is not an error.
func (r *Runtime) Delete(ctx context.Context, id string, force bool) error {
	args := []string{"delete"}
	if force {
		args = append(args, "--force")
	}
	err := r.runcCmd(ctx, append(args, id)...)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Cleanup removes conmon's per-container files once the engine recorded the
// exit.
func (r *Runtime) Cleanup(id string) {
	r.clearExit(id)
	_ = os.RemoveAll(r.persist(id))
	_ = os.Remove(filepath.Join(r.socketDir, socketName(id)))
}

// socketName is the name of the container's entry in the socket directory.
// conmon puts its attach socket below it, and a Unix socket path must stay
// under 108 bytes, so the 64-character ID is shortened.
func socketName(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// State is runc's view of a container.
type State struct {
	Status string `json:"status"` // created, running, pausing, paused, stopped
	PID    int    `json:"pid"`
}

// State queries runc for the container's status; ErrNotFound when runc has no
// such container.
func (r *Runtime) State(ctx context.Context, id string) (State, error) {
	out, err := r.runcOutput(ctx, "state", id)
	if err != nil {
		return State{}, err
	}
	var st State
	if err := json.Unmarshal(out, &st); err != nil {
		return State{}, fmt.Errorf("runc state %s: %w", id, err)
	}
	return st, nil
}

// Exit is the record conmon writes when a container's process ends.
type Exit struct {
	Code      int
	OOMKilled bool
	// Time is when conmon wrote the exit file.
	Time time.Time
}

// ReadExit returns the recorded exit, if conmon wrote one.
func (r *Runtime) ReadExit(id string) (Exit, bool) {
	path := filepath.Join(r.exitDir, id)
	data, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return Exit{}, false
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return Exit{}, false
	}
	exit := Exit{Code: code, Time: time.Now()}
	if fi, err := os.Stat(path); err == nil {
		exit.Time = fi.ModTime()
	}
	if _, err := os.Stat(filepath.Join(r.persist(id), "oom")); err == nil {
		exit.OOMKilled = true
	}
	return exit, true
}

func (r *Runtime) runcCmd(ctx context.Context, args ...string) error {
	_, err := r.runcOutput(ctx, args...)
	return err
}

func (r *Runtime) runcOutput(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{"--root", r.runcRoot}, args...)
	cmd := exec.CommandContext(ctx, r.runc, full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		return out, nil
	}
	msg := cleanRuncMessage(stderr.String())
	switch {
	case strings.Contains(msg, "does not exist"):
		return nil, fmt.Errorf("runc %s: %w", strings.Join(args, " "), ErrNotFound)
	case strings.Contains(msg, "not running"), strings.Contains(msg, "process already finished"):
		return nil, fmt.Errorf("runc %s: %w", strings.Join(args, " "), ErrNotRunning)
	}
	if msg == "" {
		msg = err.Error()
	}
	return nil, fmt.Errorf("runc %s: %s", strings.Join(args, " "), msg)
}

// List returns runc's state of every container in its root, by ID.
func (r *Runtime) List(ctx context.Context) (map[string]State, error) {
	out, err := r.runcOutput(ctx, "list", "--format", "json")
	if err != nil {
		return nil, err
	}
	var list []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		PID    int    `json:"pid"`
	}
	if len(bytes.TrimSpace(out)) > 0 && string(bytes.TrimSpace(out)) != "null" {
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, fmt.Errorf("runc list: %w", err)
		}
	}
	states := make(map[string]State, len(list))
	for _, c := range list {
		states[c.ID] = State{Status: c.Status, PID: c.PID}
	}
	return states, nil
}
