package podplug

default allow := false

# Denies when pods_per_container errors: with strict built-in errors the
# division by zero fails the evaluation instead of making the rule undefined.
allow if pods_per_container >= 0

pods_per_container := input.context.tenant_pods / input.context.tenant_containers
