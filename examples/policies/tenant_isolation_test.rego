package podplug_test

import data.podplug

isolation_alice := {"uid": 1001, "user": "alice", "tenant": "blue", "admin": false}

isolation_root := {"uid": 0, "user": "root", "tenant": "", "admin": true}

isolation_pod(tenant) := {
	"kind": "pod",
	"name": "web",
	"id": "0f3c",
	"owner": {"uid": 1002, "tenant": tenant},
	"state": "Running",
}

isolation_input(operation, subject, target) := {
	"operation": operation,
	"subject": subject,
	"target": target,
}

isolation_codes(input_document) := {reason.code |
	some reason in podplug.deny with input as input_document
}

isolation_not_found := {"code": "tenant_isolation", "message": "pod not found"}

test_own_tenant_pod_allowed if {
	codes := isolation_codes(isolation_input("pod.start", isolation_alice, isolation_pod("blue")))
	not "tenant_isolation" in codes
}

test_other_tenant_pod_not_found if {
	reasons := podplug.deny with input as isolation_input("pod.inspect", isolation_alice, isolation_pod("red"))
	isolation_not_found in reasons
}

test_other_tenant_message_leaks_nothing if {
	reasons := podplug.deny with input as isolation_input("pod.stop", isolation_alice, isolation_pod("red"))
	every reason in reasons {
		not contains(reason.message, "red")
		not contains(reason.message, "web")
		not contains(reason.message, "0f3c")
	}
}

test_admin_reaches_other_tenant if {
	codes := isolation_codes(isolation_input("pod.remove", isolation_root, isolation_pod("red")))
	not "tenant_isolation" in codes
}

test_admin_flag_must_be_true if {
	subject := object.union(isolation_alice, {"admin": "yes"})
	reasons := podplug.deny with input as isolation_input("pod.inspect", subject, isolation_pod("red"))
	isolation_not_found in reasons
}

test_pod_without_owner_not_found if {
	target := object.remove(isolation_pod("blue"), ["owner"])
	reasons := podplug.deny with input as isolation_input("pod.inspect", isolation_alice, target)
	isolation_not_found in reasons
}

test_other_tenant_container_not_found if {
	target := object.union(isolation_pod("red"), {"kind": "container", "name": "db"})
	reasons := podplug.deny with input as isolation_input("container.logs", isolation_alice, target)
	{"code": "tenant_isolation", "message": "container not found"} in reasons
}

test_subject_without_tenant_denied if {
	subject := object.remove(isolation_alice, ["tenant"])
	reasons := podplug.deny with input as {"operation": "pod.create", "subject": subject}
	{"code": "tenant_isolation", "message": "the caller belongs to no tenant; an administrator must assign one"} in reasons
}

test_empty_subject_denied if {
	codes := isolation_codes({"operation": "pod.list"})
	"tenant_isolation" in codes
}

test_shared_image_readable if {
	target := {"kind": "image", "name": "localhost/busybox"}
	codes := isolation_codes(isolation_input("image.inspect", isolation_alice, target))
	not "tenant_isolation" in codes
	not "admin_required" in codes
}

test_plugin_install_requires_admin if {
	reasons := podplug.deny with input as {"operation": "plugin.install", "subject": isolation_alice}
	{"code": "admin_required", "message": "plugin.install changes objects shared by all tenants and requires an administrator"} in reasons
}

test_admin_installs_plugin if {
	codes := isolation_codes({"operation": "plugin.install", "subject": isolation_root})
	not "admin_required" in codes
}

test_image_import_requires_admin if {
	codes := isolation_codes({"operation": "image.import", "subject": isolation_alice})
	"admin_required" in codes
}

test_listing_hides_other_tenant if {
	not podplug.visible with input as isolation_input("pod.list", isolation_alice, isolation_pod("red"))
}

test_listing_shows_own_tenant if {
	podplug.visible with input as isolation_input("pod.list", isolation_alice, isolation_pod("blue"))
}
