package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// Directories below a Store's root.
const (
	layersDirName = "layers" // layers/<hex>: one extracted layer per digest
	tmpDirName    = "tmp"    // extractions in progress and layers being removed
)

// Store keeps images: their records in the database and their layers,
// extracted, in directories below its root that images with the same layer
// share. A Store is safe for concurrent use. Only one Store may use a root
// at a time.
type Store struct {
	root string
	db   *store.Store
	log  *slog.Logger

	// mu makes placing a layer and writing the image that lists it one step
	// with respect to Remove, so that Remove never deletes a layer that an
	// import has found present and is about to reference. Extraction itself
	// runs outside mu.
	mu sync.Mutex

	// shiftMu guards shifting, which maps the directory of each shifted
	// layer copy in progress to a channel closed when it ends.
	shiftMu  sync.Mutex
	shifting map[string]chan struct{}
}

// NewStore opens the image store in root, such as ROOT/images, creating it
// if needed, with its records in db. A nil logger discards messages.
//
// NewStore removes what a crash may have left: extractions in progress
// below root/tmp and layer directories that no image lists.
func NewStore(root string, db *store.Store, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{root: root, db: db, log: logger}

	for _, dir := range []string{s.layersDir(), s.tmpDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open image store %s: %w", root, err)
		}
	}
	if err := s.cleanTmp(); err != nil {
		return nil, fmt.Errorf("open image store %s: %w", root, err)
	}
	if err := s.removeUnusedLayers(); err != nil {
		return nil, fmt.Errorf("open image store %s: %w", root, err)
	}
	return s, nil
}

func (s *Store) layersDir() string { return filepath.Join(s.root, layersDirName) }

func (s *Store) tmpDir() string { return filepath.Join(s.root, tmpDirName) }

// layerDir returns the directory of the layer with hex digest hexDigest.
func (s *Store) layerDir(hexDigest string) string {
	return filepath.Join(s.layersDir(), hexDigest)
}

// ImportRootfs imports the tar archive read from r, plain, gzip or zstd, as a
// single-layer image with config cfg, named name after NormalizeName. An
// empty name imports the image without a name. The layer is stored once:
// importing an archive whose digest is present reuses that layer, and
// importing the same archive and config again adds name to the existing
// image. A name that another image has moves to this one.
//
// The image ID is the sha256 of the JSON of its layers and config, so it
// does not depend on names or time. On any error, including ctx being
// cancelled, ImportRootfs leaves neither an image record nor a new layer
// nor a temporary directory behind.
func (s *Store) ImportRootfs(
	ctx context.Context, r io.Reader, name string, cfg model.ImageConfig,
) (*model.Image, error) {
	var names []string
	if name != "" {
		normalized, err := NormalizeName(name)
		if err != nil {
			return nil, fmt.Errorf("import image: %w", err)
		}
		names = []string{normalized}
	}

	label := name
	if label == "" {
		label = "(no name)"
	}
	tmp, layer, err := s.extractLayer(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("import image %s: %w", label, err)
	}
	defer os.RemoveAll(tmp) // no-op once the layer is in place

	img, err := newImage([]ExtractResult{layer}, cfg, names)
	if err != nil {
		return nil, fmt.Errorf("import image %s: %w", label, err)
	}
	stored, err := s.addImage(img, map[string]string{layer.Digest: tmp})
	if err != nil {
		return nil, fmt.Errorf("import image %s: %w", label, err)
	}
	s.log.Info("imported image", "image", stored.ID, "name", name, "size", stored.Size)
	return stored, nil
}

// extractLayer extracts r into a new directory below root/tmp and returns
// it. On error the directory is already removed.
func (s *Store) extractLayer(ctx context.Context, r io.Reader) (string, ExtractResult, error) {
	tmp, err := os.MkdirTemp(s.tmpDir(), "layer-")
	if err != nil {
		return "", ExtractResult{}, err
	}
	// MkdirTemp creates 0700. The root of a rootfs is 0755 unless the
	// archive has a "./" entry with its own mode.
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return "", ExtractResult{}, err
	}

	result, err := Extract(ctx, r, tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return "", ExtractResult{}, err
	}
	s.log.Debug("extracted layer", "layer", result.Digest, "size", result.Size)
	return tmp, result, nil
}

// imageContent is what an image ID is the digest of. encoding/json writes
// struct fields in order and map keys sorted, so equal content gives equal
// JSON.
type imageContent struct {
	Layers []string          `json:"layers"`
	Config model.ImageConfig `json:"config"`
}

// newImage returns the image record for layers, bottom first, and cfg.
func newImage(
	layers []ExtractResult, cfg model.ImageConfig, names []string,
) (*model.Image, error) {
	img := &model.Image{Names: names, Config: cfg, CreatedAt: time.Now().UTC()}
	for _, layer := range layers {
		img.Layers = append(img.Layers, layer.Digest)
		img.Size += layer.Size
	}

	content, err := json.Marshal(imageContent{Layers: img.Layers, Config: cfg})
	if err != nil {
		return nil, fmt.Errorf("encode image config: %w", err)
	}
	sum := sha256.Sum256(content)
	img.ID = "sha256:" + hex.EncodeToString(sum[:])
	return img, nil
}

// addImage moves the extracted layers in tmpDirs, keyed by digest, into
// place and writes img, as addImages does.
func (s *Store) addImage(img *model.Image, tmpDirs map[string]string) (*model.Image, error) {
	stored, err := s.addImages([]*model.Image{img}, tmpDirs)
	if err != nil {
		return nil, err
	}
	return stored[0], nil
}

// errLayerRemoved is returned by addImages when a layer that is missing
// from tmpDirs, because the caller found it in the store, is gone: Remove
// deleted it in between.
var errLayerRemoved = errors.New("layer removed while the image was being stored")

// addImages moves the extracted layers in tmpDirs, keyed by digest, into
// place and writes images in one transaction, merging the names of each
// into an existing image with the same ID. Layers that are present already
// are kept and their temporary copies left to the caller. If writing the
// records fails, the layers that addImages moved into place are removed
// again.
func (s *Store) addImages(images []*model.Image, tmpDirs map[string]string) (
	[]*model.Image, error,
) {
	s.mu.Lock()
	defer s.mu.Unlock()

	var placed []string
	for _, img := range images {
		for _, digest := range img.Layers {
			moved, err := s.placeLayer(digest, tmpDirs[digest])
			if err != nil {
				s.removeLayers(placed)
				return nil, err
			}
			if moved {
				placed = append(placed, digest)
			}
		}
	}

	stored, err := s.putImages(images)
	if err != nil {
		s.removeLayers(placed)
		return nil, err
	}
	return stored, nil
}

// placeLayer renames tmp to the directory of the layer digest, unless that
// directory exists, and reports whether it did. An empty tmp means the
// caller found the layer present, and its absence is errLayerRemoved.
func (s *Store) placeLayer(digest, tmp string) (bool, error) {
	hexDigest, err := layerHex(digest)
	if err != nil {
		return false, err
	}
	dir := s.layerDir(hexDigest)
	_, err = os.Lstat(dir)
	if err == nil {
		s.log.Debug("layer present, reusing it", "layer", digest)
		return false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("layer %s: %w", digest, err)
	}
	if tmp == "" {
		return false, fmt.Errorf("layer %s: %w", digest, errLayerRemoved)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return false, fmt.Errorf("store layer %s: %w", digest, err)
	}
	return true, nil
}

// putImages writes images, or adds the names of each to the image with its
// ID, in one transaction, and returns the stored records.
func (s *Store) putImages(images []*model.Image) ([]*model.Image, error) {
	var stored []*model.Image
	err := s.db.Update(func(tx *store.Tx) error {
		stored = stored[:0]
		for _, img := range images {
			merged, err := putImage(tx, img)
			if err != nil {
				return fmt.Errorf("write image record %s: %w", img.ID, err)
			}
			stored = append(stored, merged)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// putImage writes img in tx, or adds its names to the image with its ID,
// and returns the stored record.
func putImage(tx *store.Tx, img *model.Image) (*model.Image, error) {
	stored := img
	existing, err := tx.GetImage(img.ID)
	if err == nil {
		existing.Names = mergeNames(existing.Names, img.Names)
		stored = existing
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return stored, tx.PutImage(stored)
}

// mergeNames returns names followed by the elements of add it lacks.
func mergeNames(names, add []string) []string {
	merged := slices.Clone(names)
	for _, name := range add {
		if !slices.Contains(merged, name) {
			merged = append(merged, name)
		}
	}
	return merged
}

// layerHex returns the hex part of a layer digest, or ErrInvalidImage when
// digest is not "sha256:" and 64 lowercase hex digits. The hex part names
// a directory, so it must not be anything else.
func layerHex(digest string) (string, error) {
	if !sha256Pattern.MatchString(digest) {
		return "", fmt.Errorf("%w: layer %q is not a sha256 digest", ErrInvalidImage, digest)
	}
	return strings.TrimPrefix(digest, "sha256:"), nil
}

// LayerDirs returns the directories of img's layers, top-most first, the
// order of overlayfs's lowerdir option. img must come from Lookup or
// ImportRootfs, which check that each layer is a sha256 digest and so
// names a directory below root/layers.
//
// A layer that an image lists more than once, such as an empty layer
// written for several build steps, appears once, at its top-most place.
// overlayfs rejects a lower directory given twice, and the top-most copy
// hides the lower ones anyway, because identical layers have the same
// paths.
func (s *Store) LayerDirs(img *model.Image) []string {
	dirs := make([]string, 0, len(img.Layers))
	for _, digest := range slices.Backward(img.Layers) {
		dir := s.layerDir(strings.TrimPrefix(digest, "sha256:"))
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs
}
