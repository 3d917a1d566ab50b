# Base policy: composes the decision. Every other shipped policy only adds
# entries to deny, so any subset of them can be loaded next to this file: a
# request is allowed exactly when no loaded policy denies it.
package podplug

default allow := false

allow if count(deny) == 0

# visible decides whether one item of a listing is shown to the subject. The
# engine evaluates it once per item, with the list operation (pod.list,
# container.list, ...) and the item as input.target, so the rules that deny
# acting on an object also hide it.
default visible := false

visible if count(deny) == 0

# known_operations lists every operation the engine sends. An operation
# outside it is denied, so a new engine operation stays closed until a policy
# author has thought about it.
known_operations := {
	"pod.create", "pod.start", "pod.stop", "pod.pause", "pod.unpause",
	"pod.restart", "pod.kill", "pod.remove", "pod.inspect", "pod.list",
	"pod.logs", "pod.prune",
	"container.create", "container.start", "container.stop",
	"container.restart", "container.kill", "container.remove",
	"container.inspect", "container.list", "container.logs",
	"container.exec", "container.wait",
	"image.import", "image.list", "image.inspect", "image.remove", "image.tag",
	"plugin.install", "plugin.list", "plugin.inspect", "plugin.enable",
	"plugin.disable", "plugin.remove",
	"policy.reload", "policy.eval",
	"events.list", "system.info",
}

deny contains {
	"code": "unknown_operation",
	"message": sprintf("operation %s is unknown to the loaded policies", [base_operation_text]),
} if {
	not base_known_operation
}

# Negating a helper rule, rather than `not input.operation in ...`, matters:
# OPA evaluates the arguments of a negated call outside the negation, so with
# no operation at all the negated call would be undefined and deny nothing.
base_known_operation if input.operation in known_operations

# base_operation_text is defined for any input, so the denial above cannot
# vanish because its message failed to build.
base_operation_text := json.marshal(input.operation) if {
	_ = input.operation
} else := "(missing)"
