package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/api"
)

func podCommand() *cli.Command {
	return &cli.Command{
		Name:  "pod",
		Usage: "manage pods",
		Subcommands: []*cli.Command{
			podCreateCommand(),
			podOpCommand("start",
				"start pods: infra, init containers, then the rest in dependency order", false),
			podOpCommand("stop", "stop pods: dependents first, infra last", true),
			podOpCommand("restart", "stop and start pods", true),
			podOpCommand("pause", "pause every running container of pods", false),
			podOpCommand("unpause", "unpause every paused container of pods", false),
			podKillCommand(),
			podRmCommand(),
			podPsCommand(),
			podInspectCommand(),
			podExistsCommand(),
			podPruneCommand(),
			podLogsCommand(),
		},
	}
}

func podCreateCommand() *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "create a pod",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "pod name (default: generated)"},
			&cli.BoolFlag{Name: "infra", Value: true,
				Usage: "create an infra container that holds shared namespaces"},
			&cli.StringFlag{Name: "share",
				Usage: "namespaces to share: ipc, net, uts, pid, cgroup, comma-separated, or " +
					"none (default ipc,net,uts)"},
			&cli.StringFlag{Name: "exit-policy", Value: "continue",
				Usage: "continue, or stop the pod when its last container exits"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"},
				Usage: "label KEY=VALUE (repeatable)"},
			&cli.StringFlag{Name: "hostname", Usage: "hostname of the pod (default: its name)"},
			&cli.StringFlag{Name: "network",
				Usage: "bridge (default when the CNI plugins are installed), none (loopback only) or host"},
			&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"},
				Usage: "publish a port: [IP:][HOST-PORT:]CONTAINER-PORT[/udp] (repeatable; bridge only)"},
			&cli.Float64Flag{Name: "cpus", Usage: "CPU limit of the whole pod, in cores"},
			&cli.StringFlag{Name: "memory", Aliases: []string{"m"},
				Usage: "memory limit of the whole pod, such as 512m or 1g"},
		},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			labels, err := parseLabels(c.StringSlice("label"))
			if err != nil {
				return err
			}
			spec := engine.PodSpec{
				Name: c.String("name"), Labels: labels, Hostname: c.String("hostname"),
				NoInfra: !c.Bool("infra"), ExitPolicy: c.String("exit-policy"),
				Network: c.String("network"), CPUs: c.Float64("cpus"), Memory: c.String("memory"),
				Publish: c.StringSlice("publish"),
			}
			if c.IsSet("share") {
				spec.Share = strings.Split(c.String("share"), ",")
			}
			pod, err := client.CreatePod(c.Context, spec)
			if err != nil {
				return engineError(err)
			}
			fmt.Println(pod.ID)
			return nil
		}),
	}
}

func parseLabels(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, cli.Exit(fmt.Sprintf("label %q: use KEY=VALUE", kv), exitEngine)
		}
		out[k] = v
	}
	return out, nil
}

func stopFlags() []cli.Flag {
	return []cli.Flag{&cli.UintFlag{Name: "time", Aliases: []string{"t"},
		Usage: "seconds to wait before killing each container (default: each container's stop timeout)"}}
}

func podOpCommand(op, usage string, takesTimeout bool) *cli.Command {
	cmd := &cli.Command{
		Name:      op,
		Usage:     usage,
		ArgsUsage: "POD [POD...]",
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			opts := api.PodOpOptions{Timeout: timeoutFlag(c)}
			return eachRef(c, "pod "+op, func(ref string) error {
				return client.PodOp(c.Context, op, ref, opts)
			})
		}),
	}
	if takesTimeout {
		cmd.Flags = stopFlags()
	}
	return cmd
}

func podKillCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "send a signal to every running container of pods",
		ArgsUsage: "POD [POD...]",
		Flags: []cli.Flag{&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL",
			Usage: "signal name or number"}},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if _, err := engine.ParseSignal(c.String("signal")); err != nil {
				return engineError(err)
			}
			opts := api.PodOpOptions{Signal: c.String("signal")}
			return eachRef(c, "pod kill", func(ref string) error {
				return client.PodOp(c.Context, "kill", ref, opts)
			})
		}),
	}
}

func podRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove pods and their containers",
		ArgsUsage: "POD [POD...]",
		Flags: append(stopFlags(),
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "stop running containers first"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove every pod"}),
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			opts := api.PodOpOptions{Timeout: timeoutFlag(c), Force: c.Bool("force")}
			if c.Bool("all") {
				return removeAllPods(c, client, opts)
			}
			return eachRef(c, "pod rm", func(ref string) error {
				return client.RemovePod(c.Context, ref, opts)
			})
		}),
	}
}

func removeAllPods(c *cli.Context, client *api.Client, opts api.PodOpOptions) error {
	pods, err := client.ListPods(c.Context)
	if err != nil {
		return engineError(err)
	}
	var failed []string
	for _, p := range pods {
		if err := client.RemovePod(c.Context, p.ID, opts); err != nil {
			failed = append(failed, err.Error())
			continue
		}
		fmt.Println(p.ID)
	}
	if len(failed) > 0 {
		return cli.Exit(strings.Join(failed, "\n"), exitEngine)
	}
	return nil
}

func podPsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ps",
		Aliases: []string{"ls", "list"},
		Usage:   "list pods",
		Flags:   formatFlags(),
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			pods, err := client.ListPods(c.Context)
			if err != nil {
				return engineError(err)
			}
			cols := []column{
				{"POD ID", "{{short .ID}}"}, {"NAME", "{{.Name}}"}, {"STATUS", "{{.State}}"},
				{"CREATED", "{{.Created.Format \"2006-01-02 15:04:05\"}}"},
				{"INFRA ID", "{{short .InfraID}}"}, {"# OF CONTAINERS", "{{.Containers}}"},
			}
			return printList(c, pods, cols, func(p engine.PodSummary) string { return p.ID })
		}),
	}
}

func podInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a pod's configuration and containers",
		ArgsUsage: "POD",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"},
			Usage: "json or a Go template"}},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() != 1 {
				return cli.Exit("pod inspect: give one pod name or ID", exitEngine)
			}
			out, err := client.InspectPod(c.Context, c.Args().First())
			if err != nil {
				return engineError(err)
			}
			return printOne(c, out)
		}),
	}
}

func podExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "exit 0 if the pod exists, 1 if not",
		ArgsUsage: "POD",
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() != 1 {
				return cli.Exit("pod exists: give one pod name or ID", exitEngine)
			}
			_, err := client.InspectPod(c.Context, c.Args().First())
			if apiErr, ok := err.(*api.Error); ok && apiErr.Kind == api.KindNotFound {
				return cli.Exit("", 1)
			}
			return engineError(err)
		}),
	}
}

func podPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove every pod with no running container",
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			removed, err := client.PrunePods(c.Context)
			for _, name := range removed {
				fmt.Println(name)
			}
			return engineError(err)
		}),
	}
}

func podLogsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "show the logs of a pod's containers, each line prefixed with its container",
		ArgsUsage: "POD",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"},
				Usage: "keep printing until the containers stop"},
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "show only this container"},
		},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() != 1 {
				return cli.Exit("pod logs: give one pod name or ID", exitEngine)
			}
			opts := api.LogsOptions{Pod: true, Follow: c.Bool("follow"), Container: c.String("container")}
			return printLogs(c.Context, client, c.Args().First(), opts, true)
		}),
	}
}

func printLogs(ctx context.Context, client *api.Client, ref string, opts api.LogsOptions, prefix bool) error {
	err := client.Logs(ctx, ref, opts, func(e engine.LogEntry) error {
		out := os.Stdout
		if e.Stream == "stderr" {
			out = os.Stderr
		}
		if prefix {
			fmt.Fprintf(out, "%s %s\n", e.Container, e.Line)
		} else {
			fmt.Fprintln(out, e.Line)
		}
		return nil
	})
	return engineError(err)
}
