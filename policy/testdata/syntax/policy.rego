package podplug

default allow := false

allow if {
	input.operation == "pod.start"
