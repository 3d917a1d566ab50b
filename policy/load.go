package policy

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// The queries wrap each rule in an array comprehension, which is never
// undefined. An empty array then means that the rule is undefined, while a
// plain reference would make the whole query undefined and hide which rule
// was missing.
const (
	decisionQuery = "allow := [x | x := data.podplug.allow]; deny := [x | x := data.podplug.deny]"
	visibleQuery  = "visible := [x | x := data.podplug.visible]"
)

// policySet is one compiled and prepared set of policies. It is not changed
// after loadSet returns, so any number of goroutines may evaluate it while
// Reload builds the next one.
type policySet struct {
	decision rego.PreparedEvalQuery
	visible  rego.PreparedEvalQuery
	// files lists the loaded .rego files, sorted.
	files []string
}

// loadSet reads the policies at path, a directory or a bundle tarball,
// leaving out tests, and compiles and prepares both queries.
func loadSet(ctx context.Context, path string) (*policySet, error) {
	b, err := readBundle(path, skipTests)
	if err != nil {
		return nil, err
	}

	modules := make(map[string]*ast.Module, len(b.Modules))
	files := make([]string, 0, len(b.Modules))
	for _, m := range b.Modules {
		modules[m.Path] = m.Parsed
		files = append(files, m.Path)
	}
	sort.Strings(files)
	if len(modules) == 0 {
		return nil, fmt.Errorf("load policies from %s: %w: no .rego file outside tests",
			path, ErrNoPolicies)
	}

	compiler := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, fmt.Errorf("load policies from %s: %w: %w", path, ErrInvalidPolicy, compiler.Errors)
	}

	// Keeping data as AST values saves converting it on every read.
	store := inmem.NewFromObjectWithOpts(b.Data, inmem.OptReturnASTValuesOnRead(true))
	set := &policySet{files: files}
	if set.decision, err = prepare(ctx, compiler, store, decisionQuery); err != nil {
		return nil, fmt.Errorf("load policies from %s: %w", path, err)
	}
	if set.visible, err = prepare(ctx, compiler, store, visibleQuery); err != nil {
		return nil, fmt.Errorf("load policies from %s: %w", path, err)
	}
	return set, nil
}

// readBundle loads path as an OPA bundle: every .rego file, and data from
// files named data.json, data.yaml or data.yml, placed under the data path
// of their directory. Other files are ignored. A signed bundle is rejected,
// because podplug has no verification key to check it with.
func readBundle(path string, filter loader.Filter) (*bundle.Bundle, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}

	b, err := loader.NewFileLoader().
		WithRegoVersion(ast.RegoV1).
		WithFilter(filter).
		AsBundle(path)
	if err != nil {
		return nil, fmt.Errorf("load policies from %s: %w: %w", path, ErrInvalidPolicy, err)
	}
	return b, nil
}

// skipTests is a loader filter that leaves out Rego test files, which define
// test rules and mocks that have no place in decisions.
func skipTests(_ string, info fs.FileInfo, _ int) bool {
	return !info.IsDir() && strings.HasSuffix(info.Name(), "_test.rego")
}

func prepare(ctx context.Context, compiler *ast.Compiler, store storage.Store,
	query string) (rego.PreparedEvalQuery, error) {
	r := rego.New(
		rego.Query(query),
		rego.Compiler(compiler),
		rego.Store(store),
		// A built-in error, such as a division by zero or a bad regular
		// expression, fails the decision instead of leaving its expression
		// undefined, which in a deny rule would let the request pass.
		rego.StrictBuiltinErrors(true),
	)
	pq, err := r.PrepareForEval(ctx)
	if err != nil {
		return pq, fmt.Errorf("prepare query %q: %w", query, err)
	}
	return pq, nil
}
