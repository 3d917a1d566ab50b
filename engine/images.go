package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

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

// RemoveImageOptions tune RemoveImage.
type RemoveImageOptions struct {
	// Force removes the containers that use the image first.
	Force bool
}

// RemoveImage deletes an image and the layers no other image uses. An image
// that containers use stays unless Force is set.
func (e *Engine) RemoveImage(ctx context.Context, tenant, ref string, opts RemoveImageOptions) (*model.Image, error) {
	img, err := e.images.Lookup(ref)
	if err != nil {
		return nil, err
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
	return removed, nil
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
