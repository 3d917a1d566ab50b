package image

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Files of a docker-archive, the format of `docker save` and `podman save`.
const (
	// dockerManifestFile lists the images: config file, tags and layer
	// files of each.
	dockerManifestFile = "manifest.json"
	// dockerRepositoriesFile maps repository and tag to the legacy ID of
	// an image's top layer, the directory holding that layer's tar.
	dockerRepositoriesFile = "repositories"
)

// Limits on the metadata files of an archive, which are read into memory.
const (
	maxManifestSize     = 8 << 20
	maxRepositoriesSize = 8 << 20
)

// dockerRepositories is the repositories file: repository, then tag, then
// the legacy layer ID.
type dockerRepositories map[string]map[string]string

// parseDockerManifest decodes the manifest.json of a docker-archive and
// checks that each image names a config file and at least one layer file.
// Errors wrap ErrInvalidArchive.
func parseDockerManifest(data []byte) (tarball.Manifest, error) {
	var manifest tarball.Manifest
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidArchive, dockerManifestFile, err)
	}
	if len(manifest) == 0 {
		return nil, fmt.Errorf("%w: %s lists no images", ErrInvalidArchive, dockerManifestFile)
	}
	for i, entry := range manifest {
		if entry.Config == "" {
			return nil, fmt.Errorf("%w: %s: image %d has no config file",
				ErrInvalidArchive, dockerManifestFile, i+1)
		}
		if len(entry.Layers) == 0 {
			return nil, fmt.Errorf("%w: %s: image %d lists no layers",
				ErrInvalidArchive, dockerManifestFile, i+1)
		}
	}
	return manifest, nil
}

// parseDockerRepositories decodes the repositories file of a
// docker-archive. Errors wrap ErrInvalidArchive.
func parseDockerRepositories(data []byte) (dockerRepositories, error) {
	var repos dockerRepositories
	if err := json.Unmarshal(data, &repos); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidArchive, dockerRepositoriesFile, err)
	}
	return repos, nil
}

// namesFor returns the repository:tag names whose legacy layer ID is
// layerID, sorted.
func (repos dockerRepositories) namesFor(layerID string) []string {
	var names []string
	for repo, tags := range repos {
		for tag, id := range tags {
			if id == layerID {
				names = append(names, repo+":"+tag)
			}
		}
	}
	sort.Strings(names)
	return names
}

// dockerSources returns the images of the docker-archive a.
func (a *archiveDir) dockerSources() ([]*imageSource, error) {
	data, err := a.readFile(dockerManifestFile, maxManifestSize)
	if err != nil {
		return nil, err
	}
	manifest, err := parseDockerManifest(data)
	if err != nil {
		return nil, err
	}
	var repos dockerRepositories
	if a.has(dockerRepositoriesFile) {
		data, err := a.readFile(dockerRepositoriesFile, maxRepositoriesSize)
		if err != nil {
			return nil, err
		}
		if repos, err = parseDockerRepositories(data); err != nil {
			return nil, err
		}
	}

	sources := make([]*imageSource, 0, len(manifest))
	for i, entry := range manifest {
		src, err := a.dockerSource(entry, repos)
		if err != nil {
			return nil, fmt.Errorf("image %d in %s: %w", i+1, dockerManifestFile, err)
		}
		sources = append(sources, src)
	}
	return sources, nil
}

// dockerSource returns the image that entry of manifest.json describes. Its
// names are the entry's RepoTags or, when it has none, the tags that the
// repositories file gives its top layer, as older Docker versions wrote.
func (a *archiveDir) dockerSource(entry tarball.Descriptor, repos dockerRepositories) (
	*imageSource, error,
) {
	raw, err := a.readFile(entry.Config, maxConfigSize)
	if err != nil {
		return nil, err
	}
	cf, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	if len(entry.Layers) != len(cf.RootFS.DiffIDs) {
		return nil, fmt.Errorf("%w: %d layer files for %d diff IDs in the config",
			ErrInvalidArchive, len(entry.Layers), len(cf.RootFS.DiffIDs))
	}

	tags := entry.RepoTags
	if len(tags) == 0 {
		tags = repos.namesFor(path.Dir(entry.Layers[len(entry.Layers)-1]))
	}
	names, err := normalizeDockerNames(tags)
	if err != nil {
		return nil, err
	}

	src := &imageSource{id: configDigest(raw), names: names, config: imageConfig(cf)}
	for i, file := range entry.Layers {
		layer, err := a.layerFile(file, cf.RootFS.DiffIDs[i].String())
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		src.layers = append(src.layers, layer)
	}
	return src, nil
}

// layerFile returns the layer in the archive file name, checking now that
// the file is there.
func (a *archiveDir) layerFile(name, diffID string) (layerSource, error) {
	f, size, err := a.open(name)
	if err != nil {
		return layerSource{}, err
	}
	f.Close()
	open := func() (io.ReadCloser, error) {
		f, _, err := a.open(name)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return layerSource{diffID: diffID, size: size, open: open}, nil
}

// normalizeDockerNames normalizes the image names of a docker-archive.
// Errors wrap ErrInvalidArchive and ErrInvalidName.
func normalizeDockerNames(tags []string) ([]string, error) {
	var names []string
	for _, tag := range tags {
		name, err := normalizeDockerName(tag)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidArchive, err)
		}
		names = mergeNames(names, []string{name})
	}
	return names, nil
}
