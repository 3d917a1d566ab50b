package kube

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// env returns a container's environment as KEY=VALUE, in manifest order,
// and the values by name for expanding command and args. A value may refer
// to variables defined above it as $(NAME).
func (t *translator) env(c *v1.Container, path string) ([]string, map[string]string, error) {
	vars := map[string]string{}
	var out []string
	for i, e := range c.Env {
		envPath := fmt.Sprintf("%s.env[%d]", path, i)
		if e.Name == "" || strings.Contains(e.Name, "=") {
			return nil, nil, t.invalid(envPath+".name", "%q: give a name without =", e.Name)
		}
		value := expand(e.Value, vars)
		if e.ValueFrom != nil {
			if e.Value != "" {
				return nil, nil, t.invalid(envPath, "set value or valueFrom, not both")
			}
			var err error
			if value, err = t.fieldRef(e.ValueFrom, envPath+".valueFrom"); err != nil {
				return nil, nil, err
			}
		}
		vars[e.Name] = value
		out = append(out, e.Name+"="+value)
	}
	return out, vars, nil
}

// fieldRef resolves the pod fields that are known before the pod runs.
func (t *translator) fieldRef(src *v1.EnvVarSource, path string) (string, error) {
	ref := src.FieldRef
	if ref == nil {
		return "", t.invalid(path, "missing fieldRef: give a fieldRef or a value")
	}
	if ref.APIVersion != "" && ref.APIVersion != "v1" {
		return "", t.invalid(path+".fieldRef.apiVersion", "%q: use v1", ref.APIVersion)
	}
	meta := t.pod.ObjectMeta
	switch fieldPath := ref.FieldPath; fieldPath {
	case "metadata.name":
		return meta.Name, nil
	case "metadata.namespace":
		if meta.Namespace == "" {
			return defaultNamespace, nil
		}
		return meta.Namespace, nil
	default:
		if key, ok := subscript(fieldPath, "metadata.labels"); ok {
			return meta.Labels[key], nil
		}
		if key, ok := subscript(fieldPath, "metadata.annotations"); ok {
			return meta.Annotations[key], nil
		}
		return "", t.unsupported(path+".fieldRef.fieldPath", "%q is not supported: use metadata.name, "+
			"metadata.namespace, metadata.labels['KEY'] or metadata.annotations['KEY']", fieldPath)
	}
}

// subscript returns KEY from "field['KEY']".
func subscript(path, field string) (string, bool) {
	rest, ok := strings.CutPrefix(path, field+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

// expand replaces $(NAME) with the value of NAME, as Kubernetes does in
// command, args and env values: $$ is a literal $, and a reference to a
// name not in vars stays as written.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if value, ok := vars[name]; ok {
				b.WriteString(value)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// escape returns s written so that expand returns s unchanged: each $ that
// is followed by $ or ( is doubled.
func escape(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '$' && i+1 < len(s) && (s[i+1] == '$' || s[i+1] == '(') {
			b.WriteByte('$')
		}
	}
	return b.String()
}

func expandAll(list []string, vars map[string]string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = expand(s, vars)
	}
	return out
}

func escapeAll(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = escape(s)
	}
	return out
}
