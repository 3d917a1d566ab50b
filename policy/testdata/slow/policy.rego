package podplug

default allow := false

# Walks 25 million pairs, far longer than any test timeout.
allow if {
	count([1 |
		some i in numbers.range(1, 5000)
		some j in numbers.range(1, 5000)
	]) > 0
}
