package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/podplug/podplug/engine/model"
)

// imageSource is one image that Load or Pull is about to store: its ID,
// names, config and layers, from an archive or a registry.
type imageSource struct {
	// id is the sha256 digest of the image's config file, as podman and
	// Docker compute image IDs, so an image has the same ID whether it
	// came from a docker-archive, an OCI layout or a registry.
	id     string
	names  []string // normalized
	config model.ImageConfig
	layers []layerSource // bottom first
}

// layerSource is one layer of an imageSource.
type layerSource struct {
	// diffID is the sha256 digest of the uncompressed layer, from the
	// image config. The stored layer is named by it, and Extract's digest
	// must match it.
	diffID string
	// size is the number of bytes that open returns, compressed or not,
	// or 0 when unknown. It is only shown in progress reports.
	size int64
	// open returns the layer as a tar stream, plain or compressed as
	// Extract accepts it.
	open func() (io.ReadCloser, error)
}

// label names src in messages: its first name, else its ID.
func (src *imageSource) label() string {
	if len(src.names) > 0 {
		return src.names[0]
	}
	return src.id
}

// maxConfigSize bounds an image config file. Configs are usually a few KiB,
// and this leaves room for a long build history.
const maxConfigSize = 8 << 20

// parseConfig decodes the image config file raw and checks that podplug
// can run the image: a Linux image with at least one layer, whose diff IDs
// are sha256 digests. Errors wrap ErrInvalidImage.
func parseConfig(raw []byte) (*v1.ConfigFile, error) {
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: config: %w", ErrInvalidImage, err)
	}
	if cf.OS != "" && cf.OS != "linux" {
		return nil, fmt.Errorf("%w: config: operating system is %q, podplug runs only linux images",
			ErrInvalidImage, cf.OS)
	}
	if len(cf.RootFS.DiffIDs) == 0 {
		return nil, fmt.Errorf("%w: config lists no layers, so there is no root file system "+
			"to run", ErrInvalidImage)
	}
	for _, diffID := range cf.RootFS.DiffIDs {
		if _, err := layerHex(diffID.String()); err != nil {
			return nil, fmt.Errorf("%w: config: diff ID %q is not a sha256 digest",
				ErrInvalidImage, diffID.String())
		}
	}
	return cf, nil
}

// imageConfig returns the container defaults of cf.
func imageConfig(cf *v1.ConfigFile) model.ImageConfig {
	c := cf.Config
	return model.ImageConfig{
		Entrypoint: slices.Clone(c.Entrypoint),
		Cmd:        slices.Clone(c.Cmd),
		Env:        slices.Clone(c.Env),
		WorkingDir: c.WorkingDir,
		User:       c.User,
		Labels:     c.Labels,
		StopSignal: c.StopSignal,
	}
}

// configDigest returns the image ID for the config file raw.
func configDigest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// sourceFromImage returns the imageSource of img, an image from
// go-containerregistry (an OCI layout or a registry). It reads the config,
// which for a registry is a request, but no layer.
func sourceFromImage(img v1.Image, names []string) (*imageSource, error) {
	manifest, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(raw) > maxConfigSize {
		return nil, fmt.Errorf("%w: config is %d bytes, more than the maximum of %d",
			ErrInvalidImage, len(raw), maxConfigSize)
	}
	id := configDigest(raw)
	if want := manifest.Config.Digest.String(); id != want {
		return nil, fmt.Errorf("%w: config digest is %s, the manifest lists %s",
			ErrInvalidImage, id, want)
	}
	cf, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}

	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("read layers: %w", err)
	}
	if len(layers) != len(cf.RootFS.DiffIDs) {
		return nil, fmt.Errorf("%w: manifest lists %d layers, the config %d diff IDs",
			ErrInvalidImage, len(layers), len(cf.RootFS.DiffIDs))
	}
	src := &imageSource{id: id, names: names, config: imageConfig(cf)}
	for i, layer := range layers {
		size, err := layer.Size()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		src.layers = append(src.layers, layerSource{
			diffID: cf.RootFS.DiffIDs[i].String(),
			size:   size,
			open:   layer.Compressed,
		})
	}
	return src, nil
}

// mergeSources merges sources with the same ID, such as one image listed
// twice in an archive under different names, keeping the first one's place.
func mergeSources(sources []*imageSource) []*imageSource {
	var merged []*imageSource
	byID := make(map[string]*imageSource)
	for _, src := range sources {
		if first, ok := byID[src.id]; ok {
			first.names = mergeNames(first.names, src.names)
			continue
		}
		byID[src.id] = src
		merged = append(merged, src)
	}
	return merged
}
