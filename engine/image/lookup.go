package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// Lookup finds the image that ref names. It tries, in order: ref as an exact
// name, ref after NormalizeName ("busybox" as "localhost/busybox:latest"),
// ref as a Docker Hub name ("busybox" as "docker.io/library/busybox:latest",
// "user/app" as "docker.io/user/app:latest") when ref has no registry host,
// and last ref as a full image ID or a prefix of one, with or without
// "sha256:". It fails with an error wrapping store.ErrNotFound when nothing
// matches, and store.ErrAmbiguous when ref is an ID prefix that several
// images share.
func (s *Store) Lookup(ref string) (*model.Image, error) {
	var img *model.Image
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		img, err = lookup(tx, ref)
		return err
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

// Resolve finds the image that ref names, as Lookup does, and also returns
// the stored name that ref matched, or "" when ref matched the image's ID.
func (s *Store) Resolve(ref string) (*model.Image, string, error) {
	var img *model.Image
	var name string
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		img, name, err = resolve(tx, ref)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return img, name, nil
}

// lookup is Lookup inside the transaction tx.
func lookup(tx *store.Tx, ref string) (*model.Image, error) {
	img, _, err := resolve(tx, ref)
	return img, err
}

// resolve is Resolve inside the transaction tx.
func resolve(tx *store.Tx, ref string) (*model.Image, string, error) {
	if ref == "" {
		return nil, "", notFound(ref)
	}
	for _, name := range candidateNames(ref) {
		img, err := tx.LookupImage(name)
		if err == nil {
			img, err = checkImage(img)
			return img, name, err
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, "", err
		}
	}

	// Every stored name contains a '/', and every candidate name with one
	// was tried above, so this matches an ID or an ID prefix only.
	img, err := tx.LookupImage(ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", notFound(ref)
	}
	if err != nil {
		return nil, "", err
	}
	img, err = checkImage(img)
	return img, "", err
}

func notFound(ref string) error {
	return fmt.Errorf("image %q: %w; run \"podplug image ls\" to list stored images",
		ref, store.ErrNotFound)
}

// candidateNames returns the names that ref may stand for, in Lookup's
// order. Each contains a '/', so store.Tx.LookupImage can only match them
// as names, never as ID prefixes: ref itself comes last, from Lookup.
func candidateNames(ref string) []string {
	var names []string
	if strings.Contains(ref, "/") {
		names = append(names, ref)
	}
	parsed, err := parseReference(ref)
	if err != nil {
		return names
	}
	name, _ := normalize(parsed, localDomain)
	names = append(names, name)
	if parsed.domain == "" {
		name, _ := normalize(parsed, dockerDomain)
		names = append(names, name)
	}
	return slices.Compact(names)
}

// checkImage rejects a record whose layers are not sha256 digests, since
// they name directories.
func checkImage(img *model.Image) (*model.Image, error) {
	for _, digest := range img.Layers {
		if _, err := layerHex(digest); err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
	}
	return img, nil
}

// List returns all images, oldest first, as the database stores them: unlike
// Lookup, it does not check their layer digests.
func (s *Store) List() ([]*model.Image, error) {
	var images []*model.Image
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		images, err = tx.ListImages()
		return err
	})
	if err != nil {
		return nil, err
	}
	return images, nil
}

// Tag adds newName, after NormalizeName, to the image that ref names, as
// Lookup finds it. If another image has newName, the name moves.
func (s *Store) Tag(ref, newName string) error {
	name, err := NormalizeName(newName)
	if err != nil {
		return fmt.Errorf("tag image %q: %w", ref, err)
	}
	return s.db.Update(func(tx *store.Tx) error {
		img, err := lookup(tx, ref)
		if err != nil {
			return err
		}
		if slices.Contains(img.Names, name) {
			return nil
		}
		img.Names = append(img.Names, name)
		if err := tx.PutImage(img); err != nil {
			return fmt.Errorf("tag image %q as %s: %w", ref, name, err)
		}
		return nil
	})
}

// Untag removes name, a name as the image store keeps it (Resolve returns
// one), from the image that has it, and returns the updated image. The
// image and its layers stay, even when it has no name left. It fails with
// an error wrapping store.ErrNotFound when no image has name.
func (s *Store) Untag(name string) (*model.Image, error) {
	var img *model.Image
	err := s.db.Update(func(tx *store.Tx) error {
		var err error
		img, err = tx.LookupImage(name)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !slices.Contains(img.Names, name)) {
			return fmt.Errorf("untag image: name %q: %w", name, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("untag image %q: %w", name, err)
		}
		img.Names = slices.DeleteFunc(img.Names, func(n string) bool { return n == name })
		return tx.PutImage(img)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("untagged image", "image", img.ID, "name", name)
	return img, nil
}

// Remove deletes the image that ref names, as Lookup finds it, with all its
// names, then the directory of each of its layers that no remaining image
// lists, and returns the deleted record. It does not check whether
// containers use the image: the engine does that before calling it.
//
// When a layer directory cannot be removed, Remove returns the record and
// an error. The record is gone by then, and NewStore removes the leftover
// directory the next time it runs.
func (s *Store) Remove(ref string) (*model.Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	var img *model.Image
	var unused []string
	err := s.db.Update(func(tx *store.Tx) error {
		var err error
		img, err = lookup(tx, ref)
		if err != nil {
			return err
		}
		if err := tx.DeleteImage(img.ID); err != nil {
			return fmt.Errorf("remove image %q: %w", ref, err)
		}
		unused, err = unusedLayers(tx, img.Layers)
		return err
	})
	if err != nil {
		return nil, err
	}

	s.log.Info("removed image", "image", img.ID, "names", img.Names)
	if err := s.removeLayers(unused); err != nil {
		return img, fmt.Errorf("remove image %q: %w", ref, err)
	}
	return img, nil
}

// unusedLayers returns the digests in layers that no image in tx lists.
func unusedLayers(tx *store.Tx, layers []string) ([]string, error) {
	images, err := tx.ListImages()
	if err != nil {
		return nil, err
	}
	used := make(map[string]bool)
	for _, img := range images {
		for _, digest := range img.Layers {
			used[digest] = true
		}
	}

	var unused []string
	for _, digest := range layers {
		if !used[digest] && !slices.Contains(unused, digest) {
			unused = append(unused, digest)
		}
	}
	return unused, nil
}

// removeLayers removes the directories of the layers digests and returns
// the errors joined.
func (s *Store) removeLayers(digests []string) error {
	var errs []error
	for _, digest := range digests {
		hexDigest, err := layerHex(digest)
		if err == nil {
			err = s.removeLayerDir(hexDigest)
		}
		if err == nil {
			err = s.removeShifted(hexDigest)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove layer %s: %w", digest, err))
			continue
		}
		s.log.Debug("removed layer", "layer", digest)
	}
	return errors.Join(errs...)
}

// removeLayerDir first renames the layer directory into root/tmp, so that
// a layer directory is either complete or absent, and then removes it.
func (s *Store) removeLayerDir(hexDigest string) error {
	trash, err := os.MkdirTemp(s.tmpDir(), "remove-")
	if err != nil {
		return err
	}
	err = os.Rename(s.layerDir(hexDigest), filepath.Join(trash, hexDigest))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		os.Remove(trash)
		return err
	}
	return os.RemoveAll(trash)
}

// cleanTmp removes everything below root/tmp: extractions and removals that
// a crash interrupted.
func (s *Store) cleanTmp() error {
	entries, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return err
	}
	for _, entry := range entries {
		if err := os.RemoveAll(filepath.Join(s.tmpDir(), entry.Name())); err != nil {
			return err
		}
		s.log.Debug("removed leftover temporary directory", "name", entry.Name())
	}
	return nil
}

// removeUnusedLayers removes the layer directories that no image lists,
// such as one whose removal a crash interrupted, and their shifted copies.
// Directories with other names are left alone.
func (s *Store) removeUnusedLayers() error {
	images, err := s.List()
	if err != nil {
		return err
	}
	used := make(map[string]bool)
	for _, img := range images {
		for _, digest := range img.Layers {
			used[strings.TrimPrefix(digest, "sha256:")] = true
		}
	}

	entries, err := os.ReadDir(s.layersDir())
	if err != nil {
		return err
	}
	for _, entry := range entries {
		digest := "sha256:" + entry.Name()
		if used[entry.Name()] || !sha256Pattern.MatchString(digest) {
			continue
		}
		if err := s.removeLayerDir(entry.Name()); err != nil {
			return fmt.Errorf("remove unused layer %s: %w", digest, err)
		}
		s.log.Info("removed unused layer", "layer", digest)
	}
	return s.removeUnusedShifted(used)
}
