package api

import (
	"net/http"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/model"
)

func (s *Server) imageRoutes() {
	p := APIVersion + "/images"
	s.handle("POST "+p+"/import", func(_ http.ResponseWriter, r *http.Request, _ model.Owner) (any, error) {
		return s.eng.ImportImage(r.Context(), r.Body, r.URL.Query().Get("name"))
	})
	s.handle("GET "+p, func(_ http.ResponseWriter, _ *http.Request, _ model.Owner) (any, error) {
		images, err := s.eng.Images().List()
		if images == nil {
			images = []*model.Image{}
		}
		return images, err
	})
	s.handle("GET "+p+"/{ref...}", func(_ http.ResponseWriter, r *http.Request, _ model.Owner) (any, error) {
		return s.eng.Images().Lookup(r.PathValue("ref"))
	})
	s.handle("DELETE "+p+"/{ref...}", func(_ http.ResponseWriter, r *http.Request, who model.Owner) (any, error) {
		opts := engine.RemoveImageOptions{Force: queryBool(r, "force")}
		return s.eng.RemoveImage(r.Context(), who.Tenant, r.PathValue("ref"), opts)
	})
	s.handle("POST "+p+"/tag", func(_ http.ResponseWriter, r *http.Request, _ model.Owner) (any, error) {
		var req struct {
			Image string `json:"image"`
			Name  string `json:"name"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return nil, s.eng.Images().Tag(req.Image, req.Name)
	})
}
