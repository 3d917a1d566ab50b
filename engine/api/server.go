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
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
)

// Version is podplug's version, reported by `podplug version`.
var Version = "0.1.0-dev"

// APIVersion is the path prefix of every endpoint.
const APIVersion = "/v1"

// Server serves the engine's API.
type Server struct {
	eng *engine.Engine
	log *slog.Logger
	mux *http.ServeMux
}

// NewServer returns a server for eng.
func NewServer(eng *engine.Engine, log *slog.Logger) *Server {
	s := &Server{eng: eng, log: log, mux: http.NewServeMux()}
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
	if err := os.Chmod(socketPath, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("set permissions of %s: %w", socketPath, err)
	}
	srv := &http.Server{
		Handler:           s.mux,
		ConnContext:       withPeer,
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		srv.Close()
	}()
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

type peerKey struct{}

// withPeer records the connecting process's credentials from SO_PEERCRED.
func withPeer(ctx context.Context, conn net.Conn) context.Context {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *unix.Ucred
	_ = raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil || cred == nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, cred)
}

// subject maps the peer to an owner. Every peer is in the default tenant
// for now: only root can open the socket.
func subject(r *http.Request) (model.Owner, bool) {
	cred, ok := r.Context().Value(peerKey{}).(*unix.Ucred)
	if !ok {
		return model.Owner{}, false
	}
	return model.Owner{UID: cred.Uid}, true
}

// handler is an endpoint: it gets the caller and returns a value to encode
// as JSON, or an error.
type handler func(w http.ResponseWriter, r *http.Request, who model.Owner) (any, error)

func (s *Server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		who, ok := subject(r)
		if !ok {
			writeError(w, &Error{Status: http.StatusForbidden, Kind: KindInvalid,
				Message: "cannot identify the client: connect over the Unix socket"})
			return
		}
		start := time.Now()
		out, err := h(w, r, who)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "uid", who.UID,
			"duration", time.Since(start), "error", err)
		if err != nil {
			writeError(w, toError(err))
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
