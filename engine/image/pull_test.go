package image

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/podplug/podplug/store"
)

// testRegistry is an in-memory registry on 127.0.0.1 that counts the blob
// downloads and can hold them until a test releases them.
type testRegistry struct {
	server *httptest.Server
	host   string

	mu        sync.Mutex
	blobGets  map[string]int // digest -> GET requests
	holdBlobs chan struct{}  // when not nil, blob GETs wait for it to close
	blobSeen  chan struct{}  // closed at the first held blob GET
}

// newTestRegistry starts a registry, plain HTTP unless tls is set, and
// stops it when t ends.
func newTestRegistry(t *testing.T, tls bool) *testRegistry {
	t.Helper()
	r := &testRegistry{blobGets: make(map[string]int)}
	handler := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			r.countBlob(req)
		}
		handler.ServeHTTP(w, req)
	})
	r.server = httptest.NewUnstartedServer(wrapped)
	// Failed TLS handshakes are part of the tests, not news.
	r.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		r.server.StartTLS()
	} else {
		r.server.Start()
	}
	t.Cleanup(r.server.Close)
	r.host = strings.TrimPrefix(strings.TrimPrefix(r.server.URL, "http://"), "https://")
	return r
}

func (r *testRegistry) countBlob(req *http.Request) {
	digest := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
	r.mu.Lock()
	r.blobGets[digest]++
	hold, seen := r.holdBlobs, r.blobSeen
	r.mu.Unlock()
	if hold == nil {
		return
	}
	select {
	case <-seen:
	default:
		close(seen)
	}
	select {
	case <-hold:
	case <-req.Context().Done():
	}
}

func (r *testRegistry) gets(digest string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobGets[digest]
}

// push writes img to the registry as repo (such as "test/app:v1") and
// returns the full reference.
func (r *testRegistry) push(t *testing.T, repo string, img v1.Image) string {
	t.Helper()
	ref := r.host + "/" + repo
	parsed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{}
	if strings.HasPrefix(r.server.URL, "https://") {
		opts = append(opts, remote.WithTransport(r.server.Client().Transport))
	}
	if err := remote.Write(parsed, img, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

func TestPull(t *testing.T) {
	reg := newTestRegistry(t, false)
	base, top := busyLayers(t)
	src := testImage{layers: [][]byte{base, top}, config: appConfig}
	img := v1Image(t, src)
	ref := reg.push(t, "test/app:v1", img)

	s := newTestStore(t)
	var reports []Progress
	pulled, err := s.Pull(context.Background(), ref, PullOptions{Insecure: true,
		Progress: func(p Progress) { reports = append(reports, p) }})
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}

	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256Digest(raw); pulled.ID != want {
		t.Errorf("ID %s, want the config digest %s", pulled.ID, want)
	}
	if !slices.Equal(pulled.Names, []string{ref}) {
		t.Errorf("names %q, want [%s]", pulled.Names, ref)
	}
	if !slices.Equal(pulled.Layers, []string{sha256Digest(base), sha256Digest(top)}) {
		t.Errorf("layers %q, want the diff IDs", pulled.Layers)
	}
	checkConfig(t, pulled.Config, wantAppConfig)
	checkNoLeftovers(t, s, 2)
	checkRootfs(t, s, pulled)

	var done []int
	for _, p := range reports {
		if p.Done && !p.Reused {
			done = append(done, p.Index)
		}
		if p.Total <= 0 {
			t.Errorf("progress %+v has no total, want the compressed layer size", p)
		}
	}
	if !slices.Equal(done, []int{1, 2}) {
		t.Errorf("layers reported done: %v, want [1 2]", done)
	}
}

// TestPullSharesLayersWithLoad pulls an image whose base layer came from
// a docker-archive before: the layer is not downloaded and stored once.
func TestPullSharesLayersWithLoad(t *testing.T) {
	reg := newTestRegistry(t, false)
	base, top := busyLayers(t)
	img := v1Image(t, testImage{layers: [][]byte{base, top}})
	ref := reg.push(t, "test/app:v1", img)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	baseDigest, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	topDigest, err := layers[1].Digest()
	if err != nil {
		t.Fatal(err)
	}

	s := newTestStore(t)
	load(t, s, dockerArchive(t, []testImage{{tags: []string{"localhost/base:1"},
		layers: [][]byte{base}}}))
	pulled, err := s.Pull(context.Background(), ref, PullOptions{Insecure: true})
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}

	if n := reg.gets(baseDigest.String()); n != 0 {
		t.Errorf("base layer downloaded %d times, want 0: the store had it", n)
	}
	if n := reg.gets(topDigest.String()); n != 1 {
		t.Errorf("top layer downloaded %d times, want 1", n)
	}
	checkNoLeftovers(t, s, 2)
	checkRootfs(t, s, pulled)
}

func TestPullTLSRegistry(t *testing.T) {
	reg := newTestRegistry(t, true)
	base, _ := busyLayers(t)
	ref := reg.push(t, "test/app:v1", v1Image(t, testImage{layers: [][]byte{base}}))

	s := newTestStore(t)
	// The test server's certificate is self-signed.
	if _, err := s.Pull(context.Background(), ref, PullOptions{}); err == nil {
		t.Fatal("Pull with TLS verification from a self-signed registry succeeded")
	}
	checkNothingStored(t, s)
	if _, err := s.Pull(context.Background(), ref, PullOptions{Insecure: true}); err != nil {
		t.Fatalf("Pull without TLS verification: %v", err)
	}
	checkNoLeftovers(t, s, 1)
}

func TestPullFails(t *testing.T) {
	reg := newTestRegistry(t, false)
	base, _ := busyLayers(t)
	ref := reg.push(t, "test/app:v1", v1Image(t, testImage{layers: [][]byte{base}}))

	tests := []struct {
		name    string
		ref     string
		opts    PullOptions
		wantErr error
	}{
		{name: "plain HTTP without Insecure", ref: ref, wantErr: ErrInsecureRegistry},
		{name: "unknown tag", ref: reg.host + "/test/app:v2", opts: PullOptions{Insecure: true},
			wantErr: store.ErrNotFound},
		{name: "unknown repository", ref: reg.host + "/test/none:v1",
			opts: PullOptions{Insecure: true}, wantErr: store.ErrNotFound},
		{name: "short name", ref: "busybox", wantErr: ErrInvalidName},
		{name: "invalid name", ref: reg.host + "/Test/App", wantErr: ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			_, err := s.Pull(context.Background(), tt.ref, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Pull error %v, want %v", err, tt.wantErr)
			}
			checkNothingStored(t, s)
		})
	}
}

func TestPullCancelled(t *testing.T) {
	reg := newTestRegistry(t, false)
	base, top := busyLayers(t)
	ref := reg.push(t, "test/app:v1", v1Image(t, testImage{layers: [][]byte{base, top}}))
	reg.mu.Lock()
	reg.holdBlobs, reg.blobSeen = make(chan struct{}), make(chan struct{})
	seen := reg.blobSeen
	reg.mu.Unlock()
	defer close(reg.holdBlobs)

	s := newTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-seen
		cancel()
	}()
	_, err := s.Pull(ctx, ref, PullOptions{Insecure: true})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Pull error %v, want context.Canceled", err)
	}
	checkNothingStored(t, s)
}
