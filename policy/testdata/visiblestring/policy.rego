package podplug

default allow := true

visible := "sometimes"
