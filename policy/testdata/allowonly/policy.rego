package podplug

default allow := false

allow if input.subject.admin == true
