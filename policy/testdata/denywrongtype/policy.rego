package podplug

default allow := true

deny contains "no code or message"
