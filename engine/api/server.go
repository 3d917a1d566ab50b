// Package api is podplug's daemon interface: a JSON API over a Unix socket,
// served by `podplug serve` and used by the CLI through Client. The server
// identifies each client by the kernel's SO_PEERCRED, never by what the
// client sends.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/policy"
)

// Version is podplug's version, reported by `podplug version`.
var Version = "0.1.0-dev"

// APIVersion is the path prefix of every endpoint.
const APIVersion = "/v1"

// Options configure a Server.
type Options struct {
	// Tenants is the operator's file; nil means only root may connect.
	Tenants *Tenants
	// Policy gates every operation. Nil allows every request a peer on the
	// socket sends.
	Policy *policy.Engine
	// PolicyDir is the directory Policy was loaded from, for `policy test`.
	PolicyDir string
	Logger    *slog.Logger
}

// Server serves the engine's API.
type Server struct {
	eng     *engine.Engine
	log     *slog.Logger
	mux     *http.ServeMux
	tenants *Tenants
	policy  *policy.Engine
	opts    Options
}

// NewServer returns a server for eng.
func NewServer(eng *engine.Engine, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{eng: eng, log: opts.Logger, mux: http.NewServeMux(), tenants: opts.Tenants,
		policy: opts.Policy, opts: opts}
	s.routes()
	return s
}

// Serve listens on socketPath (replacing a stale socket file, readable and
// writable by root only) until ctx is done.
func (s *Server) Serve(ctx context.Context, socketPath string) error {
	_ = os.Remove(socketPath)
	ln, err := net.Listen("unix", socketPath)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", socketPath, err)
	}
	if err := s.setSocketAccess(socketPath); err != nil {
		ln.Close()
		return err
	}
	guarded := &guardedListener{Listener: ln, tenants: func() *Tenants { return s.tenants },
		reject: func(cred *unix.Ucred) {
			s.log.Warn("connection rejected: not allowed on the socket", "uid", cred.Uid, "pid", cred.Pid)
		}}
	srv := &http.Server{
		Handler:           s.mux,
		ConnContext:       s.withPeer,
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		srv.Close()
	}()
	err = srv.Serve(guarded)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

type peerKey struct{}

// setSocketAccess lets only root use the socket without a tenants file.
// With one, a single socket group owns it with mode 0660; with several
// groups the mode is 0666 and the listener closes connections of anyone
// else before reading a request.
func (s *Server) setSocketAccess(path string) error {
	mode := os.FileMode(0o600)
	gid := 0
	if s.tenants != nil {
		mode = 0o666
		if groups := s.tenants.SocketGroups; len(groups) == 1 && len(s.tenants.Tenants) == 0 {
			if g, err := user.LookupGroup(groups[0]); err == nil {
				gid, _ = strconv.Atoi(g.Gid)
				mode = 0o660
			}
		}
	}
	if err := os.Chown(path, 0, gid); err != nil {
		return fmt.Errorf("set owner of %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("set permissions of %s: %w", path, err)
	}
	return nil
}

// withPeer records the connecting process as a subject, from SO_PEERCRED.
func (s *Server) withPeer(ctx context.Context, conn net.Conn) context.Context {
	cred, err := peerCred(conn)
	if err != nil || cred == nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, resolveSubject(cred, s.tenants))
}

func subjectOf(r *http.Request) (Subject, bool) {
	who, ok := r.Context().Value(peerKey{}).(Subject)
	return who, ok
}

// scope is the tenant scope of the subject's lookups and listings.
func scope(who Subject) string {
	if who.Admin {
		return engine.AllTenants
	}
	return who.Tenant
}

// handler is an endpoint: it gets the caller and returns a value to encode
// as JSON, or an error.
type handler func(w http.ResponseWriter, r *http.Request, who Subject) (any, error)

func (s *Server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		who, ok := subjectOf(r)
		if !ok {
			writeError(w, &Error{Status: http.StatusForbidden, Kind: KindInvalid,
				Message: "cannot identify the client: connect over the Unix socket"})
			return
		}
		start := time.Now()
		ctx := engine.WithCaller(r.Context(), who.engineCaller())
		var out any
		err := s.checkRoute(ctx, who, pattern)
		if err == nil {
			out, err = h(w, r.WithContext(ctx), who)
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "uid", who.UID,
			"duration", time.Since(start), "error", err)
		if err != nil {
			writeError(w, s.toError(err, who))
			return
		}
		if out == streamed {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if out == nil {
			out = struct{}{}
		}
		_ = json.NewEncoder(w).Encode(out)
	})
}

// streamed is returned by handlers that wrote the reply themselves.
var streamed = &struct{ streamed bool }{}

func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode request: %v: %w", err, engine.ErrInvalid)
	}
	return nil
}

func queryTimeout(r *http.Request) (*uint, error) {
	v := r.URL.Query().Get("timeout")
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("timeout %q: use a whole number of seconds: %w", v, engine.ErrInvalid)
	}
	t := uint(n)
	return &t, nil
}

func queryBool(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return b
}
