# Tenant isolation.
#
# Non-admins see and act only on objects of their own tenant, and only
# admins change what all tenants share (plugins, policies, the image store).
#
# A denial for another tenant's object reads "<kind> not found" and names
# neither the object nor its tenant, because any other message would reveal
# that the name exists. The engine must return its own not-found error for
# such a denial (Decision.Hidden in package policy, and docs/policy.md).
package podplug

# isolation_tenant_kinds lists the kinds whose objects always belong to a
# tenant. A target of these kinds without an owner tenant belongs to no
# tenant, so only admins reach it.
isolation_tenant_kinds := {"pod", "container", "event"}

# isolation_admin_operations change objects that every tenant shares. The
# image store is shared, so an import or tag by one tenant could replace the
# image another tenant runs.
isolation_admin_operations := {
	"plugin.install", "plugin.enable", "plugin.disable", "plugin.remove",
	"policy.reload", "policy.eval",
	"image.import", "image.remove", "image.tag",
}

# Any file may define subject_is_admin. Rules with one name merge, so the
# copies in other files do not conflict.
subject_is_admin if input.subject.admin == true

isolation_subject_tenant := input.subject.tenant if {
	is_string(input.subject.tenant)
	input.subject.tenant != ""
}

deny contains {
	"code": "tenant_isolation",
	"message": "the caller belongs to no tenant; an administrator must assign one",
} if {
	not subject_is_admin
	not isolation_subject_tenant
}

deny contains {
	"code": "tenant_isolation",
	"message": sprintf("%s not found", [isolation_target_kind]),
} if {
	not subject_is_admin
	isolation_target_foreign
}

deny contains {"code": "admin_required", "message": message} if {
	not subject_is_admin
	input.operation in isolation_admin_operations
	message := sprintf(
		"%s changes objects shared by all tenants and requires an administrator",
		[input.operation],
	)
}

isolation_target_kind := input.target.kind if {
	is_string(input.target.kind)
	input.target.kind != ""
} else := "object"

# isolation_target_foreign holds for a target owned by another tenant, and for
# a tenant-scoped target with no owner tenant.
isolation_target_foreign if {
	input.target.kind in isolation_tenant_kinds
	not isolation_owned_by_subject
}

isolation_target_foreign if {
	input.target.owner.tenant
	not isolation_owned_by_subject
}

isolation_owned_by_subject if {
	input.target.owner.tenant == isolation_subject_tenant
}
