package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// PullOptions tune Pull.
type PullOptions struct {
	// Insecure allows plain HTTP and skips the verification of the
	// registry's TLS certificate, as podman's --tls-verify=false does.
	// Without it Pull talks HTTPS only and checks the certificate against
	// the system's roots, on loopback addresses too.
	Insecure bool
	// Progress, when not nil, receives a report on each layer.
	Progress ProgressFunc
}

// Pull fetches the image that ref names from its registry and stores it
// under ref, after NormalizeName. ref must name its registry host, such as
// "127.0.0.1:5000/app:v1" or "docker.io/library/busybox": Pull never
// guesses a registry for a short name. For an image index it pulls the
// image for this host's platform (linux and runtime.GOARCH).
//
// Layers that the store has are not downloaded, and each new layer is
// extracted once and checked against its diff ID. Pull sends no
// credentials. It fails with an error wrapping ErrInvalidName for a bad
// reference, store.ErrNotFound when the registry has no such image,
// ErrInvalidImage for an unusable image, and ErrInsecureRegistry when the
// registry needs Insecure. On any error, ctx being cancelled included, Pull
// leaves no image record, no new layer and no temporary directory.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (*model.Image, error) {
	normalized, remoteRef, err := parseRemoteRef(ref, opts.Insecure)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}

	img, err := remote.Image(remoteRef,
		remote.WithContext(ctx),
		remote.WithTransport(registryTransport(opts.Insecure)),
		remote.WithPlatform(hostPlatform()))
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, classifyRemoteError(err))
	}
	src, err := sourceFromImage(img, []string{normalized})
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, classifyRemoteError(err))
	}

	stored, err := s.storeSources(ctx, []*imageSource{src}, opts.Progress)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, classifyRemoteError(err))
	}
	pulled := stored[0]
	s.log.Info("pulled image", "image", pulled.ID, "name", normalized, "size", pulled.Size)
	return pulled, nil
}

// parseRemoteRef checks that ref names a registry host and returns it
// normalized and as go-containerregistry's reference.
func parseRemoteRef(ref string, insecure bool) (string, name.Reference, error) {
	parsed, err := parseReference(ref)
	if err != nil {
		return "", nil, err
	}
	if parsed.domain == "" {
		return "", nil, fmt.Errorf("%w %q: no registry host: give one, such as "+
			"127.0.0.1:5000/%s", ErrInvalidName, ref, ref)
	}
	normalized, err := NormalizeName(ref)
	if err != nil {
		return "", nil, err
	}

	var nameOpts []name.Option
	if insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	remoteRef, err := name.ParseReference(normalized, nameOpts...)
	if err != nil {
		return "", nil, fmt.Errorf("%w %q: %w", ErrInvalidName, ref, err)
	}
	return normalized, remoteRef, nil
}

// registryTransport returns the HTTP transport for a pull. It is a clone
// of http.DefaultTransport, so proxies come from the environment as usual.
func registryTransport(insecure bool) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		// The user asked for this with --tls-verify=false.
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		return t
	}
	return httpsOnly{next: t}
}

// httpsOnly rejects requests that are not HTTPS. go-containerregistry falls
// back to plain HTTP for registries on loopback and private addresses,
// which podman allows only with --tls-verify=false.
type httpsOnly struct {
	next http.RoundTripper
}

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %s", ErrInsecureRegistry, req.URL.Host)
	}
	return h.next.RoundTrip(req)
}

// classifyRemoteError wraps store.ErrNotFound into a registry's reply that
// the repository, image or blob is unknown.
func classifyRemoteError(err error) error {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return err
	}
	if terr.StatusCode == http.StatusNotFound {
		return fmt.Errorf("image %w in the registry: %w", store.ErrNotFound, err)
	}
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode,
			transport.BlobUnknownErrorCode:
			return fmt.Errorf("image %w in the registry: %w", store.ErrNotFound, err)
		}
	}
	return err
}
