package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podplug/podplug/engine/api"
)

// daemonStartTimeout is how long the CLI waits for a daemon it started.
const daemonStartTimeout = 15 * time.Second

func socketPath(c *cli.Context) string {
	return filepath.Join(c.String("run-root"), "podplug.sock")
}

// connect returns a client for the daemon, starting one when run as root and
// none answers, so users never need a separate step.
func connect(c *cli.Context) (*api.Client, error) {
	client := api.NewClient(socketPath(c))
	err := client.Ping(c.Context)
	if err == nil {
		return client, nil
	}
	if !errors.Is(err, api.ErrNoDaemon) || os.Geteuid() != 0 {
		return nil, fmt.Errorf("connect to the podplug daemon: %w", err)
	}
	if err := startDaemon(c); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(daemonStartTimeout)
	for time.Now().Before(deadline) {
		if err = client.Ping(c.Context); err == nil {
			return client, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("the podplug daemon did not start within %s: see %s: %w",
		daemonStartTimeout, daemonLogPath(c), err)
}

func daemonLogPath(c *cli.Context) string {
	return filepath.Join(c.String("run-root"), "daemon.log")
}

// startDaemon runs `podplug serve` detached from this process, logging to a
// file under --run-root.
func startDaemon(c *cli.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	if err := os.MkdirAll(c.String("run-root"), 0o700); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	logFile, err := os.OpenFile(daemonLogPath(c), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(exe, "--root", c.String("root"), "--run-root", c.String("run-root"),
		"--log-level", c.String("log-level"), "serve")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	return cmd.Process.Release()
}

// withClient wraps an action that needs the daemon.
func withClient(action func(*cli.Context, *api.Client) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		client, err := connect(c)
		if err != nil {
			return cli.Exit(err.Error(), exitEngine)
		}
		return action(c, client)
	}
}

// engineError turns an error into the exit podman would give: 125 with the
// message, every container's failure listed for a partial failure.
func engineError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return cli.Exit("", exitEngine)
	}
	return cli.Exit(err.Error(), exitEngine)
}

// eachRef runs fn for every argument, prints each that succeeded like
// podman does, and reports every failure at the end.
func eachRef(c *cli.Context, what string, fn func(ref string) error) error {
	if c.NArg() == 0 {
		return cli.Exit(fmt.Sprintf("%s: give at least one name or ID", what), exitEngine)
	}
	var failed []string
	for _, ref := range c.Args().Slice() {
		if err := fn(ref); err != nil {
			failed = append(failed, err.Error())
			continue
		}
		fmt.Println(ref)
	}
	if len(failed) == 0 {
		return nil
	}
	for _, msg := range failed[:len(failed)-1] {
		fmt.Fprintln(os.Stderr, "Error:", msg)
	}
	return cli.Exit(failed[len(failed)-1], exitEngine)
}

func timeoutFlag(c *cli.Context) *uint {
	if !c.IsSet("time") {
		return nil
	}
	t := c.Uint("time")
	return &t
}
