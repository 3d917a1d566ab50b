package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/podplug/podplug/engine/model"
)

const digestPrefix = "sha256:"

func imageKey(id string) []byte { return plainKey(prefixImage, id) }

func imageNameKey(name string) []byte { return plainKey(prefixImageName, name) }

func imageOrder(img *model.Image) (time.Time, string) { return img.CreatedAt, img.ID }

// GetImage returns the image with the given full ID, sha256:<hex>.
func (tx *Tx) GetImage(id string) (*model.Image, error) {
	img := new(model.Image)
	err := tx.readJSON(imageKey(id), img)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("image %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get image %q: %w", id, err)
	}
	return img, nil
}

// LookupImage finds an image by ref: an exact name first, else an exact ID
// with or without "sha256:", else a prefix of the hex digits that only one
// image ID has. It returns ErrNotFound or ErrAmbiguous when ref does not pick
// exactly one image.
func (tx *Tx) LookupImage(ref string) (*model.Image, error) {
	id, err := tx.readValue(imageNameKey(ref))
	if err == nil {
		return tx.GetImage(string(id))
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("look up image %q: %w", ref, err)
	}

	hex := strings.TrimPrefix(ref, digestPrefix)
	if hex == "" {
		return nil, fmt.Errorf("image %q: %w", ref, ErrNotFound)
	}
	match, err := tx.matchID([]byte(prefixImage), digestPrefix+hex, "image", ref)
	if err != nil {
		return nil, err
	}
	return tx.GetImage(match)
}

// PutImage inserts or updates img. A name in img.Names that another image
// has moves to img and leaves that image's Names, as `podman tag` does. Names
// that an update drops from img.Names are released. It returns ErrInvalid
// when img.ID or one of the names is empty.
func (tx *Tx) PutImage(img *model.Image) error {
	if err := validateImage(img); err != nil {
		return err
	}
	old, err := tx.GetImage(img.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}

	for _, name := range img.Names {
		if err := tx.takeImageName(name, img.ID); err != nil {
			return fmt.Errorf("put image %q: name %q: %w", img.ID, name, err)
		}
	}
	if old != nil {
		if err := tx.releaseImageNames(old, img.Names); err != nil {
			return fmt.Errorf("put image %q: %w", img.ID, err)
		}
	}
	if err := tx.writeJSON(imageKey(img.ID), img); err != nil {
		return fmt.Errorf("put image %q: %w", img.ID, err)
	}
	return nil
}

func validateImage(img *model.Image) error {
	if img.ID == "" {
		return fmt.Errorf("image with names %q: %w: empty ID", img.Names, ErrInvalid)
	}
	if slices.Contains(img.Names, "") {
		return fmt.Errorf("image %q: %w: empty name", img.ID, ErrInvalid)
	}
	return nil
}

// takeImageName points name at the image id and removes the name from the
// image that had it before.
func (tx *Tx) takeImageName(name, id string) error {
	owner, err := tx.readValue(imageNameKey(name))
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	if err == nil && string(owner) != id {
		if err := tx.untagImage(string(owner), name); err != nil {
			return err
		}
	}
	return tx.txn.Set(imageNameKey(name), []byte(id))
}

// untagImage removes name from the Names of the image id, if it still exists.
func (tx *Tx) untagImage(id, name string) error {
	other, err := tx.GetImage(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	other.Names = slices.DeleteFunc(other.Names, func(n string) bool { return n == name })
	return tx.writeJSON(imageKey(id), other)
}

// releaseImageNames deletes the name index entries of old's names that are
// not in keep.
func (tx *Tx) releaseImageNames(old *model.Image, keep []string) error {
	for _, name := range old.Names {
		if slices.Contains(keep, name) {
			continue
		}
		if err := tx.deleteIfValue(imageNameKey(name), old.ID); err != nil {
			return err
		}
	}
	return nil
}

// DeleteImage deletes the image and its names. It returns ErrNotFound when
// no image has the ID.
func (tx *Tx) DeleteImage(id string) error {
	old, err := tx.GetImage(id)
	if err != nil {
		return err
	}
	err = tx.releaseImageNames(old, nil)
	if err == nil {
		err = tx.txn.Delete(imageKey(id))
	}
	if err != nil {
		return fmt.Errorf("delete image %q: %w", id, err)
	}
	return nil
}

// ListImages returns all images, sorted by CreatedAt, then ID.
func (tx *Tx) ListImages() ([]*model.Image, error) {
	images, err := listJSON[model.Image](tx, prefixImage)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	sortByCreation(images, imageOrder)
	return images, nil
}
