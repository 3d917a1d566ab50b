package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/podplug/podplug/engine/image"
	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// ImportImage stores a root file system tarball as an image named name.
func (e *Engine) ImportImage(ctx context.Context, r io.Reader, name string) (*model.Image, error) {
	img, err := e.images.ImportRootfs(ctx, r, name, model.ImageConfig{})
	if err != nil {
		return nil, fmt.Errorf("import image %s: %w", name, err)
	}
	e.emit(&model.Event{Type: "image", Action: "import", ID: img.ID, Name: name, Time: time.Now()})
	return img, nil
}

// LoadImages stores the images of a docker-archive or an OCI archive read
// from r, as image.Store.Load does, and returns them in archive order.
// progress, when not nil, receives a report on each layer.
func (e *Engine) LoadImages(
	ctx context.Context, r io.Reader, progress image.ProgressFunc,
) ([]*model.Image, error) {
	images, err := e.images.Load(ctx, r, image.LoadOptions{Progress: progress})
	if err != nil {
		return nil, invalidImage(err)
	}
	for _, img := range images {
		e.emit(&model.Event{Type: "image", Action: "load", ID: img.ID,
			Name: strings.Join(img.Names, ","), Time: time.Now()})
	}
	return images, nil
}

// PullImage fetches an image from a registry and stores it, as
// image.Store.Pull does.
func (e *Engine) PullImage(
	ctx context.Context, ref string, opts image.PullOptions,
) (*model.Image, error) {
	img, err := e.images.Pull(ctx, ref, opts)
	if err != nil {
		return nil, invalidImage(err)
	}
	e.emit(&model.Event{Type: "image", Action: "pull", ID: img.ID, Name: ref, Time: time.Now()})
	return img, nil
}

// invalidImage marks errors about the input of a load or pull, such as an
// image that podplug cannot run, as ErrInvalid.
func invalidImage(err error) error {
	if errors.Is(err, image.ErrInvalidImage) || errors.Is(err, image.ErrInsecureRegistry) {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

// RemoveImageOptions tune RemoveImage.
type RemoveImageOptions struct {
	// Force removes the containers that use the image first.
	Force bool
}

// RemoveImageReport is the outcome of RemoveImage.
type RemoveImageReport struct {
	// Untagged lists the names removed.
	Untagged []string `json:"untagged,omitempty"`
	// Deleted is the ID of the deleted image, or empty when the image
	// stays because only a name was removed.
	Deleted string `json:"deleted,omitempty"`
}

// RemoveImage removes what ref names, as podman's rmi does. When ref is one
// of several names of an image, only that name goes. Otherwise, when ref
// is the image's last name or its ID, the image goes with all its names,
// and the layers no other image uses. An image that containers use stays
// unless Force is set, which removes those containers first.
func (e *Engine) RemoveImage(
	ctx context.Context, tenant, ref string, opts RemoveImageOptions,
) (*RemoveImageReport, error) {
	img, name, err := e.images.Resolve(ref)
	if err != nil {
		return nil, err
	}
	if name != "" && len(img.Names) > 1 {
		return e.untagImage(img, name)
	}

	users, err := e.imageUsers(img.ID)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 && !opts.Force {
		names := make([]string, 0, len(users))
		for _, c := range users {
			names = append(names, c.Name)
		}
		return nil, fmt.Errorf("remove image %s: containers %s use it: remove them first or use --force: %w",
			ref, strings.Join(names, ", "), ErrConflict)
	}
	for _, c := range users {
		err := e.RemoveContainer(ctx, c.Owner.Tenant, c.ID, RemoveContainerOptions{Force: true})
		if err != nil {
			return nil, fmt.Errorf("remove image %s: %w", ref, err)
		}
	}
	removed, err := e.images.Remove(img.ID)
	if err != nil {
		return nil, err
	}
	e.emit(&model.Event{Type: "image", Action: "remove", ID: img.ID, Name: ref, Time: time.Now()})
	return &RemoveImageReport{Untagged: removed.Names, Deleted: removed.ID}, nil
}

func (e *Engine) untagImage(img *model.Image, name string) (*RemoveImageReport, error) {
	if _, err := e.images.Untag(name); err != nil {
		return nil, err
	}
	e.emit(&model.Event{Type: "image", Action: "untag", ID: img.ID, Name: name, Time: time.Now()})
	return &RemoveImageReport{Untagged: []string{name}}, nil
}

func (e *Engine) imageUsers(imageID string) ([]*model.Container, error) {
	var users []*model.Container
	err := e.db.View(func(tx *store.Tx) error {
		ctrs, err := tx.ListContainers()
		for _, c := range ctrs {
			if c.ImageID == imageID {
				users = append(users, c)
			}
		}
		return err
	})
	return users, err
}
