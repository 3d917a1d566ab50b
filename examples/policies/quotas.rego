# Tenant quotas.
#
# For non-admin pod.create and container.create, caps the pods and
# containers a tenant has, and requires a memory and a cpu limit on the pod,
# capped per pod. Limits come from data.podplug.quotas: "default" applies to
# every tenant, "tenants.<name>" overrides single keys for one tenant, and
# keys missing from both fall back to quota_builtin below.
#
# The engine sends the tenant's current counts in input.context and, for
# container.create, the pod the container joins in input.spec.pod.
package podplug

quota_builtin := {
	"pods": 10,
	"containers": 40,
	"pod_memory_bytes": 1073741824,
	"pod_cpus": 2,
}

default quota_configured := {}

quota_configured := data.podplug.quotas["default"]

default quota_tenant_override := {}

quota_tenant_override := data.podplug.quotas.tenants[input.subject.tenant]

tenant_quota := object.union_n([quota_builtin, quota_configured, quota_tenant_override])

quota_operations := {"pod.create", "container.create"}

subject_is_admin if input.subject.admin == true

quota_applies if {
	not subject_is_admin
	input.operation in quota_operations
}

quota_new_containers := count(input.spec.containers) if {
	is_array(input.spec.containers)
} else := 0

deny contains {"code": "quota_unknown", "message": message} if {
	quota_applies
	not quota_usage_known
	message := concat(" ", [
		"the request carries no tenant usage",
		"(context.tenant_pods and context.tenant_containers),",
		"so quotas cannot be checked",
	])
}

deny contains {"code": "quota_invalid", "message": message} if {
	quota_applies
	some key, value in tenant_quota
	not is_number(value)
	message := sprintf("quota %s must be a number, got %s", [key, json.marshal(value)])
}

quota_usage_known if {
	is_number(input.context.tenant_pods)
	is_number(input.context.tenant_containers)
}

deny contains {"code": "quota_pods", "message": message} if {
	quota_applies
	input.operation == "pod.create"
	input.context.tenant_pods + 1 > tenant_quota.pods
	message := sprintf(
		"the tenant has %v pods and its quota is %v",
		[input.context.tenant_pods, tenant_quota.pods],
	)
}

deny contains {"code": "quota_containers", "message": message} if {
	quota_applies
	input.context.tenant_containers + quota_new_containers > tenant_quota.containers
	message := sprintf(
		"the tenant has %v containers, %v more would exceed its quota of %v",
		[input.context.tenant_containers, quota_new_containers, tenant_quota.containers],
	)
}

# quota_limits maps each pod limit to its quota key.
quota_limits := {"memory_bytes": "pod_memory_bytes", "cpus": "pod_cpus"}

deny contains {"code": "limits_required", "message": message} if {
	quota_applies
	some field, _ in quota_limits
	not quota_pod_limit_set(field)
	message := sprintf("pod: %s is required and must be greater than 0", [field])
}

deny contains {"code": "quota_limits", "message": message} if {
	quota_applies
	some field, key in quota_limits
	input.spec.pod[field] > tenant_quota[key]
	message := sprintf(
		"pod: %s %v exceeds the quota of %v",
		[field, input.spec.pod[field], tenant_quota[key]],
	)
}

deny contains {"code": "quota_limits", "message": message} if {
	quota_applies
	some i, c in input.spec.containers
	some field, key in quota_limits
	c.resources[field] > tenant_quota[key]
	message := sprintf(
		"container %s: resources.%s %v exceeds the pod quota of %v",
		[quota_container_name(i, c), field, c.resources[field], tenant_quota[key]],
	)
}

# quota_pod_limit_set takes the field name, not the value: a negated call
# whose argument is undefined is itself undefined, so a missing limit would
# not be reported.
quota_pod_limit_set(field) if quota_positive(input.spec.pod[field])

quota_positive(x) if {
	is_number(x)
	x > 0
}

quota_container_name(i, c) := json.marshal(c.name) if {
	is_string(c.name)
	c.name != ""
} else := sprintf("containers[%d]", [i])
