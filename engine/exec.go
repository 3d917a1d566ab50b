package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podplug/podplug/engine/oci"
	"github.com/podplug/podplug/engine/spec"
)

// ExecSpec is a command to run in a running container.
type ExecSpec struct {
	Command []string `json:"command"`
	Env     []string `json:"env,omitempty"`
	WorkDir string   `json:"workDir,omitempty"`
	User    string   `json:"user,omitempty"`
}

// ExecIO connects an exec'd process to its caller. Limitation: there is no
// terminal; the process sees pipes.
type ExecIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Exec runs a command in a running container and returns its exit code.
// The process inherits the container's environment, user and capabilities
// unless spec overrides them.
func (e *Engine) Exec(ctx context.Context, tenant, ref string, es ExecSpec, stdio ExecIO) (int, error) {
	if len(es.Command) == 0 {
		return -1, invalidf("exec: no command given")
	}
	c, err := e.LookupContainer(tenant, ref)
	if err != nil {
		return -1, err
	}
	if !hasProcess(c) {
		return -1, fmt.Errorf("exec in container %s: %w: start it first", c.Name, ErrNotRunning)
	}
	proc, err := e.execProcess(c.ID, es)
	if err != nil {
		return -1, fmt.Errorf("exec in container %s: %w", c.Name, err)
	}
	return e.rt.Exec(ctx, c.ID, oci.ExecOptions{
		Process: proc, Stdin: stdio.Stdin, Stdout: stdio.Stdout, Stderr: stdio.Stderr,
	})
}

func (e *Engine) execProcess(id string, es ExecSpec) (*specs.Process, error) {
	data, err := os.ReadFile(filepath.Join(e.cfg.RunRoot, "bundles", id, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read container spec: %w", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode container spec: %w", err)
	}
	p := *s.Process
	p.Args = es.Command
	p.Env = append(append([]string(nil), p.Env...), es.Env...)
	p.Terminal = false
	if es.WorkDir != "" {
		p.Cwd = es.WorkDir
	}
	if es.User != "" {
		uid, gid, groups, err := spec.ResolveUser(s.Root.Path, es.User)
		if err != nil {
			return nil, err
		}
		p.User = specs.User{UID: uid, GID: gid, AdditionalGids: groups}
	}
	return &p, nil
}
