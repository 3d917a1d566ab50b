package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/api"
)

func createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a container in a pod",
		ArgsUsage: "IMAGE [COMMAND [ARG...]]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "pod", Usage: "pod to create the container in (required)"},
			&cli.StringFlag{Name: "name", Usage: "container name (default: generated)"},
			&cli.StringFlag{Name: "requires",
				Usage: "containers of the pod that must run first, comma-separated"},
			&cli.StringFlag{Name: "init-ctr",
				Usage: "make this an init container: once (removed after success) or always"},
			&cli.StringFlag{Name: "restart", Value: "no",
				Usage: "restart policy: no, on-failure[:N] or always"},
			&cli.StringFlag{Name: "stop-signal",
				Usage: "signal that stops the container (default: the image's, else SIGTERM)"},
			&cli.UintFlag{Name: "stop-timeout", Value: 10,
				Usage: "seconds to wait after the stop signal before killing"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"},
				Usage: "environment variable KEY=VALUE (repeatable)"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"},
				Usage: "working directory inside the container"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"},
				Usage: "user[:group] to run as, name or number"},
			&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"},
				Usage: "HOST-PATH-OR-VOLUME:CONTAINER-PATH[:ro] (repeatable)"},
			&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs at this container path (repeatable)"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"},
				Usage: "label KEY=VALUE (repeatable)"},
		},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() < 1 {
				return cli.Exit("create: give an image, then optionally a command", exitEngine)
			}
			labels, err := parseLabels(c.StringSlice("label"))
			if err != nil {
				return err
			}
			spec := engine.ContainerSpec{
				Pod: c.String("pod"), Name: c.String("name"), Image: c.Args().First(),
				Command: c.Args().Tail(), InitMode: c.String("init-ctr"),
				Restart: c.String("restart"), StopSignal: c.String("stop-signal"),
				Env: c.StringSlice("env"), WorkDir: c.String("workdir"), User: c.String("user"),
				Volumes: c.StringSlice("volume"), Tmpfs: c.StringSlice("tmpfs"), Labels: labels,
			}
			if c.IsSet("requires") {
				spec.Requires = strings.Split(c.String("requires"), ",")
			}
			if c.IsSet("stop-timeout") {
				t := c.Uint("stop-timeout")
				spec.StopTimeout = &t
			}
			ctr, err := client.CreateContainer(c.Context, spec)
			if err != nil {
				return engineError(err)
			}
			fmt.Println(ctr.ID)
			return nil
		}),
	}
}

func containerOpCommand(op, usage string, takesTimeout bool) *cli.Command {
	cmd := &cli.Command{
		Name:      op,
		Usage:     usage,
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			opts := api.PodOpOptions{Timeout: timeoutFlag(c)}
			return eachRef(c, op, func(ref string) error {
				return client.ContainerOp(c.Context, op, ref, opts)
			})
		}),
	}
	if takesTimeout {
		cmd.Flags = stopFlags()
	}
	return cmd
}

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "send a signal to containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL",
			Usage: "signal name or number"}},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if _, err := engine.ParseSignal(c.String("signal")); err != nil {
				return engineError(err)
			}
			opts := api.PodOpOptions{Signal: c.String("signal")}
			return eachRef(c, "kill", func(ref string) error {
				return client.ContainerOp(c.Context, "kill", ref, opts)
			})
		}),
	}
}

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: append(stopFlags(),
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "stop a running container first"}),
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			opts := api.PodOpOptions{Timeout: timeoutFlag(c), Force: c.Bool("force")}
			return eachRef(c, "rm", func(ref string) error {
				return client.RemoveContainer(c.Context, ref, opts)
			})
		}),
	}
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a container's configuration and state",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"},
			Usage: "json or a Go template"}},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() != 1 {
				return cli.Exit("inspect: give one container name or ID", exitEngine)
			}
			out, err := client.InspectContainer(c.Context, c.Args().First())
			if err != nil {
				return engineError(err)
			}
			return printOne(c, out)
		}),
	}
}

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "show a container's output",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "follow", Aliases: []string{"f"},
			Usage: "keep printing until the container stops"}},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() != 1 {
				return cli.Exit("logs: give one container name or ID", exitEngine)
			}
			opts := api.LogsOptions{Follow: c.Bool("follow")}
			return printLogs(c.Context, client, c.Args().First(), opts, false)
		}),
	}
}

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "wait for containers to stop and print their exit codes",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() == 0 {
				return cli.Exit("wait: give at least one container name or ID", exitEngine)
			}
			for _, ref := range c.Args().Slice() {
				code, err := client.WaitContainer(c.Context, ref)
				if err != nil {
					return engineError(err)
				}
				fmt.Println(code)
			}
			return nil
		}),
	}
}

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in a running container; exits with the command's exit code",
		ArgsUsage: "CONTAINER COMMAND [ARG...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"},
				Usage: "pass standard input to the command"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "extra environment KEY=VALUE"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "user[:group] to run as"},
		},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() < 2 {
				return cli.Exit("exec: give a container and a command", exitEngine)
			}
			spec := engine.ExecSpec{Command: c.Args().Tail(), Env: c.StringSlice("env"),
				WorkDir: c.String("workdir"), User: c.String("user")}
			stdio := engine.ExecIO{Stdout: os.Stdout, Stderr: os.Stderr}
			if c.Bool("interactive") {
				stdio.Stdin = os.Stdin
			}
			code, err := client.Exec(c.Context, c.Args().First(), spec, stdio)
			if err != nil {
				return engineError(err)
			}
			if code != 0 {
				return cli.Exit("", code)
			}
			return nil
		}),
	}
}

func psCommand() *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "list containers",
		Flags: append(formatFlags(), &cli.BoolFlag{Name: "all", Aliases: []string{"a"},
			Usage: "show every container, not only running ones"}),
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			ctrs, err := client.ListContainers(c.Context, c.Bool("all"))
			if err != nil {
				return engineError(err)
			}
			cols := []column{
				{"CONTAINER ID", "{{short .ID}}"}, {"IMAGE", "{{.Image}}"},
				{"COMMAND", "{{.Command}}"}, {"STATUS", "{{.Status}}"},
				{"POD", "{{.PodName}}"}, {"NAMES", "{{.Name}}"},
			}
			return printList(c, ctrs, cols, func(s engine.ContainerSummary) string { return s.ID })
		}),
	}
}
