package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/urfave/cli/v2"
)

func formatFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format",
			Usage: "output as json, table, or a Go template such as '{{.Name}} {{.State}}'"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print IDs only"},
	}
}

// column is one column of a table: its heading and a template for a row.
type column struct {
	heading  string
	template string
}

// printList prints rows as a table, JSON, a template or IDs, as chosen by
// --format and -q; id returns the ID of row i for -q.
func printList[T any](c *cli.Context, rows []T, cols []column, id func(T) string) error {
	format := c.String("format")
	switch {
	case c.Bool("quiet"):
		for _, r := range rows {
			fmt.Println(id(r))
		}
		return nil
	case format == "json":
		return printJSON(rows)
	case format != "" && format != "table":
		return printTemplate(rows, format)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	headings := make([]string, len(cols))
	templates := make([]string, len(cols))
	for i, col := range cols {
		headings[i], templates[i] = col.heading, col.template
	}
	fmt.Fprintln(tw, strings.Join(headings, "\t"))
	tmpl, err := parseTemplate(strings.Join(templates, "\t"))
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := tmpl.Execute(tw, r); err != nil {
			return cli.Exit(err.Error(), exitEngine)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}

func printTemplate[T any](rows []T, format string) error {
	format = strings.TrimPrefix(format, "table ")
	tmpl, err := parseTemplate(format)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := tmpl.Execute(os.Stdout, r); err != nil {
			return cli.Exit(fmt.Sprintf("format %q: %v", format, err), exitEngine)
		}
		fmt.Println()
	}
	return nil
}

func parseTemplate(text string) (*template.Template, error) {
	// As in podman, \t and \n typed on a command line mean tab and newline.
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(text)
	funcs := template.FuncMap{
		"json": func(v any) string {
			data, _ := json.Marshal(v)
			return string(data)
		},
		"short": func(id string) string {
			if len(id) > 12 {
				return id[:12]
			}
			return id
		},
		"join": strings.Join,
	}
	tmpl, err := template.New("format").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("format %q: %v", text, err), exitEngine)
	}
	return tmpl, nil
}

// printOne prints an inspected object as JSON, or through --format.
func printOne(c *cli.Context, v any) error {
	if f := c.String("format"); f != "" && f != "json" {
		return printTemplate([]any{v}, f)
	}
	return printJSON(v)
}

func printJSONLine(v any) error {
	return json.NewEncoder(os.Stdout).Encode(v)
}
