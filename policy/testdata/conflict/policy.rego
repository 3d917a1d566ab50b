package podplug

allow := true

allow := false if input.operation == "pod.start"
