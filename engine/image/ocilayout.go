package image

import (
	"fmt"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Files that mark an OCI image layout (image-spec, image-layout.md).
const (
	ociLayoutFile = "oci-layout"
	ociIndexFile  = "index.json"
)

// Annotations of an OCI index entry that name the image.
const (
	// annotationImageName is containerd's annotation for the full name.
	annotationImageName = "io.containerd.image.name"
	// annotationRefName is the full name in podman's OCI archives, and
	// often just a tag, such as "latest", elsewhere.
	annotationRefName = "org.opencontainers.image.ref.name"
)

// maxIndexDepth bounds the nesting of image indexes that ociSources walks
// to find the image for this host's platform.
const maxIndexDepth = 4

// ociSources returns the images that index.json of the OCI layout a lists,
// one for each entry. For an entry that is an image index, the image is the
// one it lists for this host's platform (linux and runtime.GOARCH).
func (a *archiveDir) ociSources() ([]*imageSource, error) {
	index, err := layout.ImageIndexFromPath(a.dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidArchive, ociIndexFile, err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidArchive, ociIndexFile, err)
	}
	if len(manifest.Manifests) == 0 {
		return nil, fmt.Errorf("%w: %s lists no images", ErrInvalidArchive, ociIndexFile)
	}

	sources := make([]*imageSource, 0, len(manifest.Manifests))
	for i, desc := range manifest.Manifests {
		src, err := ociSource(index, desc)
		if err != nil {
			return nil, fmt.Errorf("image %d in %s: %w", i+1, ociIndexFile, err)
		}
		sources = append(sources, src)
	}
	return sources, nil
}

func ociSource(index v1.ImageIndex, desc v1.Descriptor) (*imageSource, error) {
	names, err := ociNames(desc.Annotations)
	if err != nil {
		return nil, err
	}
	img, err := platformImage(index, desc, 0)
	if err != nil {
		return nil, err
	}
	return sourceFromImage(img, names)
}

// ociNames returns the normalized name that annotations give an image, or
// none when they give only a tag.
func ociNames(annotations map[string]string) ([]string, error) {
	name := annotations[annotationImageName]
	if ref := annotations[annotationRefName]; name == "" && strings.ContainsAny(ref, "/:@") {
		name = ref
	}
	if name == "" {
		return nil, nil
	}
	normalized, err := normalizeDockerName(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArchive, err)
	}
	return []string{normalized}, nil
}

// platformImage returns the image that desc in index stands for: the image
// itself, or the image for this host's platform in the index it names.
func platformImage(index v1.ImageIndex, desc v1.Descriptor, depth int) (v1.Image, error) {
	switch desc.MediaType {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
		return index.Image(desc.Digest)
	case types.OCIImageIndex, types.DockerManifestList:
	default:
		return nil, fmt.Errorf("%w: %s has unsupported media type %q",
			ErrInvalidArchive, desc.Digest, desc.MediaType)
	}
	if depth >= maxIndexDepth {
		return nil, fmt.Errorf("%w: image indexes nested more than %d deep",
			ErrInvalidArchive, maxIndexDepth)
	}

	child, err := index.ImageIndex(desc.Digest)
	if err != nil {
		return nil, err
	}
	manifest, err := child.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: index %s: %w", ErrInvalidArchive, desc.Digest, err)
	}
	for _, entry := range manifest.Manifests {
		if matchesHost(entry.Platform) {
			return platformImage(child, entry, depth+1)
		}
	}
	return nil, fmt.Errorf("%w: index %s has no image for linux/%s",
		ErrInvalidImage, desc.Digest, runtime.GOARCH)
}

// hostPlatform is the platform of the images podplug can run here.
func hostPlatform() v1.Platform {
	return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

// matchesHost reports whether p is this host's operating system and
// architecture, whatever its variant.
func matchesHost(p *v1.Platform) bool {
	host := hostPlatform()
	return p != nil && p.OS == host.OS && p.Architecture == host.Architecture
}
