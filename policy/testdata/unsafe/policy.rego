package podplug

default allow := false

allow if {
	input.operation == "pod.start"
	x > 1
}
