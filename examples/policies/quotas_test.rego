package podplug_test

import data.podplug

quota_test_data := {
	"default": {"pods": 3, "containers": 6, "pod_memory_bytes": 1073741824, "pod_cpus": 2},
	"tenants": {"green": {"pods": 5}},
}

quota_codes := {"quota_unknown", "quota_invalid", "quota_pods", "quota_containers", "limits_required", "quota_limits"}

quota_input(tenant, usage) := {
	"operation": "pod.create",
	"subject": {"uid": 1001, "user": "alice", "tenant": tenant, "admin": false},
	"spec": {
		"pod": {"name": "web", "memory_bytes": 67108864, "cpus": 0.5},
		"containers": [
			{"name": "app", "image": "localhost/busybox", "resources": {"memory_bytes": 0, "cpus": 0}},
			{"name": "sidecar", "image": "localhost/busybox", "resources": {"memory_bytes": 33554432, "cpus": 0.25}},
		],
	},
	"context": usage,
}

quota_reasons(input_document) := {reason |
	some reason in podplug.deny with input as input_document
		with data.podplug.quotas as quota_test_data
	reason.code in quota_codes
}

quota_patch(document, path, value) := json.patch(document, [{"op": "add", "path": path, "value": value}])

test_within_quota_allowed if {
	count(quota_reasons(quota_input("blue", {"tenant_pods": 2, "tenant_containers": 4}))) == 0
}

test_pod_quota_reached if {
	reasons := quota_reasons(quota_input("blue", {"tenant_pods": 3, "tenant_containers": 0}))
	reasons == {{"code": "quota_pods", "message": "the tenant has 3 pods and its quota is 3"}}
}

test_tenant_override_raises_pods if {
	count(quota_reasons(quota_input("green", {"tenant_pods": 3, "tenant_containers": 0}))) == 0
}

test_tenant_override_keeps_other_keys if {
	reasons := quota_reasons(quota_input("green", {"tenant_pods": 0, "tenant_containers": 5}))
	reasons == {{"code": "quota_containers", "message": "the tenant has 5 containers, 2 more would exceed its quota of 6"}}
}

test_container_create_counts_containers if {
	document := object.union(quota_input("blue", {"tenant_pods": 3, "tenant_containers": 6}), {"operation": "container.create"})
	reasons := quota_reasons(document)
	reasons == {{"code": "quota_containers", "message": "the tenant has 6 containers, 2 more would exceed its quota of 6"}}
}

test_missing_usage_denied if {
	document := object.remove(quota_input("blue", {}), ["context"])
	reasons := quota_reasons(document)
	{reason.code | some reason in reasons} == {"quota_unknown"}
}

test_memory_limit_required if {
	document := quota_patch(quota_input("blue", {"tenant_pods": 0, "tenant_containers": 0}), "/spec/pod/memory_bytes", 0)
	reasons := quota_reasons(document)
	reasons == {{"code": "limits_required", "message": "pod: memory_bytes is required and must be greater than 0"}}
}

test_cpu_limit_required if {
	document := json.patch(quota_input("blue", {"tenant_pods": 0, "tenant_containers": 0}), [{"op": "remove", "path": "/spec/pod/cpus"}])
	reasons := quota_reasons(document)
	reasons == {{"code": "limits_required", "message": "pod: cpus is required and must be greater than 0"}}
}

test_pod_cpus_capped if {
	document := quota_patch(quota_input("blue", {"tenant_pods": 0, "tenant_containers": 0}), "/spec/pod/cpus", 4)
	reasons := quota_reasons(document)
	reasons == {{"code": "quota_limits", "message": "pod: cpus 4 exceeds the quota of 2"}}
}

test_container_memory_capped if {
	document := quota_patch(quota_input("blue", {"tenant_pods": 0, "tenant_containers": 0}), "/spec/containers/1/resources/memory_bytes", 2147483648)
	reasons := quota_reasons(document)
	reasons == {{"code": "quota_limits", "message": "container \"sidecar\": resources.memory_bytes 2147483648 exceeds the pod quota of 1073741824"}}
}

test_invalid_quota_denied if {
	reasons := {reason |
		some reason in podplug.deny with input as quota_input("blue", {"tenant_pods": 0, "tenant_containers": 0})
			with data.podplug.quotas as {"default": {"pods": "ten"}}
		reason.code in quota_codes
	}
	reasons == {{"code": "quota_invalid", "message": "quota pods must be a number, got \"ten\""}}
}

test_builtin_quota_without_data if {
	reasons := {reason |
		some reason in podplug.deny with input as quota_input("blue", {"tenant_pods": 10, "tenant_containers": 0})
			with data.podplug.quotas as {}
		reason.code in quota_codes
	}
	reasons == {{"code": "quota_pods", "message": "the tenant has 10 pods and its quota is 10"}}
}

test_start_not_counted if {
	document := object.union(quota_input("blue", {"tenant_pods": 99, "tenant_containers": 99}), {"operation": "pod.start"})
	count(quota_reasons(document)) == 0
}

test_admin_not_counted if {
	document := object.union(quota_input("blue", {"tenant_pods": 99, "tenant_containers": 99}), {"subject": {"admin": true}})
	count(quota_reasons(document)) == 0
}
