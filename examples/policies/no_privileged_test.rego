package podplug_test

import data.podplug

privileged_alice := {"uid": 1001, "user": "alice", "tenant": "blue", "admin": false}

privileged_clean_container := {
	"name": "app",
	"image": "localhost/busybox",
	"privileged": false,
	"capabilities": ["CAP_CHOWN", "CAP_KILL"],
	"added_capabilities": [],
	"host_namespaces": [],
	"mounts": [],
}

# privileged_input builds a pod.create input with one container, the clean
# container above changed by the fields in change.
privileged_input(change) := {
	"operation": "pod.create",
	"subject": privileged_alice,
	"spec": {
		"pod": {"name": "web", "network": "none"},
		"containers": [object.union(privileged_clean_container, change)],
	},
}

privileged_codes := {"privileged_container", "host_namespace", "capability_not_allowed", "host_path_not_allowed"}

privileged_reasons(input_document) := {reason |
	some reason in podplug.deny with input as input_document
		with data.podplug.allowed_host_paths as ["/srv/data"]
	reason.code in privileged_codes
}

test_clean_container_allowed if {
	count(privileged_reasons(privileged_input({}))) == 0
}

test_privileged_container_denied if {
	reasons := privileged_reasons(privileged_input({"privileged": true}))
	reasons == {{"code": "privileged_container", "message": "container \"app\": privileged is not allowed"}}
}

test_host_namespace_denied if {
	reasons := privileged_reasons(privileged_input({"host_namespaces": ["net"]}))
	reasons == {{
		"code": "host_namespace",
		"message": "container \"app\": host_namespaces contains \"net\"; host namespaces are not allowed",
	}}
}

test_host_network_pod_denied if {
	document := json.patch(privileged_input({}), [{"op": "replace", "path": "/spec/pod/network", "value": "host"}])
	reasons := privileged_reasons(document)
	reasons == {{"code": "host_namespace", "message": "pod: network \"host\" shares the host network namespace and is not allowed"}}
}

test_added_capability_denied if {
	reasons := privileged_reasons(privileged_input({"added_capabilities": ["CAP_SYS_ADMIN"]}))
	reasons == {{
		"code": "capability_not_allowed",
		"message": "container \"app\": added_capabilities contains \"CAP_SYS_ADMIN\", which is not in the safe capabilities",
	}}
}

test_capability_set_checked if {
	reasons := privileged_reasons(privileged_input({"capabilities": ["CAP_CHOWN", "CAP_NET_ADMIN"]}))
	reasons == {{
		"code": "capability_not_allowed",
		"message": "container \"app\": capabilities contains \"CAP_NET_ADMIN\", which is not in the safe capabilities",
	}}
}

test_capability_without_prefix_allowed if {
	count(privileged_reasons(privileged_input({"added_capabilities": ["net_bind_service"]}))) == 0
}

test_safe_capabilities_from_data if {
	document := privileged_input({"added_capabilities": ["CAP_NET_RAW"]})
	reasons := {reason |
		some reason in podplug.deny with input as document
			with data.podplug.safe_capabilities as ["NET_RAW", "CHOWN", "KILL"]
		reason.code in privileged_codes
	}
	count(reasons) == 0
}

test_host_path_outside_list_denied if {
	mount := {"type": "bind", "source": "/etc", "destination": "/etc", "read_only": true}
	reasons := privileged_reasons(privileged_input({"mounts": [mount]}))
	reasons == {{
		"code": "host_path_not_allowed",
		"message": "container \"app\": mounts[0].source \"/etc\" is outside the allowed host paths",
	}}
}

test_host_path_inside_list_allowed if {
	mounts := [
		{"type": "bind", "source": "/srv/data", "destination": "/data"},
		{"type": "bind", "source": "/srv/data/cache/", "destination": "/cache"},
	]
	count(privileged_reasons(privileged_input({"mounts": mounts}))) == 0
}

test_host_path_sibling_prefix_denied if {
	mount := {"type": "bind", "source": "/srv/database", "destination": "/db"}
	count(privileged_reasons(privileged_input({"mounts": [mount]}))) == 1
}

test_host_path_traversal_denied if {
	every source in ["/srv/data/../../etc", "/srv/data/./x", "srv/data", "/srv/data/.."] {
		mount := {"type": "bind", "source": source, "destination": "/x"}
		count(privileged_reasons(privileged_input({"mounts": [mount]}))) == 1
	}
}

test_host_path_other_types_checked if {
	every type in ["rbind", "none", ""] {
		mount := {"type": type, "source": "/etc", "destination": "/x"}
		count(privileged_reasons(privileged_input({"mounts": [mount]}))) == 1
	}
}

test_mount_without_type_checked if {
	mount := {"source": "/etc", "destination": "/x"}
	count(privileged_reasons(privileged_input({"mounts": [mount]}))) == 1
}

test_volume_and_tmpfs_not_host_paths if {
	mounts := [
		{"type": "volume", "source": "cache", "destination": "/cache"},
		{"type": "tmpfs", "source": "", "destination": "/tmp"},
	]
	count(privileged_reasons(privileged_input({"mounts": mounts}))) == 0
}

test_mount_without_source_denied if {
	mount := {"type": "bind", "destination": "/x"}
	reasons := privileged_reasons(privileged_input({"mounts": [mount]}))
	reasons == {{
		"code": "host_path_not_allowed",
		"message": "container \"app\": mounts[0].source (missing) is outside the allowed host paths",
	}}
}

test_no_host_paths_without_data if {
	mount := {"type": "bind", "source": "/srv/podplug", "destination": "/x"}
	reasons := {reason |
		some reason in podplug.deny with input as privileged_input({"mounts": [mount]})
			with data.podplug.allowed_host_paths as null
		reason.code == "host_path_not_allowed"
	}
	count(reasons) == 1
}

test_one_reason_per_violation if {
	reasons := privileged_reasons(privileged_input({
		"privileged": true,
		"host_namespaces": ["net", "pid"],
		"added_capabilities": ["CAP_SYS_ADMIN"],
		"mounts": [{"type": "bind", "source": "/", "destination": "/host"}],
	}))
	count(reasons) == 5
}

test_unnamed_container_named_by_index if {
	document := json.patch(privileged_input({"privileged": true}), [{"op": "remove", "path": "/spec/containers/0/name"}])
	reasons := privileged_reasons(document)
	reasons == {{"code": "privileged_container", "message": "container containers[0]: privileged is not allowed"}}
}

test_admin_may_run_privileged if {
	document := object.union(privileged_input({"privileged": true, "host_namespaces": ["pid"]}), {"subject": {"admin": true}})
	count(privileged_reasons(document)) == 0
}
