package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/podplug/podplug/engine/api"
)

func kubeCommand() *cli.Command {
	return &cli.Command{
		Name:  "kube",
		Usage: "play, tear down and generate Kubernetes Pod manifests",
		Subcommands: []*cli.Command{
			{
				Name: "play",
				Usage: "create and start the pods of a manifest; on any error the pods it created " +
					"are removed again",
				ArgsUsage: "FILE|-",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "start", Value: true,
					Usage: "start the pods after creating them; false only creates them"}},
				Action: withClient(kubePlay),
			},
			{
				Name: "down",
				Usage: "stop and remove the pods a manifest names, with their emptyDir volumes; " +
					"images and persistentVolumeClaim volumes stay",
				ArgsUsage: "FILE|-",
				Action:    withClient(kubeDown),
			},
			{
				Name:      "generate",
				Usage:     "write a manifest of pods that kube play turns back into the same pods",
				ArgsUsage: "POD [POD...]",
				Flags: []cli.Flag{&cli.StringFlag{Name: "filename", Aliases: []string{"f"},
					Usage: "write the manifest to this file instead of standard output"}},
				Action: withClient(kubeGenerate),
			},
		},
	}
}

// readManifest reads the manifest named by the only argument, - meaning
// standard input, and returns it with the name to use in messages.
func readManifest(c *cli.Context, command string) (name string, data []byte, err error) {
	if c.NArg() != 1 {
		return "", nil, cli.Exit(command+": give one manifest file, or - for standard input", exitEngine)
	}
	name = c.Args().First()
	if name == "-" {
		if term.IsTerminal(int(os.Stdin.Fd())) {
			return "", nil, cli.Exit(command+": standard input is a terminal: give a file or pipe one in",
				exitEngine)
		}
		data, err = io.ReadAll(os.Stdin)
		name = "stdin"
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return "", nil, cli.Exit(fmt.Sprintf("%s: %v", command, err), exitEngine)
	}
	return name, data, nil
}

func printWarnings(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "Warning:", w)
	}
}

func kubePlay(c *cli.Context, client *api.Client) error {
	name, data, err := readManifest(c, "kube play")
	if err != nil {
		return err
	}
	req := api.KubePlayRequest{File: name, Manifest: string(data), NoStart: !c.Bool("start")}
	report, err := client.PlayKube(c.Context, req)
	if err != nil {
		return engineError(err)
	}
	printWarnings(report.Warnings)
	for _, pod := range report.Pods {
		fmt.Println(pod.Name)
	}
	return nil
}

func kubeDown(c *cli.Context, client *api.Client) error {
	name, data, err := readManifest(c, "kube down")
	if err != nil {
		return err
	}
	report, err := client.DownKube(c.Context, api.KubeDownRequest{File: name, Manifest: string(data)})
	if err != nil {
		return engineError(err)
	}
	printWarnings(report.Warnings)
	for _, pod := range report.Removed {
		fmt.Println(pod)
	}
	return nil
}

func kubeGenerate(c *cli.Context, client *api.Client) error {
	if c.NArg() == 0 {
		return cli.Exit("kube generate: give at least one pod name or ID", exitEngine)
	}
	report, err := client.GenerateKube(c.Context, c.Args().Slice())
	if err != nil {
		return engineError(err)
	}
	printWarnings(report.Warnings)
	if path := c.String("filename"); path != "" {
		if err := os.WriteFile(path, []byte(report.Manifest), 0o644); err != nil {
			return cli.Exit(fmt.Sprintf("kube generate: %v", err), exitEngine)
		}
		return nil
	}
	_, err = fmt.Print(report.Manifest)
	return err
}
