// Command podplug is the pod engine's CLI and, with `podplug serve`, its
// daemon. Commands read like podman's: `podplug pod create`, `podplug pod
// start web`, `podplug ps -a`.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/podplug/podplug/engine/api"
)

// Exit codes, as podman uses them.
const (
	exitOK     = 0
	exitEngine = 125 // the engine failed or refused the request
)

func main() {
	app := newApp()
	err := app.Run(reorderArgs(app, os.Args))
	if err == nil {
		return
	}
	var exitErr cli.ExitCoder
	if errors.As(err, &exitErr) {
		if msg := exitErr.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "Error:", msg)
		}
		os.Exit(exitErr.ExitCode())
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(exitEngine)
}

func newApp() *cli.App {
	return &cli.App{
		Name:    "podplug",
		Usage:   "run pods of OCI containers with runc, extended by Wasm plugins",
		Version: api.Version,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: "/var/lib/podplug", EnvVars: []string{"PODPLUG_ROOT"},
				Usage: "directory for state: database, images, container files"},
			&cli.StringFlag{Name: "run-root", Value: "/run/podplug", EnvVars: []string{"PODPLUG_RUN_ROOT"},
				Usage: "directory for runtime files: the API socket, runc and conmon state"},
			&cli.StringFlag{Name: "log-level", Value: "info",
				Usage: "daemon log level: debug, info, warn or error"},
		},
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{
			podCommand(),
			kubeCommand(),
			createCommand(),
			containerOpCommand("start", "start containers, after the ones they require", false),
			containerOpCommand("stop", "stop containers", true),
			containerOpCommand("restart", "restart containers", true),
			killCommand(),
			rmCommand(),
			inspectCommand(),
			logsCommand(),
			waitCommand(),
			execCommand(),
			psCommand(),
			imageCommand(),
			pluginCommand(),
			policyCommand(),
			whoamiCommand(),
			loadCommand(),
			pullCommand(),
			eventsCommand(),
			infoCommand(),
			versionCommand(),
			serveCommand(),
		},
	}
}
