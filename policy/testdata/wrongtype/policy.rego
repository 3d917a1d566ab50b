package podplug

allow := "yes"
