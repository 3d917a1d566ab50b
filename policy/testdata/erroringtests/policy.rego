package podplug

default allow := false

ratio := input.a / input.b
