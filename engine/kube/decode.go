package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"

	yamlv3 "go.yaml.in/yaml/v3"
	v1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// maxNodes caps the YAML nodes one document may have once aliases are
// followed, so a document that repeats an anchor many times cannot make
// the field walk run for long.
const maxNodes = 100_000

// document is one YAML document of a manifest file.
type document struct {
	file string
	// start is the file's line on which the document's text begins.
	start int
	text  []byte
	// root is the top-level mapping, nil for a document with no content.
	root *yamlv3.Node
	// fields lists every mapping key present, in file order.
	fields []field
	// lines maps a field path to its line in the file.
	lines map[string]int
}

// field is one key present in a document.
type field struct {
	// path names the field with list indices: spec.containers[0].image.
	path string
	// pattern is the path without indices: spec.containers[].image.
	pattern string
	line    int
	// zero is set when the value is null, empty, 0 or false.
	zero bool
}

// separator matches a line that starts a new YAML document.
var separator = regexp.MustCompile(`^---(\s|$)`)

// splitDocuments cuts data before each line that starts with "---". The
// separator line stays at the top of the document it opens, so line numbers
// of the document map to the file by adding start-1.
func splitDocuments(file string, data []byte) []document {
	var docs []document
	lines := bytes.SplitAfter(data, []byte("\n"))
	begin := 0
	for i, line := range lines {
		if i > begin && separator.Match(line) {
			docs = append(docs, document{file: file, start: begin + 1,
				text: bytes.Join(lines[begin:i], nil)})
			begin = i
		}
	}
	return append(docs, document{file: file, start: begin + 1, text: bytes.Join(lines[begin:], nil)})
}

// fileLine converts a line of the document to a line of the file.
func (d *document) fileLine(line int) int {
	if line <= 0 {
		return 0
	}
	return d.start + line - 1
}

// parserLine finds "line N: MESSAGE" in a YAML parser's error.
var parserLine = regexp.MustCompile(`line (\d+): ([^\n]*)`)

// syntaxError turns a YAML parser's error into an *Error at the file's
// line.
func (d *document) syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := parserLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		line, msg = d.fileLine(n), m[2]
	}
	return &Error{File: d.file, Line: line, Message: "invalid YAML: " + msg, Err: ErrInvalid}
}

// parse reads the document into nodes. A document of only comments or
// whitespace leaves root nil. Syntax errors and duplicate keys are found
// by sigs.k8s.io/yaml, the parser of Kubernetes, because its messages give
// the line of the problem. The node tree comes from yaml.v3, which keeps
// the line of every key.
func (d *document) parse() error {
	if _, err := yaml.YAMLToJSONStrict(d.text); err != nil {
		return d.syntaxError(err)
	}
	var node yamlv3.Node
	if err := yamlv3.Unmarshal(d.text, &node); err != nil {
		return d.syntaxError(err)
	}
	if node.Kind == 0 || len(node.Content) == 0 {
		return nil
	}
	root := resolveAlias(node.Content[0])
	if root.Kind == yamlv3.ScalarNode && root.ShortTag() == "!!null" {
		return nil
	}
	if root.Kind != yamlv3.MappingNode {
		return &Error{File: d.file, Line: d.fileLine(root.Line),
			Message: "a manifest document must be a mapping with apiVersion, kind, metadata and spec",
			Err:     ErrInvalid}
	}
	d.root = root
	return nil
}

// topLevel returns the value of a top-level key and its line, or nil.
func (d *document) topLevel(key string) (*yamlv3.Node, int) {
	for i := 0; i+1 < len(d.root.Content); i += 2 {
		if d.root.Content[i].Value == key {
			return resolveAlias(d.root.Content[i+1]), d.fileLine(d.root.Content[i].Line)
		}
	}
	return nil, 0
}

// metadataName returns the value of metadata.name, or "".
func (d *document) metadataName() string {
	meta, _ := d.topLevel("metadata")
	if meta == nil || meta.Kind != yamlv3.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(meta.Content); i += 2 {
		if meta.Content[i].Value == "name" {
			return resolveAlias(meta.Content[i+1]).Value
		}
	}
	return ""
}

// checkKind accepts only apiVersion v1, kind Pod.
func (d *document) checkKind() error {
	kind, kindLine := d.topLevel("kind")
	if kind == nil || kind.Value == "" {
		return &Error{File: d.file, Line: d.fileLine(d.root.Line), Field: "kind",
			Message: "missing: podplug plays documents of kind Pod", Err: ErrInvalid}
	}
	if kind.Value != "Pod" {
		return &Error{File: d.file, Line: kindLine, Field: "kind",
			Message: fmt.Sprintf("%s is not supported: podplug plays documents of kind Pod only; "+
				"write the pod template as a Pod", kind.Value),
			Err: ErrUnsupported}
	}
	version, versionLine := d.topLevel("apiVersion")
	if version == nil || version.Value != "v1" {
		got := "missing"
		if version != nil {
			got = strconv.Quote(version.Value)
		}
		line := versionLine
		if line == 0 {
			line = kindLine
		}
		return &Error{File: d.file, Line: line, Field: "apiVersion",
			Message: fmt.Sprintf("%s: a Pod needs apiVersion v1", got), Err: ErrInvalid}
	}
	return nil
}

// walkFields records the document's fields and the lines of its list
// items, rejecting unknown fields.
func (d *document) walkFields() error {
	w := walker{doc: d, lines: map[string]int{}}
	if err := w.walk(d.root, reflect.TypeFor[v1.Pod](), "", ""); err != nil {
		return err
	}
	d.fields = w.fields
	d.lines = w.lines
	for _, f := range w.fields {
		d.lines[f.path] = f.line
	}
	return nil
}

// decodePod decodes the document into a Pod.
func (d *document) decodePod() (*v1.Pod, error) {
	var pod v1.Pod
	if err := yaml.UnmarshalStrict(d.text, &pod); err != nil {
		return nil, d.decodeError(err)
	}
	return &pod, nil
}

// decodeError places an error of the typed decode. A wrong type names its
// field without list indices, so the first field of that pattern is taken.
func (d *document) decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		field := jsonFieldPath(typeErr.Field)
		line := 0
		for _, f := range d.fields {
			if strings.ReplaceAll(f.pattern, "[]", "") == field {
				line = f.line
				break
			}
		}
		return &Error{File: d.file, Line: line, Field: field,
			Message: fmt.Sprintf("expected %s, got %s", typeName(typeErr.Type), typeErr.Value),
			Err:     ErrInvalid}
	}
	msg := err.Error()
	for _, prefix := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ",
		"while decoding JSON: ", "json: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	if parserLine.MatchString(msg) {
		return d.syntaxError(errors.New(msg))
	}
	return &Error{File: d.file, Line: d.fileLine(d.root.Line), Message: msg, Err: ErrInvalid}
}

// jsonFieldPath drops the names of embedded Go structs, such as
// ProbeHandler, from a field path of encoding/json: JSON fields of a Pod
// start with a lower-case letter.
func jsonFieldPath(path string) string {
	var keep []string
	for _, part := range strings.Split(path, ".") {
		if part != "" && !unicode.IsUpper(rune(part[0])) {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, ".")
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// walker visits a document's nodes along the Go type they decode into.
type walker struct {
	doc    *document
	fields []field
	// lines maps the path of each list item to its line.
	lines  map[string]int
	visits int
}

func (w *walker) walk(n *yamlv3.Node, t reflect.Type, path, pattern string) error {
	if w.visits++; w.visits > maxNodes {
		return &Error{File: w.doc.file, Line: w.doc.fileLine(n.Line), Field: path,
			Message: fmt.Sprintf("more than %d YAML nodes once aliases are expanded", maxNodes),
			Err:     ErrInvalid}
	}
	n = resolveAlias(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isLeaf(t) {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yamlv3.MappingNode:
		return w.walkStruct(n, t, path, pattern)
	case t.Kind() == reflect.Slice && n.Kind == yamlv3.SequenceNode:
		for i, item := range n.Content {
			itemPath := fmt.Sprintf("%s[%d]", path, i)
			w.lines[itemPath] = w.doc.fileLine(item.Line)
			if err := w.walk(item, t.Elem(), itemPath, pattern+"[]"); err != nil {
				return err
			}
		}
	}
	// Map keys are data, such as label names, and the values of the maps
	// of a Pod are strings or quantities, so a map is not descended into. A
	// node of the wrong kind is left to the typed decode, which names the
	// expected type.
	return nil
}

func (w *walker) walkStruct(n *yamlv3.Node, t reflect.Type, path, pattern string) error {
	known := jsonFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.ShortTag() == "!!merge" {
			if err := w.walkMerge(value, t, path, pattern); err != nil {
				return err
			}
			continue
		}
		fieldPath, fieldPattern := joinPath(path, key.Value), joinPath(pattern, key.Value)
		fieldType, ok := known[key.Value]
		if !ok {
			return &Error{File: w.doc.file, Line: w.doc.fileLine(key.Line), Field: fieldPath,
				Message: fmt.Sprintf("unknown field %q: check its spelling and indentation", key.Value),
				Err:     ErrInvalid}
		}
		w.fields = append(w.fields, field{path: fieldPath, pattern: fieldPattern,
			line: w.doc.fileLine(key.Line), zero: isZero(value)})
		if err := w.walk(value, fieldType, fieldPath, fieldPattern); err != nil {
			return err
		}
	}
	return nil
}

// walkMerge walks the mappings of a YAML merge key (<<) as if their keys
// were written in place.
func (w *walker) walkMerge(value *yamlv3.Node, t reflect.Type, path, pattern string) error {
	value = resolveAlias(value)
	sources := []*yamlv3.Node{value}
	if value.Kind == yamlv3.SequenceNode {
		sources = value.Content
	}
	for _, src := range sources {
		if err := w.walk(src, t, path, pattern); err != nil {
			return err
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func resolveAlias(n *yamlv3.Node) *yamlv3.Node {
	for n.Kind == yamlv3.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isZero reports whether a node decodes to a zero value, which play
// treats as the field being absent.
func isZero(n *yamlv3.Node) bool {
	n = resolveAlias(n)
	switch n.Kind {
	case yamlv3.MappingNode, yamlv3.SequenceNode:
		return len(n.Content) == 0
	case yamlv3.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return true
		case "!!bool":
			return strings.EqualFold(n.Value, "false")
		case "!!int", "!!float":
			v, err := strconv.ParseFloat(n.Value, 64)
			return err == nil && v == 0
		case "!!str":
			return n.Value == ""
		}
	}
	return false
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// isLeaf reports whether t decodes from a scalar or by its own JSON
// method, such as resource.Quantity, so its insides are no fields.
func isLeaf(t reflect.Type) bool {
	if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Slice, reflect.Map:
		return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
	}
	return true
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the JSON names of t's fields, with inline structs
// flattened, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		inline := name == "" && (f.Anonymous || strings.Contains(opts, "inline"))
		if inline && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	fieldCache.Store(t, out)
	return out
}
