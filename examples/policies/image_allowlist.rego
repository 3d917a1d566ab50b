# Image allowlist.
#
# Allows only images from data.podplug.allowed_images: a registry or
# repository prefix in "registries", or a content digest in "digests". It
# checks every container image in input.spec and the image named by
# input.request.image, for every subject: admins are held to it too,
# because it guards what runs on the host, not what a tenant may touch.
# Without data.podplug.allowed_images no image is allowed.
package podplug

default image_allowed_registries := []

image_allowed_registries := data.podplug.allowed_images.registries

default image_allowed_digests := []

image_allowed_digests := data.podplug.allowed_images.digests

deny contains {"code": "image_not_allowed", "message": message} if {
	some i, c in input.spec.containers
	_ = c.image
	not image_allowed(c.image)
	message := sprintf(
		"container %s: image %s is not in the allowed images",
		[image_container_name(i, c), image_text(c.image)],
	)
}

# A container without an image is denied too: the policy cannot tell what it
# would run.
deny contains {
	"code": "image_not_allowed",
	"message": sprintf("container %s: image is missing", [image_container_name(i, c)]),
} if {
	some i, c in input.spec.containers
	not c.image
}

deny contains {
	"code": "image_not_allowed",
	"message": sprintf("image %s is not in the allowed images", [image_text(input.request.image)]),
} if {
	_ = input.request.image
	input.request.image != ""
	not image_allowed(input.request.image)
}

# A registry entry ending in "/" matches any name under it ("localhost/"
# matches "localhost/busybox:1.36"). Any other entry names a repository and
# matches it alone or followed by a tag, a digest or a path, but not a longer
# name: "docker.io/library/busybox" does not match
# "docker.io/library/busyboxes".
image_registry_prefixes := {p | some p in image_allowed_registries; endswith(p, "/")}

image_repositories := {p | some p in image_allowed_registries; not endswith(p, "/")}

image_allowed(ref) if {
	is_string(ref)
	some prefix in image_registry_prefixes
	startswith(ref, prefix)
}

image_allowed(ref) if {
	is_string(ref)
	some repository in image_repositories
	startswith(ref, repository)
	substring(ref, count(repository), 1) in {"", "/", ":", "@"}
}

image_allowed(ref) if {
	image_digest(ref) in image_allowed_digests
}

# image_digest returns the digest of a reference pinned with "@sha256:...",
# or the reference itself when it is a bare digest.
image_digest(ref) := digest if {
	is_string(ref)
	parts := split(ref, "@")
	count(parts) == 2
	digest := parts[1]
	image_valid_digest(digest)
}

image_digest(ref) := ref if {
	is_string(ref)
	image_valid_digest(ref)
}

image_valid_digest(digest) if regex.match(`^sha256:[0-9a-f]{64}$`, digest)

image_text(ref) := json.marshal(ref)

image_container_name(i, c) := json.marshal(c.name) if {
	is_string(c.name)
	c.name != ""
} else := sprintf("containers[%d]", [i])
