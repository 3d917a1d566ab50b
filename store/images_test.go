package store

import (
	"strings"
	"testing"

	"github.com/podplug/podplug/engine/model"
)

// Image digests: hexA and hexB share the prefix "aaaa".
var (
	hexA = "aaaa1111" + strings.Repeat("0", 56)
	hexB = "aaaa2222" + strings.Repeat("0", 56)
	hexC = "cccc3333" + strings.Repeat("0", 56)
)

func imageIDs(images []*model.Image) []string {
	ids := make([]string, 0, len(images))
	for _, img := range images {
		ids = append(ids, img.ID)
	}
	return ids
}

func testImageLookup(t *testing.T, s *Store) {
	putImages(t, s,
		newImage(hexA, 0, "docker.io/library/busybox:latest"),
		newImage(hexB, 1),
		newImage(hexC, 2, "aaaa"), // a name that is also an ambiguous prefix
	)

	cases := []struct {
		name    string
		ref     string
		wantID  string
		wantErr error
	}{
		{name: "name", ref: "docker.io/library/busybox:latest", wantID: "sha256:" + hexA},
		{name: "ID with algorithm", ref: "sha256:" + hexB, wantID: "sha256:" + hexB},
		{name: "ID without algorithm", ref: hexB, wantID: "sha256:" + hexB},
		{name: "hex prefix", ref: "aaaa1", wantID: "sha256:" + hexA},
		{name: "prefix with algorithm", ref: "sha256:aaaa2", wantID: "sha256:" + hexB},
		{name: "one character prefix", ref: "c", wantID: "sha256:" + hexC},
		{name: "name before prefix", ref: "aaaa", wantID: "sha256:" + hexC},
		{name: "ambiguous prefix", ref: "aaa", wantErr: ErrAmbiguous},
		{name: "unknown name", ref: "alpine:latest", wantErr: ErrNotFound},
		{name: "empty ref", ref: "", wantErr: ErrNotFound},
		{name: "algorithm only", ref: "sha256:", wantErr: ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var img *model.Image
			err := s.View(func(tx *Tx) error {
				var err error
				img, err = tx.LookupImage(c.ref)
				return err
			})
			if c.wantErr != nil {
				wantErrorIs(t, err, c.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "ID", img.ID, c.wantID)
		})
	}
}

func testImageNameMoves(t *testing.T, s *Store) {
	putImages(t, s, newImage(hexA, 0, "busybox:latest", "busybox:1.36"))
	putImages(t, s, newImage(hexB, 1, "busybox:latest"))

	view(t, s, func(tx *Tx) error {
		img, err := tx.LookupImage("busybox:latest")
		if err != nil {
			return err
		}
		wantEqual(t, "image for moved name", img.ID, "sha256:"+hexB)

		img, err = tx.LookupImage("busybox:1.36")
		if err != nil {
			return err
		}
		wantEqual(t, "image for kept name", img.ID, "sha256:"+hexA)
		wantEqual(t, "names left on old image", img.Names, []string{"busybox:1.36"})
		return nil
	})
}

func testImageNameDropped(t *testing.T, s *Store) {
	putImages(t, s, newImage(hexA, 0, "busybox:latest", "busybox:1.36"))
	putImages(t, s, newImage(hexA, 0, "busybox:1.36"))

	view(t, s, func(tx *Tx) error {
		_, err := tx.LookupImage("busybox:latest")
		wantErrorIs(t, err, ErrNotFound)

		img, err := tx.LookupImage("busybox:1.36")
		if err != nil {
			return err
		}
		wantEqual(t, "image ID", img.ID, "sha256:"+hexA)
		return nil
	})
}

func testImageDelete(t *testing.T, s *Store) {
	putImages(t, s, newImage(hexA, 0, "busybox:latest"))
	update(t, s, func(tx *Tx) error { return tx.DeleteImage("sha256:" + hexA) })

	view(t, s, func(tx *Tx) error {
		_, err := tx.LookupImage("busybox:latest")
		wantErrorIs(t, err, ErrNotFound)
		_, err = tx.GetImage("sha256:" + hexA)
		wantErrorIs(t, err, ErrNotFound)
		return nil
	})

	err := s.Update(func(tx *Tx) error { return tx.DeleteImage("sha256:" + hexA) })
	wantErrorIs(t, err, ErrNotFound)
}

func testImageInvalid(t *testing.T, s *Store) {
	cases := []struct {
		name  string
		image *model.Image
	}{
		{"empty ID", &model.Image{Names: []string{"busybox:latest"}}},
		{"empty name", newImage(hexA, 0, "busybox:latest", "")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(func(tx *Tx) error { return tx.PutImage(c.image) })
			wantErrorIs(t, err, ErrInvalid)
		})
	}
}

func testListImagesOrder(t *testing.T, s *Store) {
	putImages(t, s, newImage(hexC, 0), newImage(hexB, 3), newImage(hexA, 3))

	view(t, s, func(tx *Tx) error {
		images, err := tx.ListImages()
		if err != nil {
			return err
		}
		want := []string{"sha256:" + hexC, "sha256:" + hexA, "sha256:" + hexB}
		wantEqual(t, "image IDs", imageIDs(images), want)
		return nil
	})
}
