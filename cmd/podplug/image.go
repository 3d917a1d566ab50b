package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/podplug/podplug/engine/api"
	"github.com/podplug/podplug/engine/model"
)

func imageCommand() *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "manage images",
		Subcommands: []*cli.Command{
			{
				Name:      "import",
				Usage:     "make an image from a root file system tarball (plain or gzip); - reads standard input",
				ArgsUsage: "FILE NAME",
				Action:    withClient(imageImport),
			},
			{
				Name:    "ls",
				Aliases: []string{"list"},
				Usage:   "list images",
				Flags:   formatFlags(),
				Action:  withClient(imageList),
			},
			{
				Name:      "inspect",
				Usage:     "show an image",
				ArgsUsage: "IMAGE",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "json or a Go template"}},
				Action: withClient(func(c *cli.Context, client *api.Client) error {
					img, err := client.InspectImage(c.Context, c.Args().First())
					if err != nil {
						return engineError(err)
					}
					return printOne(c, img)
				}),
			},
			{
				Name:      "rm",
				Usage:     "remove images; refused while containers use them unless forced",
				ArgsUsage: "IMAGE [IMAGE...]",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"},
					Usage: "also remove the containers that use the image"}},
				Action: withClient(func(c *cli.Context, client *api.Client) error {
					return eachRef(c, "image rm", func(ref string) error {
						_, err := client.RemoveImage(c.Context, ref, c.Bool("force"))
						return err
					})
				}),
			},
			{
				Name:      "tag",
				Usage:     "add a name to an image",
				ArgsUsage: "IMAGE NAME",
				Action: withClient(func(c *cli.Context, client *api.Client) error {
					if c.NArg() != 2 {
						return cli.Exit("image tag: give an image and a new name", exitEngine)
					}
					return engineError(client.TagImage(c.Context, c.Args().Get(0), c.Args().Get(1)))
				}),
			},
		},
	}
}

func imageImport(c *cli.Context, client *api.Client) error {
	if c.NArg() != 2 {
		return cli.Exit("image import: give a tarball path (or -) and an image name", exitEngine)
	}
	in := os.Stdin
	if path := c.Args().Get(0); path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return cli.Exit(fmt.Sprintf("image import: %v", err), exitEngine)
		}
		defer f.Close()
		in = f
	}
	img, err := client.ImportImage(c.Context, in, c.Args().Get(1))
	if err != nil {
		return engineError(err)
	}
	fmt.Println(img.ID)
	return nil
}

// imageRow is one row of `image ls`.
type imageRow struct {
	ID      string
	Names   string
	Size    string
	Created string
	Image   *model.Image
}

func imageList(c *cli.Context, client *api.Client) error {
	images, err := client.ListImages(c.Context)
	if err != nil {
		return engineError(err)
	}
	if c.String("format") == "json" {
		return printJSON(images)
	}
	rows := make([]imageRow, 0, len(images))
	for _, img := range images {
		rows = append(rows, imageRow{
			ID: strings.TrimPrefix(img.ID, "sha256:"), Names: strings.Join(img.Names, ","),
			Size: humanSize(img.Size), Created: img.CreatedAt.Format("2006-01-02 15:04:05"), Image: img,
		})
	}
	cols := []column{{"IMAGE ID", "{{short .ID}}"}, {"NAMES", "{{.Names}}"},
		{"SIZE", "{{.Size}}"}, {"CREATED", "{{.Created}}"}}
	return printList(c, rows, cols, func(r imageRow) string { return r.ID })
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
