package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/api"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/policy"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the daemon: own the state under --root and serve the API on --run-root/podplug.sock",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "pause-binary",
				Usage: "program of infra containers (default: podplug-pause next to podplug)"},
			&cli.StringFlag{Name: "cpu-profile",
				Usage: "write a Go CPU profile of the daemon to this file when it stops, for " +
					"`go tool pprof`"},
			&cli.StringFlag{Name: "tenants-file", Value: api.DefaultTenantsFile,
				Usage: "operator file mapping users and groups to tenants; without it only root may connect"},
			&cli.StringFlag{Name: "policy-dir",
				Usage: "directory or bundle of Rego policies gating every operation (default " +
					"/etc/podplug/policies when it exists; none means allow all)"},
			&cli.StringFlag{Name: "decision-log",
				Usage: "append every policy decision to this file as JSON lines"},
		},
		Action: func(c *cli.Context) error {
			logger, err := newLogger(c.String("log-level"))
			if err != nil {
				return cli.Exit(err.Error(), exitEngine)
			}
			if path := c.String("cpu-profile"); path != "" {
				stopProfile, err := startCPUProfile(path)
				if err != nil {
					return cli.Exit(err.Error(), exitEngine)
				}
				defer stopProfile()
			}
			if err := serve(c, logger); err != nil {
				logger.Error("daemon stopped", "error", err)
				return cli.Exit(err.Error(), exitEngine)
			}
			return nil
		},
	}
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

func serve(c *cli.Context, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	eng, err := engine.New(engine.Config{
		Root: c.String("root"), RunRoot: c.String("run-root"),
		PauseBinary: c.String("pause-binary"), Logger: logger,
	})
	if err != nil {
		return err
	}
	defer eng.Close()
	pidFile := filepath.Join(c.String("run-root"), "daemon.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)
	opts, closeLog, err := serverOptions(ctx, c, logger)
	if err != nil {
		return err
	}
	defer closeLog()
	srv := api.NewServer(eng, opts)
	eng.SetStartCheck(srv.StartCheck)
	go reloadOnHUP(ctx, opts.Policy, logger)
	socket := socketPath(c)
	logger.Info("daemon started", "pid", os.Getpid(), "root", c.String("root"), "socket", socket)
	err = srv.Serve(ctx, socket)
	logger.Info("daemon stopping; containers keep running")
	return err
}

// serverOptions loads the tenants file and the policies. A policy that does
// not compile stops the daemon before it serves, naming file and line.
func serverOptions(ctx context.Context, c *cli.Context, logger *slog.Logger) (api.Options, func(), error) {
	opts := api.Options{Logger: logger}
	noop := func() {}
	tenants, err := api.LoadTenants(c.String("tenants-file"))
	if err != nil {
		return opts, noop, err
	}
	opts.Tenants = tenants
	dir := c.String("policy-dir")
	if dir == "" {
		if _, err := os.Stat("/etc/podplug/policies"); err == nil {
			dir = "/etc/podplug/policies"
		}
	}
	if dir == "" {
		if tenants != nil {
			logger.Warn("tenants are configured but no policies are loaded: every peer on the " +
				"socket may do anything; use --policy-dir")
		}
		return opts, noop, nil
	}
	popts := policy.Options{Dir: dir, Logger: logger}
	closeLog := noop
	if path := c.String("decision-log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return opts, noop, fmt.Errorf("decision log: %w", err)
		}
		popts.DecisionLog, closeLog = f, func() { f.Close() }
	}
	eng, err := policy.Load(ctx, popts)
	if err != nil {
		closeLog()
		return opts, noop, err
	}
	opts.Policy, opts.PolicyDir = eng, dir
	return opts, closeLog, nil
}

// reloadOnHUP reloads the policies on SIGHUP; a set that fails to compile
// is refused and the previous one stays.
func reloadOnHUP(ctx context.Context, p *policy.Engine, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if p == nil {
				logger.Warn("SIGHUP: no policies to reload")
				continue
			}
			if err := p.Reload(ctx); err != nil {
				logger.Error("policy reload refused; previous policies stay", "error", err)
				continue
			}
			logger.Info("policies reloaded on SIGHUP")
		}
	}
}

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "show the engine's versions, directories and counts",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"},
			Usage: "json or a Go template"}},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			info, err := client.Info(c.Context)
			if err != nil {
				return engineError(err)
			}
			if c.IsSet("format") {
				return printOne(c, info)
			}
			fmt.Printf("version:        %s\n", info.Version)
			fmt.Printf("go:             %s\n", info.GoVersion)
			fmt.Printf("runc:           %s\n", info.Runc)
			fmt.Printf("conmon:         %s\n", info.Conmon)
			fmt.Printf("cgroup version: %s\n", info.CgroupVersion)
			fmt.Printf("root:           %s\n", c.String("root"))
			fmt.Printf("run root:       %s\n", c.String("run-root"))
			fmt.Printf("daemon pid:     %d\n", info.DaemonPID)
			fmt.Printf("pods:           %d\n", info.Pods)
			fmt.Printf("containers:     %d (%d running)\n", info.Containers, info.Running)
			fmt.Printf("images:         %d\n", info.Images)
			return nil
		}),
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "show the client's version and, if one is listening, the daemon's",
		Action: func(c *cli.Context) error {
			fmt.Printf("Client: podplug %s (%s %s/%s)\n", api.Version, runtime.Version(),
				runtime.GOOS, runtime.GOARCH)
			ctx, cancel := context.WithTimeout(c.Context, 2*time.Second)
			defer cancel()
			client := api.NewClient(filepath.Join(c.String("run-root"), "podplug.sock"))
			if info, err := client.Info(ctx); err == nil {
				fmt.Printf("Server: podplug %s (pid %d)\n", info.Version, info.DaemonPID)
			}
			return nil
		},
	}
}

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:  "events",
		Usage: "stream events as they happen",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "since",
				Usage: "also show past events since a time (RFC 3339) or a duration ago such as 10m"},
			&cli.StringSliceFlag{Name: "filter", Usage: "pod=NAME or type=pod|container|image (repeatable)"},
			&cli.StringFlag{Name: "format", Usage: "json or a Go template"},
		},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			opts, err := eventOptions(c)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			err = client.Events(ctx, opts, func(ev *model.Event) error { return printEvent(c, ev) })
			if ctx.Err() != nil {
				return nil
			}
			return engineError(err)
		}),
	}
}

func eventOptions(c *cli.Context) (api.EventsOptions, error) {
	var opts api.EventsOptions
	if since := c.String("since"); since != "" {
		if d, err := time.ParseDuration(since); err == nil {
			opts.Since = time.Now().Add(-d).Format(time.RFC3339Nano)
		} else if t, err := time.Parse(time.RFC3339, since); err == nil {
			opts.Since = t.Format(time.RFC3339Nano)
		} else {
			return opts, cli.Exit(fmt.Sprintf("since %q: use a time such as "+
				"2026-01-02T15:04:05Z or a duration such as 10m", since), exitEngine)
		}
	}
	for _, f := range c.StringSlice("filter") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "pod":
			opts.Pod = v
		case "type":
			opts.Type = v
		default:
			return opts, cli.Exit(fmt.Sprintf("filter %q: use pod=NAME or type=TYPE", f), exitEngine)
		}
	}
	return opts, nil
}

func printEvent(c *cli.Context, ev *model.Event) error {
	switch f := c.String("format"); {
	case f == "json":
		return printJSONLine(ev)
	case f != "":
		return printTemplate([]*model.Event{ev}, f)
	}
	line := fmt.Sprintf("%s %s %s %s (name=%s", ev.Time.Format(time.RFC3339Nano), ev.Type,
		ev.Action, shortRef(ev.ID), ev.Name)
	if ev.PodName != "" && ev.Type != "pod" {
		line += ", pod=" + ev.PodName
	}
	for k, v := range ev.Attributes {
		line += ", " + k + "=" + v
	}
	fmt.Println(line + ")")
	return nil
}

func shortRef(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
