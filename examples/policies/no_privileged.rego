# No privileged containers.
#
# For non-admins, denies privileged containers, host namespaces,
# capabilities outside data.podplug.safe_capabilities and host path mounts
# outside data.podplug.allowed_host_paths. It checks input.spec, which the
# engine sends for create and start after plugins changed the spec, and
# gives one reason per violation, naming the container and the field.
package podplug

# The capabilities podman grants by default (containers-common 0.67,
# pkg/config DefaultCapabilities), used when data.podplug.safe_capabilities
# is not set.
default privileged_safe_capabilities := [
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
]

privileged_safe_capabilities := data.podplug.safe_capabilities

# Without data.podplug.allowed_host_paths no host path may be mounted.
default privileged_allowed_host_paths := []

privileged_allowed_host_paths := data.podplug.allowed_host_paths

# Mount types whose source is not a host path. Every other type, "bind" and
# also "rbind", "none" or an empty type, is checked as a host path mount.
privileged_non_host_mount_types := {"volume", "tmpfs"}

subject_is_admin if input.subject.admin == true

# The safe list as written, and normalized. A capability found in the first
# set as written skips building the second, which saves most of the cost of
# the capability check when the names are already in "CAP_X" form.
privileged_safe_capability_names := {c | some c in privileged_safe_capabilities}

privileged_safe_capability_set := {privileged_capability_name(c) |
	some c in privileged_safe_capabilities
}

# privileged_host_prefixes holds each allowed host path with one trailing
# "/", so one startswith on the mount source with "/" appended matches the
# path itself and everything below it, but not a sibling such as
# "/srv/database" for "/srv/data". Entries that are not absolute paths are
# ignored.
privileged_host_prefixes := {concat("", [trim_right(p, "/"), "/"]) |
	some p in privileged_allowed_host_paths
	startswith(p, "/")
}

deny contains {"code": "privileged_container", "message": message} if {
	not subject_is_admin
	some i, c in input.spec.containers
	c.privileged == true
	message := sprintf("container %s: privileged is not allowed", [privileged_container_name(i, c)])
}

deny contains {"code": "host_namespace", "message": message} if {
	not subject_is_admin
	some i, c in input.spec.containers
	some ns in c.host_namespaces
	message := sprintf(
		"container %s: host_namespaces contains %s; host namespaces are not allowed",
		[privileged_container_name(i, c), json.marshal(ns)],
	)
}

deny contains {
	"code": "host_namespace",
	"message": "pod: network \"host\" shares the host network namespace and is not allowed",
} if {
	not subject_is_admin
	input.spec.pod.network == "host"
}

deny contains {"code": "capability_not_allowed", "message": message} if {
	not subject_is_admin
	some i, c in input.spec.containers
	some field in ["capabilities", "added_capabilities"]
	some cap in c[field]
	not cap in privileged_safe_capability_names
	not privileged_capability_name(cap) in privileged_safe_capability_set
	message := sprintf(
		"container %s: %s contains %s, which is not in the safe capabilities",
		[privileged_container_name(i, c), field, json.marshal(cap)],
	)
}

deny contains {"code": "host_path_not_allowed", "message": message} if {
	not subject_is_admin
	some i, c in input.spec.containers
	some j, m in c.mounts
	not privileged_non_host_mount(m)
	not privileged_mount_source_allowed(m)
	message := sprintf(
		"container %s: mounts[%d].source %s is outside the allowed host paths",
		[privileged_container_name(i, c), j, privileged_source_text(m)],
	)
}

# The helpers that build messages are defined for any input: a message that
# failed to build would make its deny rule undefined and let the request pass.
privileged_container_name(i, c) := json.marshal(c.name) if {
	is_string(c.name)
	c.name != ""
} else := sprintf("containers[%d]", [i])

privileged_source_text(m) := json.marshal(m.source) if {
	_ = m.source
} else := "(missing)"

# privileged_capability_name returns "CAP_" and the upper-case name, with or
# without the prefix in c. A capability that is not a string fails the
# evaluation, which denies.
privileged_capability_name(c) := concat("", ["CAP_", trim_prefix(upper(c), "CAP_")])

# The helpers below take the whole mount: a negated call whose argument is an
# undefined field (a mount without type or source) is undefined, not true, so
# `not f(m.source)` would let such a mount pass.
privileged_non_host_mount(m) if m.type in privileged_non_host_mount_types

privileged_mount_source_allowed(m) if privileged_host_path_allowed(m.source)

# privileged_host_path_allowed holds for an absolute path without "." or ".."
# segments that equals an allowed prefix or lies below one. The policy sees
# the path as written: the engine must resolve symbolic links before it asks.
privileged_host_path_allowed(path) if {
	is_string(path)
	startswith(path, "/")
	slashed := concat("", [path, "/"])
	not contains(slashed, "/../")
	not contains(slashed, "/./")
	some prefix in privileged_host_prefixes
	startswith(slashed, prefix)
}
