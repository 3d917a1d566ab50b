package podplug

default allow := false

allow if {
	count(input.subject.groups) > 0
	upper(42) == "42"
}
