package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/cgroups"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/policy"
)

func (s *Server) routes() {
	s.handle("GET "+APIVersion+"/ping", func(http.ResponseWriter, *http.Request, Subject) (any, error) {
		return map[string]string{"version": Version}, nil
	})
	s.handle("GET "+APIVersion+"/info", s.info)
	s.podRoutes()
	s.containerRoutes()
	s.imageRoutes()
	s.pluginRoutes()
	s.policyRoutes()
	s.kubeRoutes()
	s.handle("GET "+APIVersion+"/events", s.streamEvents)
}

// Info is the output of `podplug info`.
type Info struct {
	Version       string `json:"version"`
	GoVersion     string `json:"goVersion"`
	Runc          string `json:"runc"`
	Conmon        string `json:"conmon"`
	CgroupVersion string `json:"cgroupVersion"`
	Pods          int    `json:"pods"`
	Containers    int    `json:"containers"`
	Running       int    `json:"running"`
	Images        int    `json:"images"`
	DaemonPID     int    `json:"daemonPid"`
	ClientUID     uint32 `json:"clientUid"`
}

func (s *Server) info(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	if err := s.check(r.Context(), who, policy.OpSystemInfo, policy.Input{}); err != nil {
		return nil, err
	}
	runc, conmon := s.eng.Versions(r.Context())
	pods, err := s.eng.ListPods(scope(who))
	if err != nil {
		return nil, err
	}
	ctrs, err := s.eng.ListContainers(scope(who), engine.ListContainersOptions{All: true})
	if err != nil {
		return nil, err
	}
	images, err := s.eng.Images().List()
	if err != nil {
		return nil, err
	}
	running := 0
	for _, c := range ctrs {
		if c.State == string(model.StateRunning) {
			running++
		}
	}
	return Info{
		Version: Version, GoVersion: runtime.Version(), Runc: runc, Conmon: conmon,
		CgroupVersion: cgroups.Version(), Pods: len(pods), Containers: len(ctrs),
		Running: running, Images: len(images), DaemonPID: os.Getpid(), ClientUID: who.UID,
	}, nil
}

func (s *Server) podRoutes() {
	p := APIVersion + "/pods"
	s.handle("POST "+p, func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		var spec engine.PodSpec
		err := decode(r, &spec)
		if err != nil {
			return nil, err
		}
		spec.Owner = who.Owner()
		in := policy.Input{Spec: &policy.Spec{Pod: podSpecInput(spec)}, Context: s.usage(who)}
		if err := s.check(r.Context(), who, policy.OpPodCreate, in); err != nil {
			return nil, err
		}
		if spec.IDMap, err = s.podIDMap(who); err != nil {
			return nil, err
		}
		return s.eng.CreatePod(r.Context(), spec)
	})
	s.handle("GET "+p, func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		if err := s.check(r.Context(), who, policy.OpPodList, policy.Input{}); err != nil {
			return nil, err
		}
		pods, err := s.eng.ListPods(scope(who))
		if err != nil {
			return nil, err
		}
		return s.visiblePods(r.Context(), who, pods)
	})
	s.handle("GET "+p+"/{ref}", func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		if err := s.gatePod(r.Context(), who, policy.OpPodInspect, r.PathValue("ref"), nil); err != nil {
			return nil, err
		}
		return s.eng.InspectPod(r.Context(), scope(who), r.PathValue("ref"))
	})
	s.handle("DELETE "+p+"/{ref}", func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		timeout, err := queryTimeout(r)
		if err != nil {
			return nil, err
		}
		opts := engine.RemovePodOptions{Force: queryBool(r, "force"), Timeout: timeout}
		if err := s.gatePod(r.Context(), who, policy.OpPodRemove, r.PathValue("ref"),
			requestOf(r)); err != nil {
			return nil, err
		}
		return nil, s.eng.RemovePod(r.Context(), scope(who), r.PathValue("ref"), opts)
	})
	s.handle("POST "+p+"/prune", func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		if err := s.check(r.Context(), who, policy.OpPodPrune, policy.Input{}); err != nil {
			return nil, err
		}
		res, err := s.eng.PrunePods(r.Context(), who.Tenant)
		if res.Removed == nil {
			res.Removed = []string{}
		}
		return res, err
	})
	s.handle("POST "+p+"/{ref}/{op}", s.podOp)
	s.handle("GET "+p+"/{ref}/logs", func(w http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		opts := engine.LogOptions{Follow: queryBool(r, "follow"), Container: r.URL.Query().Get("container")}
		if err := s.gatePod(r.Context(), who, policy.OpPodLogs, r.PathValue("ref"), nil); err != nil {
			return nil, err
		}
		return streamLogs(w, r, func(ctx context.Context, fn func(engine.LogEntry) error) error {
			return s.eng.PodLogs(ctx, scope(who), r.PathValue("ref"), opts, fn)
		})
	})
}

func (s *Server) podOp(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	ctx, ref := r.Context(), r.PathValue("ref")
	timeout, err := queryTimeout(r)
	if err != nil {
		return nil, err
	}
	stop := engine.StopOptions{Timeout: timeout}
	op := r.PathValue("op")
	switch op {
	case "start", "stop", "restart", "pause", "unpause", "kill":
		if err := s.gatePod(ctx, who, "pod."+op, ref, requestOf(r)); err != nil {
			return nil, err
		}
	}
	switch op {
	case "start":
		return nil, s.eng.StartPod(ctx, scope(who), ref)
	case "stop":
		return nil, s.eng.StopPod(ctx, scope(who), ref, stop)
	case "restart":
		return nil, s.eng.RestartPod(ctx, scope(who), ref, stop)
	case "pause":
		return nil, s.eng.PausePod(ctx, scope(who), ref)
	case "unpause":
		return nil, s.eng.UnpausePod(ctx, scope(who), ref)
	case "kill":
		return nil, s.eng.KillPod(ctx, scope(who), ref, signalArg(r))
	default:
		return nil, &Error{Status: http.StatusNotFound, Kind: KindNotFound,
			Message: "unknown pod operation " + op}
	}
}

func signalArg(r *http.Request) string {
	if sig := r.URL.Query().Get("signal"); sig != "" {
		return sig
	}
	return "SIGKILL"
}

func (s *Server) containerRoutes() {
	p := APIVersion + "/containers"
	s.handle("POST "+p, func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		var spec engine.ContainerSpec
		if err := decode(r, &spec); err != nil {
			return nil, err
		}
		spec.Owner = who.Owner()
		// One decision with the pod as target and the full spec: a first
		// decision on the target alone would lack the spec and the usage
		// that quota policies require.
		pod, err := s.scopedPod(r.Context(), who, policy.OpContainerCreate, spec.Pod, nil)
		if err != nil {
			return nil, err
		}
		in := policy.Input{Target: podTarget(pod, ""),
			Spec: &policy.Spec{Containers: []policy.ContainerSpec{containerSpecInput(spec)},
				Pod: policy.PodSpec{Name: pod.Name, Labels: pod.Labels, Network: pod.Network,
					Share: pod.Share, CPUs: pod.CPUs, MemoryBytes: pod.MemoryBytes}},
			Context: s.usage(who), Request: &policy.Request{Image: spec.Image}}
		if err := s.check(r.Context(), who, policy.OpContainerCreate, in); err != nil {
			return nil, err
		}
		return s.eng.CreateContainer(r.Context(), spec)
	})
	s.handle("GET "+p, func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		if err := s.check(r.Context(), who, policy.OpContainerList, policy.Input{}); err != nil {
			return nil, err
		}
		ctrs, err := s.eng.ListContainers(scope(who), engine.ListContainersOptions{All: queryBool(r, "all")})
		if err != nil {
			return nil, err
		}
		return s.visibleContainers(r.Context(), who, ctrs)
	})
	s.handle("GET "+p+"/{ref}", func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		if err := s.gateContainer(r.Context(), who, policy.OpContainerInspect, r.PathValue("ref"),
			nil); err != nil {
			return nil, err
		}
		return s.eng.InspectContainer(r.Context(), scope(who), r.PathValue("ref"))
	})
	s.handle("DELETE "+p+"/{ref}", func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		timeout, err := queryTimeout(r)
		if err != nil {
			return nil, err
		}
		opts := engine.RemoveContainerOptions{Force: queryBool(r, "force"), Timeout: timeout}
		if err := s.gateContainer(r.Context(), who, policy.OpContainerRemove, r.PathValue("ref"),
			requestOf(r)); err != nil {
			return nil, err
		}
		return nil, s.eng.RemoveContainer(r.Context(), scope(who), r.PathValue("ref"), opts)
	})
	s.handle("POST "+p+"/{ref}/exec", s.exec)
	s.handle("POST "+p+"/{ref}/{op}", s.containerOp)
	s.handle("GET "+p+"/{ref}/logs", func(w http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		opts := engine.LogOptions{Follow: queryBool(r, "follow")}
		if err := s.gateContainer(r.Context(), who, policy.OpContainerLogs, r.PathValue("ref"),
			nil); err != nil {
			return nil, err
		}
		return streamLogs(w, r, func(ctx context.Context, fn func(engine.LogEntry) error) error {
			return s.eng.ContainerLogs(ctx, scope(who), r.PathValue("ref"), opts, fn)
		})
	})
}

// WaitResult is the reply of a container wait.
type WaitResult struct {
	ExitCode int `json:"exitCode"`
}

func (s *Server) containerOp(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	ctx, ref := r.Context(), r.PathValue("ref")
	timeout, err := queryTimeout(r)
	if err != nil {
		return nil, err
	}
	stop := engine.StopOptions{Timeout: timeout}
	op := r.PathValue("op")
	switch op {
	case "start", "stop", "restart", "kill", "wait":
		if err := s.gateContainer(ctx, who, "container."+op, ref, requestOf(r)); err != nil {
			return nil, err
		}
	}
	switch op {
	case "start":
		return nil, s.eng.StartContainer(ctx, scope(who), ref)
	case "stop":
		return nil, s.eng.StopContainer(ctx, scope(who), ref, stop)
	case "restart":
		return nil, s.eng.RestartContainer(ctx, scope(who), ref, stop)
	case "kill":
		return nil, s.eng.KillContainer(ctx, scope(who), ref, signalArg(r))
	case "wait":
		code, err := s.eng.WaitContainer(ctx, scope(who), ref)
		return WaitResult{ExitCode: code}, err
	default:
		return nil, &Error{Status: http.StatusNotFound, Kind: KindNotFound,
			Message: "unknown container operation " + op}
	}
}

// streamLogs writes log entries as JSON lines, flushing each so `logs -f`
// shows lines as they come. An error before the first entry is a normal
// error reply.
func streamLogs(w http.ResponseWriter, r *http.Request, run func(context.Context,
	func(engine.LogEntry) error) error) (any, error) {
	started := false
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	err := run(r.Context(), func(entry engine.LogEntry) error {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			started = true
		}
		if err := enc.Encode(entry); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil && !started {
		return nil, err
	}
	if !started {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
	}
	return streamed, nil
}

func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	if err := s.check(r.Context(), who, policy.OpEventsList, policy.Input{}); err != nil {
		return nil, err
	}
	f := engine.EventFilter{Pod: r.URL.Query().Get("pod"), Type: r.URL.Query().Get("type")}
	if since := r.URL.Query().Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			return nil, &Error{Status: http.StatusBadRequest, Kind: KindInvalid,
				Message: "since " + since + ": use RFC 3339 time"}
		}
		f.Since = t
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	err := s.eng.Events(r.Context(), f, func(ev *model.Event) error {
		if !who.Admin && ev.Tenant != who.Tenant {
			return nil
		}
		if !s.eventVisible(r.Context(), who, ev) {
			return nil
		}
		if err := enc.Encode(ev); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if err != nil {
		s.log.Debug("event stream ended", "error", err)
	}
	return streamed, nil
}
