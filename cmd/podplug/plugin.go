package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/podplug/podplug/engine/api"
	"github.com/podplug/podplug/hooks"
	"github.com/podplug/podplug/plugins"
)

func pluginCommand() *cli.Command {
	return &cli.Command{
		Name:  "plugin",
		Usage: "manage Wasm hook plugins",
		Subcommands: []*cli.Command{
			pluginInstallCommand(),
			{
				Name: "ls", Aliases: []string{"list"}, Usage: "list plugins in the order they run",
				Flags: formatFlags(), Action: withClient(pluginList),
			},
			{
				Name:      "inspect",
				Usage:     "show a plugin's manifest, state and failure counts",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"},
					Usage: "json or a Go template"}},
				Action: withClient(func(c *cli.Context, client *api.Client) error {
					info, err := client.InspectPlugin(c.Context, c.Args().First())
					if err != nil {
						return engineError(err)
					}
					return printOne(c, info)
				}),
			},
			pluginOpCommand("enable", "enable plugins (validates their config again)"),
			pluginOpCommand("disable", "disable plugins; required ones then block pod starts"),
			{
				Name: "rm", Usage: "remove plugins; their key-value data stays", ArgsUsage: "NAME...",
				Action: withClient(func(c *cli.Context, client *api.Client) error {
					return eachRef(c, "plugin rm", func(name string) error {
						return client.RemovePlugin(c.Context, name)
					})
				}),
			},
			pluginTestCommand(),
		},
	}
}

func pluginInstallCommand() *cli.Command {
	return &cli.Command{
		Name:      "install",
		Usage:     "install a plugin module; without --manifest it gets defaults and the hooks it exports",
		ArgsUsage: "FILE.wasm",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "manifest", Usage: "manifest file (YAML or JSON)"},
			&cli.StringFlag{Name: "name",
				Usage: "plugin name when no manifest is given (default: the file name)"},
			&cli.StringFlag{Name: "grant",
				Usage: "host capabilities to grant: clock, random (comma-separated)"},
		},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			if c.NArg() != 1 {
				return cli.Exit("plugin install: give one .wasm file", exitEngine)
			}
			wasm, manifest, name, err := readPluginFiles(c)
			if err != nil {
				return err
			}
			var grants []string
			if g := c.String("grant"); g != "" {
				grants = strings.Split(g, ",")
			}
			info, err := client.InstallPlugin(c.Context, wasm, manifest, name, grants)
			if err != nil {
				return engineError(err)
			}
			fmt.Printf("%s %s %s\n", info.Name, info.Version, info.SHA256)
			return nil
		}),
	}
}

func readPluginFiles(c *cli.Context) (wasm, manifest []byte, name string, err error) {
	path := c.Args().First()
	wasm, err = os.ReadFile(path)
	if err != nil {
		return nil, nil, "", cli.Exit(fmt.Sprintf("plugin: %v", err), exitEngine)
	}
	if m := c.String("manifest"); m != "" {
		if manifest, err = os.ReadFile(m); err != nil {
			return nil, nil, "", cli.Exit(fmt.Sprintf("plugin manifest: %v", err), exitEngine)
		}
	}
	name = c.String("name")
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return wasm, manifest, name, nil
}

func pluginList(c *cli.Context, client *api.Client) error {
	list, err := client.ListPlugins(c.Context)
	if err != nil {
		return engineError(err)
	}
	cols := []column{
		{"ORDER", "{{.Order}}"}, {"NAME", "{{.Name}}"}, {"VERSION", "{{.Version}}"},
		{"HOOKS", "{{join .Hooks \",\"}}"}, {"PRIORITY", "{{.Priority}}"}, {"MODE", "{{.Mode}}"},
		{"FAILURE", "{{.Failure}}"}, {"ENABLED", "{{.Enabled}}"}, {"LOADED", "{{.Loaded}}"},
	}
	return printList(c, list, cols, func(i hooks.Info) string { return i.Name })
}

func pluginOpCommand(op, usage string) *cli.Command {
	return &cli.Command{
		Name: op, Usage: usage, ArgsUsage: "NAME...",
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			return eachRef(c, "plugin "+op, func(name string) error {
				return client.PluginOp(c.Context, op, name)
			})
		}),
	}
}

// Exit codes of `plugin test`.
const (
	exitPluginDenied = 1 // the plugin returned deny
)

func pluginTestCommand() *cli.Command {
	return &cli.Command{
		Name: "test",
		Usage: "run one hook of a plugin outside any pod and print its result; " +
			"exits 0 for ok, 1 for deny, 125 for a failure",
		ArgsUsage: "FILE.wasm",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "hook", Value: "pre-start", Usage: "pre-start, post-stop or inspect"},
			&cli.StringFlag{Name: "input",
				Usage: "input JSON file as sdk/ABI.md describes; hook and plugin fields are " +
					"filled in when missing"},
			&cli.StringFlag{Name: "manifest", Usage: "manifest file (default: derived from the module)"},
		},
		Action: pluginTest,
	}
}

func pluginTest(c *cli.Context) error {
	if c.NArg() != 1 || c.String("input") == "" {
		return cli.Exit("plugin test: give a .wasm file and --input FILE.json", exitEngine)
	}
	wasm, manifestData, name, err := readPluginFiles(c)
	if err != nil {
		return err
	}
	ctx := c.Context
	man, err := testManifest(ctx, wasm, manifestData, name)
	if err != nil {
		return cli.Exit(err.Error(), exitEngine)
	}
	input, err := testInput(c.String("input"), c.String("hook"), man)
	if err != nil {
		return cli.Exit(err.Error(), exitEngine)
	}
	rt, err := plugins.NewRuntime(ctx, plugins.Config{})
	if err != nil {
		return cli.Exit(err.Error(), exitEngine)
	}
	defer rt.Close(context.Background())
	p, err := rt.Load(ctx, wasm, man)
	if err != nil {
		return cli.Exit(err.Error(), exitEngine)
	}
	out, err := p.Call(ctx, c.String("hook"), input)
	return reportTestResult(out, err)
}

func testManifest(ctx context.Context, wasm, data []byte, name string) (*plugins.Manifest, error) {
	if data != nil {
		return plugins.ParseManifest(data)
	}
	hookList, err := plugins.ExportedHooksOf(ctx, wasm)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	derived, _ := json.Marshal(map[string]any{"name": name, "version": "0.0.0",
		"sha256": hex.EncodeToString(sum[:]), "hooks": hookList,
		"allowedChanges": []string{"env", "labels", "annotations", "mounts", "rlimits", "resources"}})
	return plugins.ParseManifest(derived)
}

func testInput(path, hook string, man *plugins.Manifest) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plugin test input: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("plugin test input %s: not a JSON object: %w", path, err)
	}
	if _, ok := doc["hook"]; !ok {
		doc["hook"] = strings.ReplaceAll(hook, "-", "_")
	}
	if _, ok := doc["plugin"]; !ok {
		var config any = map[string]any{}
		if len(man.Config) > 0 {
			config = man.Config
		}
		doc["plugin"] = map[string]any{"name": man.Name, "config": config}
	}
	return json.Marshal(doc)
}

func reportTestResult(out []byte, err error) error {
	var failure *plugins.Failure
	switch {
	case err == nil:
		fmt.Println(string(out))
		return nil
	case errors.As(err, &failure) && failure.Type == plugins.FailureDenied:
		fmt.Printf("{\"status\":\"deny\",\"message\":%q}\n", failure.Message)
		return cli.Exit("", exitPluginDenied)
	case failure != nil:
		return cli.Exit(fmt.Sprintf("plugin failed: %s: %s", failure.Type, failure.Message), exitEngine)
	}
	return cli.Exit(err.Error(), exitEngine)
}
