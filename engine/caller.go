package engine

import (
	"context"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// Caller is the client an operation runs for, as the API identified it.
type Caller struct {
	UID    uint32
	GID    uint32
	User   string
	Groups []string
	Tenant string
	Admin  bool
}

type callerKey struct{}

// WithCaller returns a context carrying the caller of an operation.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// callerOf returns the caller in ctx or, for work the engine starts on its
// own (a restart by policy), the owner of the container.
func callerOf(ctx context.Context, owner model.Owner) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c
	}
	return Caller{UID: owner.UID, Tenant: owner.Tenant, Admin: owner.UID == 0 && owner.Tenant == ""}
}

// StartCheck decides whether a container may start with spec s, after the
// pre-start plugins changed it. It returns an error to refuse.
type StartCheck func(ctx context.Context, caller Caller, pod *model.Pod, c *model.Container,
	s *specs.Spec) error

// SetStartCheck installs the check run before runc gets each container's
// final spec. Set it before serving requests.
func (e *Engine) SetStartCheck(check StartCheck) { e.startCheck = check }

func (e *Engine) runStartCheck(ctx context.Context, pod *model.Pod, c *model.Container, s *specs.Spec) error {
	if e.startCheck == nil || c.Infra {
		return nil
	}
	return e.startCheck(ctx, callerOf(ctx, c.Owner), pod, c, s)
}

// Record appends an event from another component, such as a policy denial.
func (e *Engine) Record(ev *model.Event) { e.emit(ev) }

// InspectPodState returns the derived state of a pod, by ID.
func (e *Engine) InspectPodState(podID string) (string, error) {
	var state PodState
	err := e.db.View(func(tx *store.Tx) error {
		ctrs, err := tx.PodContainers(podID)
		state = DerivePodState(ctrs)
		return err
	})
	return string(state), err
}

// Kinds of bind mount sources, as MountKind reports them.
const (
	MountEngine   = "engine" // files the engine provides, such as /etc/hosts
	MountVolume   = "volume" // a named volume under the engine's root
	MountHostPath = "bind"   // any other host path
)

// MountKind reports where a bind mount's source lives.
func (e *Engine) MountKind(source string) string {
	switch {
	case strings.HasPrefix(source, filepath.Join(e.cfg.RunRoot, "pods")+"/"):
		return MountEngine
	case strings.HasPrefix(source, filepath.Join(e.cfg.Root, "volumes")+"/"):
		return MountVolume
	}
	return MountHostPath
}
