package api

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/hooks"
	"github.com/podplug/podplug/policy"
)

// maxModuleBytes caps an uploaded plugin module.
const maxModuleBytes = 64 << 20

// Headers of a plugin install request; the body is the module.
const (
	PluginManifestHeader = "X-Podplug-Manifest" // base64 of the manifest, optional
	PluginNameHeader     = "X-Podplug-Plugin-Name"
	PluginGrantsHeader   = "X-Podplug-Grants" // comma-separated
)

func (s *Server) pluginRoutes() {
	p := APIVersion + "/plugins"
	s.handle("POST "+p, s.installPlugin)
	s.handle("GET "+p, func(_ http.ResponseWriter, _ *http.Request, _ Subject) (any, error) {
		list := s.eng.Plugins().List()
		if list == nil {
			list = []hooks.Info{}
		}
		return list, nil
	})
	s.handle("GET "+p+"/{name}", func(_ http.ResponseWriter, r *http.Request, _ Subject) (any, error) {
		return s.eng.Plugins().Get(r.PathValue("name"))
	})
	s.handle("DELETE "+p+"/{name}", func(_ http.ResponseWriter, r *http.Request, _ Subject) (any, error) {
		return nil, s.eng.Plugins().Remove(r.Context(), r.PathValue("name"))
	})
	s.handle("POST "+p+"/{name}/{op}", func(_ http.ResponseWriter, r *http.Request,
		who Subject) (any, error) {
		switch op := r.PathValue("op"); op {
		case "enable", "disable":
			if err := s.check(r.Context(), who, "plugin."+op, policy.Input{}); err != nil {
				return nil, err
			}
			return nil, s.eng.Plugins().SetEnabled(r.Context(), r.PathValue("name"), op == "enable")
		default:
			return nil, &Error{Status: http.StatusNotFound, Kind: KindNotFound,
				Message: "unknown plugin operation " + op}
		}
	})
}

func (s *Server) installPlugin(_ http.ResponseWriter, r *http.Request, _ Subject) (any, error) {
	wasm, err := io.ReadAll(io.LimitReader(r.Body, maxModuleBytes+1))
	if err != nil {
		return nil, err
	}
	if len(wasm) > maxModuleBytes {
		return nil, fmt.Errorf("plugin module is over %d MiB: %w", maxModuleBytes>>20, engine.ErrInvalid)
	}
	opts := hooks.InstallOptions{Name: r.Header.Get(PluginNameHeader)}
	if m := r.Header.Get(PluginManifestHeader); m != "" {
		opts.Manifest, err = base64.StdEncoding.DecodeString(m)
		if err != nil {
			return nil, fmt.Errorf("plugin manifest header: %v: %w", err, engine.ErrInvalid)
		}
	}
	if g := r.Header.Get(PluginGrantsHeader); g != "" {
		opts.Grants = strings.Split(g, ",")
	}
	return s.eng.Plugins().Install(r.Context(), wasm, opts)
}
