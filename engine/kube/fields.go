package kube

import (
	"fmt"
	"strings"
)

// ruleKind is the action play takes on a field of a Pod document.
type ruleKind int

const (
	// translated fields become part of the pod. A field below one that has
	// no rule of its own is ignored with a warning.
	translated ruleKind = iota
	// translatedStrict fields are translated, and a field below one that
	// has no rule of its own is an error. rule.message, formatted with
	// that field's name, gives the reason.
	translatedStrict
	// rejected fields are errors, because ignoring them would surprise.
	rejected
	// outputOnly fields are written by a Kubernetes API server, such as
	// status, and are dropped without a warning.
	outputOnly
)

type rule struct {
	kind    ruleKind
	message string
}

// fieldRules maps field patterns (paths without list indices) to rules. A
// field with no rule is ignored with a warning, unless the nearest field
// above it with a rule is translatedStrict.
var fieldRules = buildRules()

func buildRules() map[string]rule {
	ok := rule{kind: translated}
	rules := map[string]rule{
		"apiVersion": ok, "kind": ok, "metadata": ok, "spec": ok,
		"metadata.name": ok, "metadata.namespace": ok,
		"metadata.labels": ok, "metadata.annotations": ok,
		"spec.containers": ok, "spec.initContainers": ok,
		"spec.restartPolicy": ok, "spec.terminationGracePeriodSeconds": ok,
		"spec.hostNetwork": ok, "spec.hostname": ok, "spec.shareProcessNamespace": ok,
		"spec.hostUsers":       ok,
		"spec.securityContext": ok, "spec.securityContext.runAsUser": ok,
		"spec.securityContext.runAsGroup": ok, "spec.securityContext.runAsNonRoot": ok,
		"spec.resources": ok, "spec.resources.limits": ok,
		"spec.volumes": {kind: translatedStrict,
			message: "volume type %s is not supported: use emptyDir, hostPath or persistentVolumeClaim"},
		"spec.volumes[].name": ok, "spec.volumes[].emptyDir": ok,
		"spec.volumes[].emptyDir.medium": ok, "spec.volumes[].hostPath": ok,
		"spec.volumes[].hostPath.path": ok, "spec.volumes[].hostPath.type": ok,
		"spec.volumes[].persistentVolumeClaim":           ok,
		"spec.volumes[].persistentVolumeClaim.claimName": ok,
		"spec.volumes[].persistentVolumeClaim.readOnly":  ok,
		"spec.hostPID": {kind: rejected,
			message: "sharing the host's PID namespace is not supported: remove hostPID"},
		"spec.hostIPC": {kind: rejected,
			message: "sharing the host's IPC namespace is not supported: remove hostIPC"},
		"status": {kind: outputOnly},
	}
	for _, name := range []string{"creationTimestamp", "uid", "resourceVersion", "generation",
		"managedFields", "selfLink"} {
		rules["metadata."+name] = rule{kind: outputOnly}
	}
	for _, list := range []string{"spec.containers[]", "spec.initContainers[]"} {
		addContainerRules(rules, list)
	}
	return rules
}

// addContainerRules adds the rules of the container fields below prefix.
func addContainerRules(rules map[string]rule, prefix string) {
	ok := rule{kind: translated}
	for _, name := range []string{
		"name", "image", "command", "args", "workingDir", "restartPolicy", "imagePullPolicy",
		"ports", "ports[].containerPort", "ports[].hostPort", "ports[].protocol",
		"ports[].hostIP", "ports[].name",
		"env", "env[].name", "env[].value", "env[].valueFrom.fieldRef",
		"env[].valueFrom.fieldRef.fieldPath", "env[].valueFrom.fieldRef.apiVersion",
		"resources", "resources.limits",
		"volumeMounts", "volumeMounts[].name", "volumeMounts[].mountPath",
		"volumeMounts[].readOnly",
		"securityContext", "securityContext.runAsUser", "securityContext.runAsGroup",
		"securityContext.runAsNonRoot", "securityContext.privileged",
		"securityContext.capabilities", "securityContext.capabilities.add",
		"securityContext.capabilities.drop", "securityContext.readOnlyRootFilesystem",
		"lifecycle", "lifecycle.stopSignal",
	} {
		rules[prefix+"."+name] = ok
	}
	rules[prefix+".env[].valueFrom"] = rule{kind: translatedStrict,
		message: "%s is not supported: use fieldRef with metadata.name, metadata.namespace, " +
			"metadata.labels['KEY'] or metadata.annotations['KEY'], or a value"}
	for _, probe := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		rules[prefix+"."+probe] = rule{kind: rejected,
			message: "probes are not supported: podplug does not check container health; remove the probe"}
	}
	for _, hook := range []string{"postStart", "preStop"} {
		rules[prefix+".lifecycle."+hook] = rule{kind: rejected,
			message: "lifecycle hooks are not supported: run the step in the container's command " +
				"or in an init container"}
	}
	for _, sub := range []string{"subPath", "subPathExpr"} {
		rules[prefix+".volumeMounts[]."+sub] = rule{kind: rejected,
			message: "mounting part of a volume is not supported: mount the whole volume"}
	}
	rules[prefix+".envFrom"] = rule{kind: rejected,
		message: "envFrom is not supported: list the variables under env"}
	rules[prefix+".volumeDevices"] = rule{kind: rejected,
		message: "raw block volumes are not supported: remove volumeDevices"}
	rules[prefix+".restartPolicyRules"] = rule{kind: rejected,
		message: "restart rules are not supported: use restartPolicy"}
	rules[prefix+".terminationMessagePath"] = rule{kind: outputOnly}
	rules[prefix+".terminationMessagePolicy"] = rule{kind: outputOnly}
}

// parentPattern returns the pattern of the field that contains pattern:
// spec.containers for spec.containers[].image.
func parentPattern(pattern string) string {
	i := strings.LastIndex(pattern, ".")
	if i < 0 {
		return ""
	}
	return strings.TrimRight(pattern[:i], "[]")
}

// checkFields applies fieldRules to the document's fields in file order:
// it returns the first error and records a warning for each ignored field.
// Fields whose value is zero count as absent, and nothing below a field
// that was already reported or dropped is looked at.
func (t *translator) checkFields() error {
	skipBelow := ""
	for _, f := range t.doc.fields {
		if f.zero || isBelow(f.path, skipBelow) {
			continue
		}
		r, ok := fieldRules[f.pattern]
		if !ok {
			r = t.nearestRule(f.pattern)
			if r.kind == translatedStrict {
				key := f.pattern[strings.LastIndex(f.pattern, ".")+1:]
				return t.unsupported(f.path, r.message, key)
			}
			t.warn(f.path, "not supported: ignored")
			skipBelow = f.path
			continue
		}
		switch r.kind {
		case rejected:
			return t.unsupported(f.path, "%s", r.message)
		case outputOnly:
			skipBelow = f.path
		}
	}
	return nil
}

// nearestRule returns the rule of the closest field above pattern that has
// one.
func (t *translator) nearestRule(pattern string) rule {
	for p := parentPattern(pattern); p != ""; p = parentPattern(p) {
		if r, ok := fieldRules[p]; ok {
			return r
		}
	}
	return rule{kind: translated}
}

// isBelow reports whether path is a field inside parent.
func isBelow(path, parent string) bool {
	if parent == "" || !strings.HasPrefix(path, parent) || len(path) == len(parent) {
		return false
	}
	next := path[len(parent)]
	return next == '.' || next == '['
}

// lineOf returns the line of path, or of the closest field above it that is
// present, or 0.
func (t *translator) lineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if line, ok := t.doc.lines[p]; ok {
			return line
		}
	}
	return t.doc.fileLine(t.doc.root.Line)
}

// parentPath returns the path of the field or list item that contains path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		return path[:strings.LastIndex(path, "[")]
	}
	i := strings.LastIndex(path, ".")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func (t *translator) warn(path, format string, args ...any) {
	t.out.Warnings = append(t.out.Warnings, Warning{File: t.doc.file, Line: t.lineOf(path),
		Field: path, Message: fmt.Sprintf(format, args...)})
}

// unsupported returns an ErrUnsupported error at path.
func (t *translator) unsupported(path, format string, args ...any) error {
	return &Error{File: t.doc.file, Line: t.lineOf(path), Field: path,
		Message: fmt.Sprintf(format, args...), Err: ErrUnsupported}
}

// invalid returns an ErrInvalid error at path.
func (t *translator) invalid(path, format string, args ...any) error {
	return &Error{File: t.doc.file, Line: t.lineOf(path), Field: path,
		Message: fmt.Sprintf(format, args...), Err: ErrInvalid}
}
