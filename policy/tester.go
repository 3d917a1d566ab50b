package policy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// Test runs the Rego unit tests in dir, a directory or bundle tarball, the
// way `opa test` does: every rule named test_* in every .rego file is a test,
// which passes when it is true. Policies and data load as in Load, with the
// test files included, and built-in errors fail a test as they fail a
// decision.
//
// Test writes one line per test to w, ordered by file and line, then a
// summary line. A test that is false or fails to evaluate counts as failed;
// a test named todo_test_* is skipped and counted in neither. err is set only
// when the files cannot be loaded or compiled (ErrInvalidPolicy, naming file
// and line) or the run cannot start.
func Test(ctx context.Context, dir string, w io.Writer) (passed, failed int, err error) {
	b, err := readBundle(dir, nil)
	if err != nil {
		return 0, 0, err
	}

	modules := make(map[string]*ast.Module, len(b.Modules))
	for _, m := range b.Modules {
		modules[m.Path] = m.Parsed
	}

	runner := tester.NewRunner().
		SetStore(inmem.NewFromObject(b.Data)).
		SetModules(modules).
		SetDefaultRegoVersion(ast.RegoV1).
		RaiseBuiltinErrors(true)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("test policies in %s: %w: %w", dir, ErrInvalidPolicy, err)
	}

	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	sortResults(results)

	for _, r := range results {
		switch {
		case r.Skip:
		case r.Pass():
			passed++
		default:
			failed++
		}
		writeResult(w, dir, r)
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return passed, failed, nil
}

func sortResults(results []*tester.Result) {
	sort.Slice(results, func(i, j int) bool {
		a, b := results[i].Location, results[j].Location
		if a != nil && b != nil && (a.File != b.File || a.Row != b.Row) {
			if a.File != b.File {
				return a.File < b.File
			}
			return a.Row < b.Row
		}
		return results[i].Name < results[j].Name
	})
}

// writeResult writes one line such as
//
//	quotas_test.rego:37: data.podplug_test.test_pod_quota_reached: PASS (412µs)
//
// followed, for a test that did not pass, by its error and print output.
func writeResult(w io.Writer, dir string, r *tester.Result) {
	status := "PASS"
	switch {
	case r.Skip:
		status = "SKIP"
	case r.Error != nil:
		status = "ERROR"
	case r.Fail:
		status = "FAIL"
	}

	where := ""
	if r.Location != nil {
		file := r.Location.File
		if rel, err := filepath.Rel(dir, file); err == nil && !filepath.IsAbs(rel) && rel[0] != '.' {
			file = rel
		}
		where = fmt.Sprintf("%s:%d: ", file, r.Location.Row)
	}
	fmt.Fprintf(w, "%s%s.%s: %s (%v)\n", where, r.Package, r.Name, status, r.Duration)

	if r.Pass() || r.Skip {
		return
	}
	if r.Error != nil {
		fmt.Fprintf(w, "    %v\n", r.Error)
	}
	for _, line := range bytes.Split(bytes.TrimRight(r.Output, "\n"), []byte("\n")) {
		if len(line) > 0 {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
}
