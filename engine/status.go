package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// PodState is a pod's state, derived from its containers.
type PodState string

// Pod states, as podman names them.
const (
	PodCreated  PodState = "Created"
	PodRunning  PodState = "Running"
	PodDegraded PodState = "Degraded"
	PodPaused   PodState = "Paused"
	PodStopped  PodState = "Stopped"
	PodExited   PodState = "Exited"
	PodError    PodState = "Error"
)

// DerivePodState computes a pod's state from its containers; init
// containers do not count. A container counts as failed when it is in the
// error state or carries an error from its last start or run.
//
//   - no containers, or all never started: Created
//   - all running: Running; all paused: Paused
//   - some running or paused, not all in one of those states: Degraded
//   - none running and some failed: Error
//   - none running, all that ran were stopped by a request: Stopped
//   - otherwise (some exited on their own): Exited
func DerivePodState(ctrs []*model.Container) PodState {
	var total, created, running, paused, failed, exited, stopped int
	for _, c := range ctrs {
		if c.IsInit() {
			continue
		}
		total++
		switch c.Status.State {
		case model.StateCreated:
			created++
		case model.StateRunning, model.StateStopping:
			running++
		case model.StatePaused:
			paused++
		case model.StateExited:
			if c.Status.StoppedByUser {
				stopped++
			} else {
				exited++
			}
		}
		if c.Status.State == model.StateError || c.Status.Error != "" {
			failed++
		}
	}
	switch {
	case total == 0 || created == total:
		return PodCreated
	case running == total:
		return PodRunning
	case paused == total:
		return PodPaused
	case running > 0 || paused > 0:
		return PodDegraded
	case failed > 0:
		return PodError
	case exited == 0:
		return PodStopped
	default:
		return PodExited
	}
}

// PodSummary is one row of `pod ps`.
type PodSummary struct {
	ID         string            `json:"Id"`
	Name       string            `json:"Name"`
	State      PodState          `json:"Status"`
	Created    time.Time         `json:"Created"`
	InfraID    string            `json:"InfraId,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
	Containers int               `json:"NumberOfContainers"`
	Tenant     string            `json:"Tenant,omitempty"`
}

// ListPods returns every pod of tenant with its derived state.
func (e *Engine) ListPods(tenant string) ([]PodSummary, error) {
	var out []PodSummary
	err := e.db.View(func(tx *store.Tx) error {
		pods, err := tx.ListPods()
		if err != nil {
			return err
		}
		for _, p := range pods {
			if !inScope(tenant, p.Owner.Tenant) {
				continue
			}
			ctrs, err := tx.PodContainers(p.ID)
			if err != nil {
				return err
			}
			out = append(out, PodSummary{
				ID: p.ID, Name: p.Name, State: DerivePodState(ctrs), Created: p.CreatedAt,
				InfraID: p.InfraID, Labels: p.Labels, Containers: len(ctrs),
				Tenant: p.Owner.Tenant,
			})
		}
		return nil
	})
	return out, err
}

// ContainerSummary is one row of `ps`.
type ContainerSummary struct {
	ID        string    `json:"Id"`
	Name      string    `json:"Name"`
	Image     string    `json:"Image"`
	Command   string    `json:"Command"`
	State     string    `json:"State"`
	Status    string    `json:"Status"`
	ExitCode  int       `json:"ExitCode"`
	Created   time.Time `json:"Created"`
	PodID     string    `json:"Pod"`
	PodName   string    `json:"PodName"`
	IsInfra   bool      `json:"IsInfra"`
	InitMode  string    `json:"InitMode,omitempty"`
	StartedAt time.Time `json:"StartedAt,omitzero"`
	Tenant    string    `json:"Tenant,omitempty"`
}

// ListContainersOptions tune ListContainers.
type ListContainersOptions struct {
	// All includes containers that are not running.
	All bool
}

// ListContainers returns tenant's containers, running ones only unless All.
func (e *Engine) ListContainers(tenant string, opts ListContainersOptions) ([]ContainerSummary, error) {
	var out []ContainerSummary
	err := e.db.View(func(tx *store.Tx) error {
		ctrs, err := tx.ListContainers()
		if err != nil {
			return err
		}
		podNames := map[string]string{}
		for _, c := range ctrs {
			if !inScope(tenant, c.Owner.Tenant) {
				continue
			}
			running := c.Status.State == model.StateRunning || c.Status.State == model.StatePaused
			if !opts.All && !running {
				continue
			}
			if _, ok := podNames[c.PodID]; !ok {
				if p, err := tx.GetPod(c.PodID); err == nil {
					podNames[c.PodID] = p.Name
				}
			}
			out = append(out, summarize(c, podNames[c.PodID]))
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

func summarize(c *model.Container, podName string) ContainerSummary {
	image := c.Image
	if c.Infra {
		image = "(infra)"
	}
	return ContainerSummary{
		ID: c.ID, Name: c.Name, Image: image, Command: strings.Join(c.Command, " "),
		State: string(c.Status.State), Status: describeStatus(c), ExitCode: c.Status.ExitCode,
		Created: c.CreatedAt, PodID: c.PodID, PodName: podName, IsInfra: c.Infra,
		InitMode: c.InitMode, StartedAt: c.Status.StartedAt, Tenant: c.Owner.Tenant,
	}
}

// describeStatus is the STATUS column of `ps`, in podman's words.
func describeStatus(c *model.Container) string {
	st := c.Status
	switch st.State {
	case model.StateRunning:
		return "Up " + humanDuration(time.Since(st.StartedAt))
	case model.StatePaused:
		return "Paused"
	case model.StateExited:
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, humanDuration(time.Since(st.FinishedAt)))
	case model.StateError:
		return "Error: " + st.Error
	default:
		s := string(st.State)
		return strings.ToUpper(s[:1]) + s[1:]
	}
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " seconds"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " minutes"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " hours"
	default:
		return strconv.Itoa(int(d.Hours()/24)) + " days"
	}
}
