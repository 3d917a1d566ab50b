package podplug_test

import data.podplug

test_admin_allowed if {
	podplug.allow with input as {"subject": {"admin": true}}
}

# This test is wrong on purpose: non-admins are not allowed.
test_user_allowed if {
	podplug.allow with input as {"subject": {"admin": false}}
}
