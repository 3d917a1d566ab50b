package api

import (
	"encoding/json"
	"net/http"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/policy"
)

func (s *Server) imageRoutes() {
	p := APIVersion + "/images"
	s.handle("POST "+p+"/import", func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		name := r.URL.Query().Get("name")
		in := policy.Input{Request: &policy.Request{Image: name}}
		if err := s.check(r.Context(), who, policy.OpImageImport, in); err != nil {
			return nil, err
		}
		return s.eng.ImportImage(r.Context(), r.Body, name)
	})
	s.handle("POST "+p+"/load", s.loadImages)
	s.handle("POST "+p+"/pull", s.pullImage)
	s.handle("GET "+p, func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		images, err := s.eng.Images().List()
		if err != nil {
			return nil, err
		}
		return s.visibleImages(r.Context(), who, images)
	})
	s.handle("GET "+p+"/{ref...}", func(_ http.ResponseWriter, r *http.Request, _ Subject) (any, error) {
		return s.eng.Images().Lookup(r.PathValue("ref"))
	})
	s.handle("DELETE "+p+"/{ref...}", func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		opts := engine.RemoveImageOptions{Force: queryBool(r, "force")}
		return s.eng.RemoveImage(r.Context(), scope(who), r.PathValue("ref"), opts)
	})
	s.handle("POST "+p+"/tag", func(_ http.ResponseWriter, r *http.Request, who Subject) (any, error) {
		var req struct {
			Image string `json:"image"`
			Name  string `json:"name"`
		}
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		in := policy.Input{Target: &policy.Target{Kind: "image", Name: req.Image},
			Request: &policy.Request{Image: req.Name}}
		if err := s.check(r.Context(), who, policy.OpImageTag, in); err != nil {
			return nil, err
		}
		return nil, s.eng.Images().Tag(req.Image, req.Name)
	})
}

// ImageMessage is one line of the reply to a load or pull, a stream of
// JSON lines: progress reports, then one line with the stored images or
// the error.
type ImageMessage struct {
	Progress *image.Progress `json:"progress,omitempty"`
	Images   []*model.Image  `json:"images,omitempty"`
	Error    *Error          `json:"error,omitempty"`
}

// PullRequest is the body of a pull request.
type PullRequest struct {
	Ref string `json:"ref"`
	// TLSVerify false allows plain HTTP and unverified certificates.
	TLSVerify bool `json:"tlsVerify"`
}

// loadImages stores the images of the archive in the request body. The
// body is read to its end before the first progress line, so the reply
// does not need a full-duplex connection.
func (s *Server) loadImages(w http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	stream := s.newImageStream(w, who)
	images, err := s.eng.LoadImages(r.Context(), r.Body, stream.progress)
	return stream.finish(images, err)
}

func (s *Server) pullImage(w http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	var req PullRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	in := policy.Input{Request: &policy.Request{Image: req.Ref}}
	if err := s.check(r.Context(), who, policy.OpImageImport, in); err != nil {
		return nil, err
	}
	stream := s.newImageStream(w, who)
	opts := image.PullOptions{Insecure: !req.TLSVerify, Progress: stream.progress}
	img, err := s.eng.PullImage(r.Context(), req.Ref, opts)
	if err != nil {
		return stream.finish(nil, err)
	}
	return stream.finish([]*model.Image{img}, nil)
}

// imageStream writes the reply of a load or pull. The status line goes out
// with the first line written, so an error before any progress gets an
// ordinary error reply with its HTTP status.
type imageStream struct {
	w       http.ResponseWriter
	enc     *json.Encoder
	started bool
	// classify turns an error into the reply for the caller, as the
	// server does for ordinary replies.
	classify func(error) *Error
}

func (s *Server) newImageStream(w http.ResponseWriter, who Subject) *imageStream {
	classify := func(err error) *Error { return s.toError(err, who) }
	return &imageStream{w: w, classify: classify}
}

func (st *imageStream) progress(p image.Progress) {
	st.write(ImageMessage{Progress: &p})
}

// finish writes the last line and returns what the handler returns.
func (st *imageStream) finish(images []*model.Image, err error) (any, error) {
	if err != nil && !st.started {
		return nil, err
	}
	if err != nil {
		st.write(ImageMessage{Error: st.classify(err)})
		return streamed, nil
	}
	st.write(ImageMessage{Images: images})
	return streamed, nil
}

func (st *imageStream) write(msg ImageMessage) {
	if !st.started {
		st.w.Header().Set("Content-Type", "application/x-ndjson")
		st.w.WriteHeader(http.StatusOK)
		st.enc = json.NewEncoder(st.w)
		st.started = true
	}
	// A write error means that the client went away. The request's context
	// is cancelled then, which stops the load or pull.
	_ = st.enc.Encode(msg)
	_ = http.NewResponseController(st.w).Flush()
}
