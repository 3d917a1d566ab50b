package podplug_test

import data.podplug

base_reason := {"code": "example", "message": "denied for the test"}

test_allow_when_nothing_denies if {
	podplug.allow with input as {"operation": "pod.start"}
		with data.podplug.deny as set()
}

test_deny_reason_blocks_allow if {
	not podplug.allow with input as {"operation": "pod.start"}
		with data.podplug.deny as {base_reason}
}

test_visible_when_nothing_denies if {
	podplug.visible with input as {"operation": "pod.list"}
		with data.podplug.deny as set()
}

test_deny_reason_hides_item if {
	not podplug.visible with input as {"operation": "pod.list"}
		with data.podplug.deny as {base_reason}
}

test_unknown_operation_denied if {
	reasons := podplug.deny with input as {"operation": "pod.explode"}
	{"code": "unknown_operation", "message": "operation \"pod.explode\" is unknown to the loaded policies"} in reasons
}

test_missing_operation_denied if {
	reasons := podplug.deny with input as {}
	{"code": "unknown_operation", "message": "operation (missing) is unknown to the loaded policies"} in reasons
}

test_known_operations_not_flagged if {
	every operation in podplug.known_operations {
		not base_unknown(operation)
	}
}

base_unknown(operation) if {
	some reason in podplug.deny with input as {"operation": operation}
	reason.code == "unknown_operation"
}
