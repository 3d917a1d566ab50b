package podplug_test

import data.podplug

image_digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

image_test_data := {
	"registries": ["localhost/", "docker.io/library/busybox"],
	"digests": [image_digest],
}

image_input(image) := {
	"operation": "pod.create",
	"subject": {"uid": 1001, "user": "alice", "tenant": "blue", "admin": false},
	"spec": {"pod": {"name": "web"}, "containers": [{"name": "app", "image": image}]},
}

image_reasons(input_document) := {reason |
	some reason in podplug.deny with input as input_document
		with data.podplug.allowed_images as image_test_data
	reason.code == "image_not_allowed"
}

test_allowed_images_pass if {
	every image in [
		"localhost/busybox",
		"localhost/team/app:1.0",
		"docker.io/library/busybox",
		"docker.io/library/busybox:1.36",
		concat("@", ["docker.io/library/busybox", image_digest]),
		concat("@", ["quay.io/any/thing", image_digest]),
		image_digest,
	] {
		count(image_reasons(image_input(image))) == 0
	}
}

test_other_images_denied if {
	every image in [
		"docker.io/library/busyboxes",
		"docker.io/library/alpine",
		"localhostevil.example/busybox",
		"busybox",
		"quay.io/any/thing@sha256:ffff",
		"",
	] {
		count(image_reasons(image_input(image))) == 1
	}
}

test_denial_names_container_and_image if {
	reasons := image_reasons(image_input("docker.io/library/alpine"))
	reasons == {{
		"code": "image_not_allowed",
		"message": "container \"app\": image \"docker.io/library/alpine\" is not in the allowed images",
	}}
}

test_missing_image_denied if {
	document := json.patch(image_input("x"), [{"op": "remove", "path": "/spec/containers/0/image"}])
	reasons := image_reasons(document)
	reasons == {{"code": "image_not_allowed", "message": "container \"app\": image is missing"}}
}

test_request_image_checked if {
	document := {
		"operation": "image.import",
		"subject": {"uid": 0, "user": "root", "admin": true},
		"request": {"image": "docker.io/library/alpine:3"},
	}
	reasons := image_reasons(document)
	reasons == {{"code": "image_not_allowed", "message": "image \"docker.io/library/alpine:3\" is not in the allowed images"}}
}

test_admin_bound_by_allowlist if {
	document := object.union(image_input("docker.io/library/alpine"), {"subject": {"admin": true}})
	count(image_reasons(document)) == 1
}

test_nothing_allowed_without_data if {
	reasons := {reason |
		some reason in podplug.deny with input as image_input("localhost/busybox")
			with data.podplug.allowed_images as {}
		reason.code == "image_not_allowed"
	}
	count(reasons) == 1
}

test_shipped_data_allows_localhost if {
	reasons := {reason |
		some reason in podplug.deny with input as image_input("localhost/busybox")
		reason.code == "image_not_allowed"
	}
	count(reasons) == 0
}
