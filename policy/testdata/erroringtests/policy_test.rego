package podplug_test

import data.podplug

test_ratio_divides_by_zero if {
	podplug.ratio == 0 with input as {"a": 1, "b": 0}
}
