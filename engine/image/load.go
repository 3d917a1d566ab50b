package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/podplug/podplug/engine/model"
)

// Progress reports how far Load or Pull is with one layer.
type Progress struct {
	// Image is the first name of the image being stored, or its ID.
	Image string `json:"image"`
	// Layer is the layer's diff ID.
	Layer string `json:"layer"`
	// Index is the layer's position in the image, from 1 at the bottom,
	// and Count is the number of layers in the image.
	Index int `json:"index"`
	Count int `json:"count"`
	// Current is the number of bytes of the layer read so far, and Total
	// the number expected (compressed, as it is read) or 0 when unknown.
	Current int64 `json:"current"`
	Total   int64 `json:"total"`
	// Done is set in the last report of a layer, once it is extracted and
	// checked, or found in the store already (Reused).
	Done   bool `json:"done,omitempty"`
	Reused bool `json:"reused,omitempty"`
}

// ProgressFunc receives progress reports. Load and Pull call it on the
// goroutine that called them, at most every progressInterval per layer
// plus once when the layer is done.
type ProgressFunc func(Progress)

// progressInterval is the minimum time between two reports on one layer.
const progressInterval = 100 * time.Millisecond

// LoadOptions tune Load.
type LoadOptions struct {
	// Progress, when not nil, receives a report on each layer.
	Progress ProgressFunc
}

// Load stores the images of an image archive read from r: a docker-archive
// (`docker save`, `podman save`) with one or more images, or an OCI image
// layout in a tar stream (an OCI archive, or a layout directory sent as a
// tar). The stream may be gzip- or zstd-compressed. An archive that has
// both manifest.json and index.json is read as a docker-archive.
//
// Load first unpacks the stream below root/tmp, so it needs free space for
// a copy of the archive there, and then stores every image as Pull does:
// layers by diff ID, each extracted once and shared. It returns the stored
// images in archive order. Names come from the archive: manifest.json's
// RepoTags, the repositories file, or the OCI annotations
// io.containerd.image.name and org.opencontainers.image.ref.name. A name
// without a registry host means docker.io, as Docker writes it. Images
// without names are stored by ID.
//
// Load stores all images or none. A truncated or corrupt archive fails
// with ErrInvalidArchive, and an image whose config is unusable or whose
// layer does not match its diff ID fails with ErrInvalidImage. On any
// error, ctx being cancelled included, Load leaves no image record, no new
// layer and no temporary directory.
func (s *Store) Load(ctx context.Context, r io.Reader, opts LoadOptions) ([]*model.Image, error) {
	tmp, err := os.MkdirTemp(s.tmpDir(), "load-")
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}
	defer os.RemoveAll(tmp)

	archive, err := unpackArchive(ctx, r, tmp)
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}
	defer archive.close()
	sources, err := archive.sources()
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}

	images, err := s.storeSources(ctx, sources, opts.Progress)
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}
	for _, img := range images {
		s.log.Info("loaded image", "image", img.ID, "names", img.Names, "size", img.Size)
	}
	return images, nil
}

// sources returns the images of the archive in a, after finding its format.
func (a *archiveDir) sources() ([]*imageSource, error) {
	switch {
	case a.has(dockerManifestFile):
		return a.dockerSources()
	case a.has(ociIndexFile) && a.has(ociLayoutFile):
		return a.ociSources()
	}
	return nil, fmt.Errorf("%w: neither a docker-archive (no %s) nor an OCI image layout "+
		"(no %s and %s); for a root file system tarball use \"podplug image import\"",
		ErrInvalidArchive, dockerManifestFile, ociIndexFile, ociLayoutFile)
}

// maxStoreAttempts bounds how often storeSources starts over when Remove
// deleted a layer that it had found present.
const maxStoreAttempts = 3

// storeSources extracts the layers of sources that the store lacks, checks
// each against its diff ID, and then stores the layers and the image
// records in one step. It stores all sources or none.
func (s *Store) storeSources(
	ctx context.Context, sources []*imageSource, progress ProgressFunc,
) ([]*model.Image, error) {
	sources = mergeSources(sources)
	layers := &layerSet{tmpDirs: make(map[string]string), sizes: make(map[string]int64)}
	defer layers.removeTmpDirs()

	for attempt := 1; ; attempt++ {
		for _, src := range sources {
			if err := s.fetchLayers(ctx, src, layers, progress); err != nil {
				return nil, fmt.Errorf("image %s: %w", src.label(), err)
			}
		}
		images := make([]*model.Image, 0, len(sources))
		for _, src := range sources {
			images = append(images, layers.image(src))
		}

		stored, err := s.addImages(images, layers.tmpDirs)
		if errors.Is(err, errLayerRemoved) && attempt < maxStoreAttempts {
			s.log.Debug("a layer was removed while storing images, retrying", "error", err)
			layers.forgetPlaced()
			continue
		}
		return stored, err
	}
}

// layerSet records the layers that storeSources has prepared.
type layerSet struct {
	// tmpDirs maps the diff ID of each layer extracted so far to its
	// directory below root/tmp.
	tmpDirs map[string]string
	// sizes maps diff IDs to the uncompressed layer sizes.
	sizes map[string]int64
}

// image returns the image record of src. Its size counts a layer that src
// lists more than once only once, as the layer is stored once.
func (l *layerSet) image(src *imageSource) *model.Image {
	img := &model.Image{
		ID: src.id, Names: src.names, Config: src.config, CreatedAt: time.Now().UTC(),
	}
	for _, layer := range src.layers {
		if !slices.Contains(img.Layers, layer.diffID) {
			img.Size += l.sizes[layer.diffID]
		}
		img.Layers = append(img.Layers, layer.diffID)
	}
	return img
}

// forgetPlaced drops the layers whose directories addImages moved away,
// so that the next attempt extracts them again if they are missing.
func (l *layerSet) forgetPlaced() {
	for diffID, dir := range l.tmpDirs {
		if _, err := os.Lstat(dir); err != nil {
			delete(l.tmpDirs, diffID)
		}
	}
}

// removeTmpDirs removes the extracted layers that were not moved into
// place.
func (l *layerSet) removeTmpDirs() {
	for _, dir := range l.tmpDirs {
		os.RemoveAll(dir)
	}
}

// fetchLayers extracts each layer of src that is neither in the store nor
// in layers yet, into layers.
func (s *Store) fetchLayers(
	ctx context.Context, src *imageSource, layers *layerSet, progress ProgressFunc,
) error {
	for i, layer := range src.layers {
		report := Progress{
			Image: src.label(), Layer: layer.diffID, Index: i + 1, Count: len(src.layers),
			Total: layer.size,
		}
		if _, ok := layers.tmpDirs[layer.diffID]; ok {
			notify(progress, withDone(report, true))
			continue
		}
		if size, ok := s.presentLayerSize(layer.diffID); ok {
			layers.sizes[layer.diffID] = size
			notify(progress, withDone(report, true))
			continue
		}

		tmp, result, err := s.fetchLayer(ctx, layer, report, progress)
		if err != nil {
			return fmt.Errorf("layer %d (%s): %w", i+1, layer.diffID, err)
		}
		layers.tmpDirs[layer.diffID] = tmp
		layers.sizes[layer.diffID] = result.Size
		notify(progress, withDone(report, false))
	}
	return nil
}

// fetchLayer extracts layer into a new directory below root/tmp and checks
// that its digest is the layer's diff ID. On error the directory is
// already removed.
func (s *Store) fetchLayer(
	ctx context.Context, layer layerSource, report Progress, progress ProgressFunc,
) (string, ExtractResult, error) {
	rc, err := layer.open()
	if err != nil {
		return "", ExtractResult{}, err
	}
	defer rc.Close()
	counted := &progressReader{r: rc, report: report, progress: progress}

	tmp, result, err := s.extractLayer(ctx, counted)
	if err != nil {
		return "", ExtractResult{}, err
	}
	// Reading to the end lets a registry's reader verify the blob digest,
	// which it does at EOF.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		os.RemoveAll(tmp)
		return "", ExtractResult{}, fmt.Errorf("read layer: %w", err)
	}
	if result.Digest != layer.diffID {
		os.RemoveAll(tmp)
		return "", ExtractResult{}, fmt.Errorf("%w: layer content has digest %s, "+
			"the config says %s: the layer is corrupt or belongs to another image",
			ErrInvalidImage, result.Digest, layer.diffID)
	}
	return tmp, result, nil
}

// presentLayerSize reports whether the layer diffID is in the store and
// returns its size: the sum of the sizes of its regular files, an estimate
// of the size of its tar stream, which the store does not keep.
func (s *Store) presentLayerSize(diffID string) (int64, bool) {
	hexDigest, err := layerHex(diffID)
	if err != nil {
		return 0, false
	}
	dir := s.layerDir(hexDigest)
	if _, err := os.Lstat(dir); err != nil {
		return 0, false
	}
	var size int64
	filepath.WalkDir(dir, func(_ string, entry fs.DirEntry, err error) error {
		if err != nil || !entry.Type().IsRegular() {
			return nil
		}
		if info, err := entry.Info(); err == nil {
			size += info.Size()
		}
		return nil
	})
	return size, true
}

func notify(progress ProgressFunc, report Progress) {
	if progress != nil {
		progress(report)
	}
}

func withDone(report Progress, reused bool) Progress {
	report.Done, report.Reused = true, reused
	if report.Current < report.Total {
		report.Current = report.Total
	}
	return report
}

// progressReader counts the bytes read through it and reports them at
// most every progressInterval.
type progressReader struct {
	r        io.Reader
	report   Progress
	progress ProgressFunc
	last     time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.report.Current += int64(n)
	if p.progress != nil && time.Since(p.last) >= progressInterval {
		p.last = time.Now()
		p.progress(p.report)
	}
	return n, err
}
