package main

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/podplug/podplug/engine/api"
	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
)

func imageCommand() *cli.Command {
	return &cli.Command{
		Name:  "image",
		Usage: "manage images",
		Subcommands: []*cli.Command{
			{
				Name: "import",
				Usage: "make an image from a root file system tarball (plain, gzip or " +
					"zstd); - reads standard input",
				ArgsUsage: "FILE NAME",
				Action:    withClient(imageImport),
			},
			loadCommand(),
			pullCommand(),
			{
				Name:    "ls",
				Aliases: []string{"list"},
				Usage:   "list images",
				Flags:   formatFlags(),
				Action:  withClient(imageList),
			},
			{
				Name: "inspect",
				Usage: "show an image: ID, names, layers, size and its config (entrypoint, " +
					"cmd, env, ...)",
				ArgsUsage: "IMAGE",
				Flags: []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"},
					Usage: "json or a Go template"}},
				Action: withClient(func(c *cli.Context, client *api.Client) error {
					img, err := client.InspectImage(c.Context, c.Args().First())
					if err != nil {
						return engineError(err)
					}
					return printOne(c, img)
				}),
			},
			{
				Name: "rm",
				Usage: "remove a name of an image, or the image with its last name or by ID; " +
					"refused while containers use the image unless forced",
				ArgsUsage: "IMAGE [IMAGE...]",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"},
					Usage: "also remove the containers that use the image"}},
				Action: withClient(imageRemove),
			},
			{
				Name:      "tag",
				Usage:     "add names to an image",
				ArgsUsage: "IMAGE NAME [NAME...]",
				Action: withClient(func(c *cli.Context, client *api.Client) error {
					if c.NArg() < 2 {
						return cli.Exit("image tag: give an image and at least one new name", exitEngine)
					}
					for _, name := range c.Args().Tail() {
						if err := client.TagImage(c.Context, c.Args().First(), name); err != nil {
							return engineError(err)
						}
					}
					return nil
				}),
			},
		},
	}
}

// loadCommand is `image load`, also registered as `load`.
func loadCommand() *cli.Command {
	return &cli.Command{
		Name: "load",
		Usage: "load images from a docker-archive (docker save, podman save), an OCI archive " +
			"or an OCI layout directory; without -i, reads standard input",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"},
				Usage: "archive file or OCI layout directory to read; - for standard input"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "show no progress"},
		},
		Action: withClient(imageLoad),
	}
}

// pullCommand is `image pull`, also registered as `pull`.
func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "fetch an image from a registry; the reference must name the registry host",
		ArgsUsage: "REGISTRY/REPOSITORY[:TAG|@DIGEST]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "tls-verify", Value: true,
				Usage: "require HTTPS and a trusted certificate; false also allows plain HTTP"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "show no progress"},
		},
		Action: withClient(imagePull),
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

func imageLoad(c *cli.Context, client *api.Client) error {
	if c.NArg() > 0 {
		return cli.Exit("load: give the archive with -i FILE, not as an argument", exitEngine)
	}
	in, size, err := openLoadInput(c.String("input"))
	if err != nil {
		return cli.Exit(fmt.Sprintf("load: %v", err), exitEngine)
	}
	defer in.Close()

	bar := newProgressBar(c.Bool("quiet"))
	upload := &uploadReader{r: in, total: size, bar: bar}
	images, err := client.LoadImages(c.Context, upload, bar.layer)
	bar.finish()
	if err != nil {
		return engineError(err)
	}
	for _, img := range images {
		if len(img.Names) == 0 {
			fmt.Println("Loaded image:", img.ID)
		}
		for _, name := range img.Names {
			fmt.Println("Loaded image:", name)
		}
	}
	return nil
}

// openLoadInput opens what `load -i` names: a file, a directory, which is
// sent as a tar stream, or standard input for "" and "-". It returns the
// number of bytes to send, or 0 when unknown.
func openLoadInput(path string) (io.ReadCloser, int64, error) {
	if path == "" || path == "-" {
		if term.IsTerminal(int(os.Stdin.Fd())) {
			return nil, 0, fmt.Errorf("standard input is a terminal: give an archive with -i FILE " +
				"or pipe one in")
		}
		return io.NopCloser(os.Stdin), 0, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if info.IsDir() {
		return tarDirectory(path), 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	return f, info.Size(), nil
}

// tarDirectory returns a tar stream of the files below dir, written by a
// goroutine that ends when the stream is read to its end or closed.
func tarDirectory(dir string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeDirectoryTar(pw, dir))
	}()
	return pr
}

// writeDirectoryTar writes the directories, regular files and symlinks
// below dir to w as a tar archive with names relative to dir.
func writeDirectoryTar(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		return addToTar(tw, path, filepath.ToSlash(rel), entry)
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func addToTar(tw *tar.Writer, path, name string, entry fs.DirEntry) error {
	info, err := entry.Info()
	if err != nil {
		return err
	}

	var link string
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	case !info.IsDir() && !info.Mode().IsRegular():
		return fmt.Errorf("%s: not a directory, regular file or symlink, which an image "+
			"layout cannot contain", path)
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	if info.IsDir() {
		hdr.Name += "/"
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}

	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

func imagePull(c *cli.Context, client *api.Client) error {
	if c.NArg() != 1 {
		return cli.Exit("pull: give one image reference, such as 127.0.0.1:5000/app:v1", exitEngine)
	}
	bar := newProgressBar(c.Bool("quiet"))
	opts := api.PullOptions{TLSVerify: c.Bool("tls-verify")}
	img, err := client.PullImage(c.Context, c.Args().First(), opts, bar.layer)
	bar.finish()
	if err != nil {
		return engineError(err)
	}
	fmt.Println(img.ID)
	return nil
}

func imageRemove(c *cli.Context, client *api.Client) error {
	if c.NArg() == 0 {
		return cli.Exit("image rm: give at least one image name or ID", exitEngine)
	}
	var failed []string
	for _, ref := range c.Args().Slice() {
		report, err := client.RemoveImage(c.Context, ref, c.Bool("force"))
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		for _, name := range report.Untagged {
			fmt.Println("Untagged:", name)
		}
		if report.Deleted != "" {
			fmt.Println("Deleted:", strings.TrimPrefix(report.Deleted, "sha256:"))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	for _, msg := range failed[:len(failed)-1] {
		fmt.Fprintln(os.Stderr, "Error:", msg)
	}
	return cli.Exit(failed[len(failed)-1], exitEngine)
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

// progressRedraw is the minimum time between two redraws of a progress line.
const progressRedraw = 100 * time.Millisecond

// progressBarWidth is the number of cells between the brackets of a bar.
const progressBarWidth = 30

// progressBar draws load and pull progress on standard error when it is a
// terminal: one line per layer, redrawn in place until the layer is done.
// It draws nothing in a pipe, a file or with --quiet.
type progressBar struct {
	out     io.Writer
	enabled bool
	// open is set while a line is drawn without its newline.
	open      bool
	lastDraw  time.Time
	lastImage string
}

func newProgressBar(quiet bool) *progressBar {
	return &progressBar{
		out:     os.Stderr,
		enabled: !quiet && term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// layer draws the daemon's report on a layer.
func (b *progressBar) layer(p image.Progress) {
	if !b.enabled {
		return
	}
	if p.Image != b.lastImage {
		b.endLine()
		fmt.Fprintf(b.out, "Storing image %s\n", p.Image)
		b.lastImage = p.Image
	}
	prefix := fmt.Sprintf("Layer %d/%d %s", p.Index, p.Count, shortDigest(p.Layer))
	switch {
	case p.Reused:
		b.draw(prefix+" already stored", true)
	case p.Done:
		b.draw(prefix+" done "+humanSize(p.Current), true)
	default:
		b.draw(prefix+" "+bar(p.Current, p.Total), false)
	}
}

// sending draws how much of the archive was sent to the daemon.
func (b *progressBar) sending(sent, total int64, done bool) {
	if !b.enabled {
		return
	}
	if done {
		b.draw("Sent archive "+humanSize(sent), true)
		return
	}
	b.draw("Sending archive "+bar(sent, total), false)
}

// draw replaces the open line with line, at most every progressRedraw
// unless final is set, and ends it when final is set.
func (b *progressBar) draw(line string, final bool) {
	if !final && time.Since(b.lastDraw) < progressRedraw {
		return
	}
	b.lastDraw = time.Now()
	fmt.Fprintf(b.out, "\r\033[K%s", line)
	b.open = !final
	if final {
		fmt.Fprintln(b.out)
	}
}

func (b *progressBar) endLine() {
	if b.open {
		fmt.Fprintln(b.out)
		b.open = false
	}
}

// finish ends the open line, if any, before other output.
func (b *progressBar) finish() {
	if b.enabled {
		b.endLine()
	}
}

// bar returns "[=====>    ] 1.0 MiB / 3.0 MiB", or just the size when
// total is unknown.
func bar(current, total int64) string {
	if total <= 0 {
		return humanSize(current)
	}
	filled := int(float64(progressBarWidth) * float64(min(current, total)) / float64(total))
	cells := strings.Repeat("=", filled)
	if filled < progressBarWidth {
		cells += ">" + strings.Repeat(" ", progressBarWidth-filled-1)
	}
	return fmt.Sprintf("[%s] %s / %s", cells, humanSize(current), humanSize(total))
}

// shortDigest returns the first 12 hex digits of a sha256 digest.
func shortDigest(digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}

// uploadReader reports how much of the archive was read for sending.
type uploadReader struct {
	r     io.Reader
	total int64
	sent  int64
	done  bool
	bar   *progressBar
}

func (u *uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	u.sent += int64(n)
	if !u.done {
		u.done = err == io.EOF
		u.bar.sending(u.sent, u.total, u.done)
	}
	return n, err
}
