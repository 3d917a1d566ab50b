package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// reorderArgs moves flags that follow positional arguments in front of
// them, so `podplug pod stop web -t 0` works as it does in podman; urfave/cli
// stops reading flags at the first positional argument. Commands whose
// trailing arguments are a command line (create, exec) are left alone, as
// are arguments after "--".
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	globals, rest := takeFlags(app.Flags, rest)
	out = append(out, globals...)
	commands := app.Commands
	var leaf *cli.Command
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd := findCommand(commands, rest[0])
		if cmd == nil {
			break
		}
		out = append(out, rest[0])
		rest = rest[1:]
		leaf = cmd
		if len(cmd.Subcommands) == 0 {
			break
		}
		commands = cmd.Subcommands
	}
	if leaf == nil || len(leaf.Subcommands) > 0 || leaf.Name == "create" || leaf.Name == "exec" {
		return append(out, rest...)
	}
	var flags, positional []string
	for i := 0; i < len(rest); i++ {
		arg := rest[i]
		if arg == "--" {
			positional = append(positional, rest[i:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			positional = append(positional, arg)
			continue
		}
		flags = append(flags, arg)
		if takesValue(leaf.Flags, arg) && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	return append(append(out, flags...), positional...)
}

// takeFlags splits leading flags (with their values) from args.
func takeFlags(defs []cli.Flag, args []string) (flags, rest []string) {
	for i := 0; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "-") || args[i] == "-" || args[i] == "--" {
			return flags, args[i:]
		}
		flags = append(flags, args[i])
		if takesValue(defs, args[i]) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return flags, nil
}

func findCommand(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.Name == name {
			return c
		}
		for _, alias := range c.Aliases {
			if alias == name {
				return c
			}
		}
	}
	return nil
}

// takesValue reports whether arg is a flag that reads the next argument.
func takesValue(defs []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	for _, f := range defs {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			_, isBool := f.(*cli.BoolFlag)
			return !isBool
		}
	}
	return false
}
