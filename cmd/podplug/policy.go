package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/podplug/podplug/engine/api"
	"github.com/podplug/podplug/policy"
)

func whoamiCommand() *cli.Command {
	return &cli.Command{
		Name:  "whoami",
		Usage: "show how the daemon sees you: uid, user, groups, tenant, admin",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"},
			Usage: "json or a Go template"}},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			who, err := client.Whoami(c.Context)
			if err != nil {
				return engineError(err)
			}
			if c.IsSet("format") {
				return printOne(c, who)
			}
			tenant := who.Tenant
			if tenant == "" {
				tenant = "(none)"
			}
			fmt.Printf("uid:    %d (%s)\ngid:    %d\ngroups: %s\ntenant: %s\nadmin:  %v\n",
				who.UID, who.User, who.GID, strings.Join(who.Groups, ","), tenant, who.Admin)
			return nil
		}),
	}
}

func policyCommand() *cli.Command {
	return &cli.Command{
		Name:  "policy",
		Usage: "manage and try the daemon's Rego policies",
		Subcommands: []*cli.Command{
			{
				Name:  "reload",
				Usage: "reload the policies; a set that fails to compile is rejected and the old one stays",
				Action: withClient(func(c *cli.Context, client *api.Client) error {
					return engineError(client.ReloadPolicies(c.Context))
				}),
			},
			{
				Name:      "test",
				Usage:     "run the Rego unit tests (test_ rules) in a directory, as `opa test` does",
				ArgsUsage: "DIR",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return cli.Exit("policy test: give a directory", exitEngine)
					}
					_, failed, err := policy.Test(c.Context, c.Args().First(), os.Stdout)
					if err != nil {
						return cli.Exit(err.Error(), exitEngine)
					}
					if failed > 0 {
						return cli.Exit("", 1)
					}
					return nil
				},
			},
			policyEvalCommand(),
		},
	}
}

func policyEvalCommand() *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "show the decision and reasons for a would-be request, without doing it",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "operation", Aliases: []string{"op"}, Required: true,
				Usage: "such as pod.start"},
			&cli.UintFlag{Name: "as", Usage: "evaluate as this uid (default: yourself)"},
			&cli.StringFlag{Name: "input",
				Usage: "JSON file with more of the input document: target, spec, request, context"},
		},
		Action: withClient(func(c *cli.Context, client *api.Client) error {
			var req api.EvalRequest
			if path := c.String("input"); path != "" {
				data, err := os.ReadFile(path)
				if err != nil {
					return cli.Exit(fmt.Sprintf("policy eval: %v", err), exitEngine)
				}
				if err := json.Unmarshal(data, &req.Input); err != nil {
					return cli.Exit(fmt.Sprintf("policy eval input %s: %v", path, err), exitEngine)
				}
			}
			req.Input.Operation = c.String("operation")
			if c.IsSet("as") {
				uid := uint32(c.Uint("as"))
				req.AsUID = &uid
			}
			res, err := client.EvalPolicy(c.Context, req)
			if err != nil {
				return engineError(err)
			}
			if err := printJSON(res); err != nil {
				return err
			}
			if !res.Allowed {
				return cli.Exit("", 1)
			}
			return nil
		}),
	}
}
