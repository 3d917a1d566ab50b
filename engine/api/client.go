package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/hooks"
)

// ErrNoDaemon is returned when no daemon listens on the socket.
var ErrNoDaemon = errors.New("no podplug daemon is listening")

// Client talks to a daemon over its Unix socket. It is safe for concurrent
// use.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client for the daemon listening on socket.
func NewClient(socket string) *Client {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}
	return &Client{socket: socket, http: &http.Client{
		Transport: &http.Transport{DialContext: dial, DisableCompression: true},
	}}
}

// Ping checks that a daemon is listening.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/ping", nil, nil)
}

func (c *Client) request(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://podplug"+APIVersion+path, body)
	if err != nil {
		return nil, err
	}
	return c.send(req)
}

// send sends a prepared request and turns an error reply into *Error.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return nil, fmt.Errorf("%s: %w", c.socket, ErrNoDaemon)
		}
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

func decodeError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(e); err != nil || e.Message == "" {
		return &Error{Status: resp.StatusCode, Kind: KindInternal,
			Message: fmt.Sprintf("daemon replied %s", resp.Status)}
	}
	return e
}

// do sends in as JSON (unless nil) and decodes the reply into out (unless
// nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	resp, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Info returns the daemon's description of itself.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var info Info
	return &info, c.do(ctx, http.MethodGet, "/info", nil, &info)
}

// CreatePod creates a pod.
func (c *Client) CreatePod(ctx context.Context, spec engine.PodSpec) (*model.Pod, error) {
	var pod model.Pod
	return &pod, c.do(ctx, http.MethodPost, "/pods", spec, &pod)
}

// ListPods lists the caller's pods.
func (c *Client) ListPods(ctx context.Context) ([]engine.PodSummary, error) {
	var pods []engine.PodSummary
	return pods, c.do(ctx, http.MethodGet, "/pods", nil, &pods)
}

// InspectPod returns a pod's details.
func (c *Client) InspectPod(ctx context.Context, ref string) (*engine.PodInspect, error) {
	var out engine.PodInspect
	return &out, c.do(ctx, http.MethodGet, "/pods/"+url.PathEscape(ref), nil, &out)
}

// PodOpOptions are the arguments of pod and container operations.
type PodOpOptions struct {
	Timeout *uint
	Signal  string
	Force   bool
}

func (o PodOpOptions) query() string {
	q := url.Values{}
	if o.Timeout != nil {
		q.Set("timeout", strconv.FormatUint(uint64(*o.Timeout), 10))
	}
	if o.Signal != "" {
		q.Set("signal", o.Signal)
	}
	if o.Force {
		q.Set("force", "true")
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// PodOp runs start, stop, restart, pause, unpause or kill on a pod.
func (c *Client) PodOp(ctx context.Context, op, ref string, opts PodOpOptions) error {
	return c.do(ctx, http.MethodPost, "/pods/"+url.PathEscape(ref)+"/"+op+opts.query(), nil, nil)
}

// RemovePod removes a pod.
func (c *Client) RemovePod(ctx context.Context, ref string, opts PodOpOptions) error {
	return c.do(ctx, http.MethodDelete, "/pods/"+url.PathEscape(ref)+opts.query(), nil, nil)
}

// PrunePods removes the caller's stopped pods and returns their names.
func (c *Client) PrunePods(ctx context.Context) ([]string, error) {
	var res struct {
		Removed []string `json:"removed"`
	}
	err := c.do(ctx, http.MethodPost, "/pods/prune", nil, &res)
	return res.Removed, err
}

// CreateContainer creates a container in a pod.
func (c *Client) CreateContainer(ctx context.Context, spec engine.ContainerSpec) (*model.Container, error) {
	var out model.Container
	return &out, c.do(ctx, http.MethodPost, "/containers", spec, &out)
}

// ListContainers lists the caller's containers.
func (c *Client) ListContainers(ctx context.Context, all bool) ([]engine.ContainerSummary, error) {
	var out []engine.ContainerSummary
	return out, c.do(ctx, http.MethodGet, "/containers?all="+strconv.FormatBool(all), nil, &out)
}

// InspectContainer returns a container's details.
func (c *Client) InspectContainer(ctx context.Context, ref string) (*engine.ContainerInspect, error) {
	var out engine.ContainerInspect
	return &out, c.do(ctx, http.MethodGet, "/containers/"+url.PathEscape(ref), nil, &out)
}

// ContainerOp runs start, stop, restart or kill on a container.
func (c *Client) ContainerOp(ctx context.Context, op, ref string, opts PodOpOptions) error {
	return c.do(ctx, http.MethodPost, "/containers/"+url.PathEscape(ref)+"/"+op+opts.query(), nil, nil)
}

// WaitContainer waits for a container to stop and returns its exit code.
func (c *Client) WaitContainer(ctx context.Context, ref string) (int, error) {
	var res WaitResult
	err := c.do(ctx, http.MethodPost, "/containers/"+url.PathEscape(ref)+"/wait", nil, &res)
	return res.ExitCode, err
}

// RemoveContainer removes a container.
func (c *Client) RemoveContainer(ctx context.Context, ref string, opts PodOpOptions) error {
	return c.do(ctx, http.MethodDelete, "/containers/"+url.PathEscape(ref)+opts.query(), nil, nil)
}

// ImportImage sends a root file system tarball to become image name.
func (c *Client) ImportImage(ctx context.Context, r io.Reader, name string) (*model.Image, error) {
	resp, err := c.request(ctx, http.MethodPost, "/images/import?name="+url.QueryEscape(name), r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var img model.Image
	return &img, json.NewDecoder(resp.Body).Decode(&img)
}

// ListImages lists stored images.
func (c *Client) ListImages(ctx context.Context) ([]*model.Image, error) {
	var out []*model.Image
	return out, c.do(ctx, http.MethodGet, "/images", nil, &out)
}

// InspectImage returns one image.
func (c *Client) InspectImage(ctx context.Context, ref string) (*model.Image, error) {
	var out model.Image
	return &out, c.do(ctx, http.MethodGet, "/images/"+ref, nil, &out)
}

// RemoveImage removes a name of an image, or the image with its last name
// or its ID, and reports which.
func (c *Client) RemoveImage(
	ctx context.Context, ref string, force bool,
) (*engine.RemoveImageReport, error) {
	var out engine.RemoveImageReport
	path := "/images/" + ref + PodOpOptions{Force: force}.query()
	return &out, c.do(ctx, http.MethodDelete, path, nil, &out)
}

// TagImage adds a name to an image.
func (c *Client) TagImage(ctx context.Context, ref, name string) error {
	body := map[string]string{"image": ref, "name": name}
	return c.do(ctx, http.MethodPost, "/images/tag", body, nil)
}

// LoadImages sends an image archive (a docker-archive, an OCI archive or a
// tar of an OCI layout directory) and returns the images the daemon
// stored. progress, when not nil, receives the daemon's report on each
// layer, once the daemon has read all of r.
func (c *Client) LoadImages(
	ctx context.Context, r io.Reader, progress func(image.Progress),
) ([]*model.Image, error) {
	resp, err := c.request(ctx, http.MethodPost, "/images/load", r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return readImageStream(resp.Body, progress)
}

// PullOptions are the arguments of PullImage.
type PullOptions struct {
	// TLSVerify requires HTTPS with a certificate the daemon's host
	// trusts. podman's default, and the CLI's, is true.
	TLSVerify bool
}

// PullImage has the daemon fetch ref from its registry and returns the
// stored image. progress, when not nil, receives a report on each layer.
func (c *Client) PullImage(
	ctx context.Context, ref string, opts PullOptions, progress func(image.Progress),
) (*model.Image, error) {
	data, err := json.Marshal(PullRequest{Ref: ref, TLSVerify: opts.TLSVerify})
	if err != nil {
		return nil, err
	}
	resp, err := c.request(ctx, http.MethodPost, "/images/pull", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	images, err := readImageStream(resp.Body, progress)
	if err != nil {
		return nil, err
	}
	if len(images) != 1 {
		return nil, fmt.Errorf("pull %s: the daemon returned %d images, expected 1", ref, len(images))
	}
	return images[0], nil
}

// readImageStream reads the ImageMessage lines of a load or pull reply.
func readImageStream(r io.Reader, progress func(image.Progress)) ([]*model.Image, error) {
	dec := json.NewDecoder(r)
	for {
		var msg ImageMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("read the daemon's reply: %w", err)
		}
		switch {
		case msg.Error != nil:
			msg.Error.Status = http.StatusInternalServerError
			return nil, msg.Error
		case msg.Progress != nil:
			if progress != nil {
				progress(*msg.Progress)
			}
		default:
			return msg.Images, nil
		}
	}
}

// LogsOptions select what Logs streams.
type LogsOptions struct {
	Pod       bool // ref names a pod, not a container
	Follow    bool
	Container string
}

// Logs streams log entries to fn until the log ends or ctx is done.
func (c *Client) Logs(ctx context.Context, ref string, opts LogsOptions,
	fn func(engine.LogEntry) error) error {
	kind := "/containers/"
	if opts.Pod {
		kind = "/pods/"
	}
	q := url.Values{}
	q.Set("follow", strconv.FormatBool(opts.Follow))
	if opts.Container != "" {
		q.Set("container", opts.Container)
	}
	resp, err := c.request(ctx, http.MethodGet, kind+url.PathEscape(ref)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeLines(resp.Body, func(dec *json.Decoder) error {
		var entry engine.LogEntry
		if err := dec.Decode(&entry); err != nil {
			return err
		}
		return fn(entry)
	})
}

// EventsOptions select what Events streams.
type EventsOptions struct {
	Since string // RFC 3339
	Pod   string
	Type  string
}

// Events streams events to fn until ctx is done.
func (c *Client) Events(ctx context.Context, opts EventsOptions, fn func(*model.Event) error) error {
	q := url.Values{}
	for k, v := range map[string]string{"since": opts.Since, "pod": opts.Pod, "type": opts.Type} {
		if v != "" {
			q.Set(k, v)
		}
	}
	resp, err := c.request(ctx, http.MethodGet, "/events?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeLines(resp.Body, func(dec *json.Decoder) error {
		var ev model.Event
		if err := dec.Decode(&ev); err != nil {
			return err
		}
		return fn(&ev)
	})
}

func decodeLines(r io.Reader, next func(*json.Decoder) error) error {
	dec := json.NewDecoder(r)
	for dec.More() {
		if err := next(dec); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Exec runs a command in a container, copying stdin to it and its output to
// stdout and stderr, and returns its exit code.
func (c *Client) Exec(ctx context.Context, ref string, spec engine.ExecSpec,
	stdio engine.ExecIO) (int, error) {
	conn, br, err := c.upgrade(ctx, ref, spec)
	if err != nil {
		return -1, err
	}
	defer conn.Close()
	go func() {
		if stdio.Stdin != nil {
			_, _ = io.Copy(conn, stdio.Stdin)
		}
		if uc, ok := conn.(*net.UnixConn); ok {
			_ = uc.CloseWrite()
		}
	}()
	return readFrames(br, stdio.Stdout, stdio.Stderr)
}

func (c *Client) upgrade(ctx context.Context, ref string, spec engine.ExecSpec) (net.Conn,
	*bufio.Reader, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.socket)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.socket, ErrNoDaemon)
	}
	data, _ := json.Marshal(spec)
	req, _ := http.NewRequest(http.MethodPost,
		"http://podplug"+APIVersion+"/containers/"+url.PathEscape(ref)+"/exec", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", ExecUpgrade)
	req.Header.Set(ExecHeader, base64.StdEncoding.EncodeToString(data))
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		return nil, nil, decodeError(resp)
	}
	return conn, br, nil
}

func readFrames(r io.Reader, stdout, stderr io.Writer) (int, error) {
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return -1, fmt.Errorf("exec: connection closed before the exit code: %w", err)
		}
		payload := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
		if _, err := io.ReadFull(r, payload); err != nil {
			return -1, fmt.Errorf("exec: %w", err)
		}
		switch hdr[0] {
		case FrameStdout:
			_, _ = stdout.Write(payload)
		case FrameStderr:
			_, _ = stderr.Write(payload)
		case FrameExit:
			return strconv.Atoi(string(payload))
		case FrameError:
			return -1, errors.New(string(payload))
		}
	}
}

// InstallPlugin uploads a plugin module with an optional manifest.
func (c *Client) InstallPlugin(ctx context.Context, wasm, manifest []byte, name string,
	grants []string) (*hooks.Info, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://podplug"+APIVersion+"/plugins",
		bytes.NewReader(wasm))
	if err != nil {
		return nil, err
	}
	if manifest != nil {
		req.Header.Set(PluginManifestHeader, base64.StdEncoding.EncodeToString(manifest))
	}
	if name != "" {
		req.Header.Set(PluginNameHeader, name)
	}
	if len(grants) > 0 {
		req.Header.Set(PluginGrantsHeader, strings.Join(grants, ","))
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var info hooks.Info
	return &info, json.NewDecoder(resp.Body).Decode(&info)
}

// ListPlugins returns the installed plugins in run order.
func (c *Client) ListPlugins(ctx context.Context) ([]hooks.Info, error) {
	var out []hooks.Info
	return out, c.do(ctx, http.MethodGet, "/plugins", nil, &out)
}

// InspectPlugin returns one plugin with its failure counts.
func (c *Client) InspectPlugin(ctx context.Context, name string) (*hooks.Info, error) {
	var out hooks.Info
	return &out, c.do(ctx, http.MethodGet, "/plugins/"+url.PathEscape(name), nil, &out)
}

// PluginOp enables or disables a plugin.
func (c *Client) PluginOp(ctx context.Context, op, name string) error {
	return c.do(ctx, http.MethodPost, "/plugins/"+url.PathEscape(name)+"/"+op, nil, nil)
}

// RemovePlugin removes a plugin.
func (c *Client) RemovePlugin(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/plugins/"+url.PathEscape(name), nil, nil)
}

// Whoami returns the caller as the daemon identified it.
func (c *Client) Whoami(ctx context.Context) (*Subject, error) {
	var out Subject
	return &out, c.do(ctx, http.MethodGet, "/whoami", nil, &out)
}

// ReloadPolicies has the daemon reload its policies.
func (c *Client) ReloadPolicies(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/policy/reload", nil, nil)
}

// EvalPolicy shows the decision for a would-be request.
func (c *Client) EvalPolicy(ctx context.Context, req EvalRequest) (*EvalResult, error) {
	var out EvalResult
	return &out, c.do(ctx, http.MethodPost, "/policy/eval", req, &out)
}
