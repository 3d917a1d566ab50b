// Package image stores container images on the host and builds their root
// file systems.
//
// An image is a list of layers and a config. Each layer is a tar archive,
// extracted once into ROOT/layers/<hex>, where <hex> is the sha256 of the
// uncompressed archive, and shared by every image that lists it. Image
// records live in the store. A container's root file system is an overlay
// mount whose lower directories are the image's layer directories, top-most
// first, with a writable upper directory per container. A container in a
// user namespace gets, instead of each layer directory, a copy owned by the
// host ids its namespace maps, in ROOT/shifted/<uid>-<gid>-<size>/<hex>
// (see ShiftedLayerDirs).
//
// Load stores the images of a docker-archive or an OCI layout sent as a tar
// stream, and Pull fetches one from a registry with go-containerregistry's
// remote package. Both name a layer by its diff ID, so a layer from an
// archive, a registry or ImportRootfs is stored once, and both use the
// digest of the image's config file as its ID, as podman does.
//
// Extract unpacks untrusted archives: no entry can create, change or link a
// file outside the destination directory, whatever names, symlinks and
// hardlinks the archive contains. OCI whiteout entries become overlay
// whiteouts, so extracted layers can be stacked with MountRootfs.
//
// Everything in this package needs root (CAP_SYS_ADMIN for mounts,
// CAP_MKNOD and CAP_CHOWN for extraction) and Linux 5.6 or later for
// openat2(2).
package image
