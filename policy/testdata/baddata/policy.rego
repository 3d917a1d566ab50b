package podplug

default allow := true
