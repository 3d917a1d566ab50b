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
)

func (s *Server) routes() {
	s.handle("GET "+APIVersion+"/ping", func(http.ResponseWriter, *http.Request, model.Owner) (any, error) {
		return map[string]string{"version": Version}, nil
	})
	s.handle("GET "+APIVersion+"/info", s.info)
	s.podRoutes()
	s.containerRoutes()
	s.imageRoutes()
	s.pluginRoutes()
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

func (s *Server) info(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
	runc, conmon := s.eng.Versions(r.Context())
	pods, err := s.eng.ListPods(who.Tenant)
	if err != nil {
		return nil, err
	}
	ctrs, err := s.eng.ListContainers(who.Tenant, engine.ListContainersOptions{All: true})
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
	s.handle("POST "+p, func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		var spec engine.PodSpec
		if err := decode(r, &spec); err != nil {
			return nil, err
		}
		spec.Owner = who
		return s.eng.CreatePod(r.Context(), spec)
	})
	s.handle("GET "+p, func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		pods, err := s.eng.ListPods(who.Tenant)
		if pods == nil {
			pods = []engine.PodSummary{}
		}
		return pods, err
	})
	s.handle("GET "+p+"/{ref}", func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		return s.eng.InspectPod(r.Context(), who.Tenant, r.PathValue("ref"))
	})
	s.handle("DELETE "+p+"/{ref}", func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		timeout, err := queryTimeout(r)
		if err != nil {
			return nil, err
		}
		opts := engine.RemovePodOptions{Force: queryBool(r, "force"), Timeout: timeout}
		return nil, s.eng.RemovePod(r.Context(), who.Tenant, r.PathValue("ref"), opts)
	})
	s.handle("POST "+p+"/prune", func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		res, err := s.eng.PrunePods(r.Context(), who.Tenant)
		if res.Removed == nil {
			res.Removed = []string{}
		}
		return res, err
	})
	s.handle("POST "+p+"/{ref}/{op}", s.podOp)
	s.handle("GET "+p+"/{ref}/logs", func(w http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		opts := engine.LogOptions{Follow: queryBool(r, "follow"), Container: r.URL.Query().Get("container")}
		return streamLogs(w, r, func(ctx context.Context, fn func(engine.LogEntry) error) error {
			return s.eng.PodLogs(ctx, who.Tenant, r.PathValue("ref"), opts, fn)
		})
	})
}

func (s *Server) podOp(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
	ctx, ref := r.Context(), r.PathValue("ref")
	timeout, err := queryTimeout(r)
	if err != nil {
		return nil, err
	}
	stop := engine.StopOptions{Timeout: timeout}
	switch op := r.PathValue("op"); op {
	case "start":
		return nil, s.eng.StartPod(ctx, who.Tenant, ref)
	case "stop":
		return nil, s.eng.StopPod(ctx, who.Tenant, ref, stop)
	case "restart":
		return nil, s.eng.RestartPod(ctx, who.Tenant, ref, stop)
	case "pause":
		return nil, s.eng.PausePod(ctx, who.Tenant, ref)
	case "unpause":
		return nil, s.eng.UnpausePod(ctx, who.Tenant, ref)
	case "kill":
		return nil, s.eng.KillPod(ctx, who.Tenant, ref, signalArg(r))
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
	s.handle("POST "+p, func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		var spec engine.ContainerSpec
		if err := decode(r, &spec); err != nil {
			return nil, err
		}
		spec.Owner = who
		return s.eng.CreateContainer(r.Context(), spec)
	})
	s.handle("GET "+p, func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		ctrs, err := s.eng.ListContainers(who.Tenant, engine.ListContainersOptions{All: queryBool(r, "all")})
		if ctrs == nil {
			ctrs = []engine.ContainerSummary{}
		}
		return ctrs, err
	})
	s.handle("GET "+p+"/{ref}", func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		return s.eng.InspectContainer(r.Context(), who.Tenant, r.PathValue("ref"))
	})
	s.handle("DELETE "+p+"/{ref}", func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		timeout, err := queryTimeout(r)
		if err != nil {
			return nil, err
		}
		opts := engine.RemoveContainerOptions{Force: queryBool(r, "force"), Timeout: timeout}
		return nil, s.eng.RemoveContainer(r.Context(), who.Tenant, r.PathValue("ref"), opts)
	})
	s.handle("POST "+p+"/{ref}/exec", s.exec)
	s.handle("POST "+p+"/{ref}/{op}", s.containerOp)
	s.handle("GET "+p+"/{ref}/logs", func(w http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		opts := engine.LogOptions{Follow: queryBool(r, "follow")}
		return streamLogs(w, r, func(ctx context.Context, fn func(engine.LogEntry) error) error {
			return s.eng.ContainerLogs(ctx, who.Tenant, r.PathValue("ref"), opts, fn)
		})
	})
}

// WaitResult is the reply of a container wait.
type WaitResult struct {
	ExitCode int `json:"exitCode"`
}

func (s *Server) containerOp(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
	ctx, ref := r.Context(), r.PathValue("ref")
	timeout, err := queryTimeout(r)
	if err != nil {
		return nil, err
	}
	stop := engine.StopOptions{Timeout: timeout}
	switch op := r.PathValue("op"); op {
	case "start":
		return nil, s.eng.StartContainer(ctx, who.Tenant, ref)
	case "stop":
		return nil, s.eng.StopContainer(ctx, who.Tenant, ref, stop)
	case "restart":
		return nil, s.eng.RestartContainer(ctx, who.Tenant, ref, stop)
	case "kill":
		return nil, s.eng.KillContainer(ctx, who.Tenant, ref, signalArg(r))
	case "wait":
		code, err := s.eng.WaitContainer(ctx, who.Tenant, ref)
		return WaitResult{ExitCode: code}, err
	default:
		return nil, &Error{Status: http.StatusNotFound, Kind: KindNotFound,
			Message: "unknown container operation " + op}
	}
}

// streamLogs writes log entries as JSON lines, flushing each so `logs -f`
// shows lines as they come. An error before the first entry is a normal
// error reply.
func streamLogs(w http.ResponseWriter, r *http.Request, run func(context.Context, func(engine.LogEntry) error) error) (any, error) {
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

func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
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
		if ev.Tenant != who.Tenant {
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
