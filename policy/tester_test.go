package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestShippedRegoTestsPass(t *testing.T) {
	var out bytes.Buffer
	passed, failed, err := Test(context.Background(), shippedDir, &out)

	if err != nil {
		t.Fatalf("Test: %v", err)
	}
	if failed != 0 {
		t.Errorf("failed = %d, want 0:\n%s", failed, out.String())
	}
	if passed < 50 {
		t.Errorf("passed = %d, want at least 50 (all shipped tests):\n%s", passed, out.String())
	}
	if got := strings.Count(out.String(), ": PASS ("); got != passed {
		t.Errorf("output has %d PASS lines, want %d", got, passed)
	}
	summary := fmt.Sprintf("%d passed, 0 failed\n", passed)
	if !strings.HasSuffix(out.String(), summary) {
		t.Errorf("output does not end with %q", summary)
	}
}

func TestRegoTestFailuresReported(t *testing.T) {
	tests := []struct {
		name       string
		dir        string
		wantPassed int
		wantFailed int
		wantLines  []string
	}{
		{
			name:       "false test",
			dir:        "testdata/failingtests",
			wantPassed: 1,
			wantFailed: 1,
			wantLines: []string{
				"policy_test.rego:5: data.podplug_test.test_admin_allowed: PASS",
				"policy_test.rego:10: data.podplug_test.test_user_allowed: FAIL",
			},
		},
		{
			name:       "erroring test",
			dir:        "testdata/erroringtests",
			wantFailed: 1,
			wantLines: []string{
				"policy_test.rego:5: data.podplug_test.test_ratio_divides_by_zero: ERROR",
				"div: divide by zero",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			passed, failed, err := Test(context.Background(), tt.dir, &out)

			if err != nil {
				t.Fatalf("Test: %v", err)
			}
			if passed != tt.wantPassed || failed != tt.wantFailed {
				t.Errorf("passed, failed = %d, %d, want %d, %d", passed, failed, tt.wantPassed, tt.wantFailed)
			}
			for _, line := range tt.wantLines {
				if !strings.Contains(out.String(), line) {
					t.Errorf("output lacks %q:\n%s", line, out.String())
				}
			}
		})
	}
}

func TestRegoTestCompileError(t *testing.T) {
	_, _, err := Test(context.Background(), "testdata/unsafe", &bytes.Buffer{})

	if !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("err = %v, want ErrInvalidPolicy", err)
	}
	if !strings.Contains(err.Error(), "policy.rego:7") {
		t.Errorf("err = %q, want it to name policy.rego:7", err)
	}
}

// TestShippedPoliciesCompose loads base.rego with every subset of the other
// shipped policies, as an operator may, and runs the tests of the loaded
// files: each subset must load and pass its own tests.
func TestShippedPoliciesCompose(t *testing.T) {
	optional := []string{"tenant_isolation", "no_privileged", "quotas", "image_allowlist"}

	for mask := range 1 << len(optional) {
		names := []string{"base.rego", "base_test.rego", "data.yaml"}
		var loaded []string
		for i, name := range optional {
			if mask&(1<<i) != 0 {
				names = append(names, name+".rego", name+"_test.rego")
				loaded = append(loaded, name)
			}
		}
		t.Run("base+"+strings.Join(loaded, "+"), func(t *testing.T) {
			dir := copyFiles(t, shippedDir, names...)
			loadEngine(t, Options{Dir: dir})

			var out bytes.Buffer
			_, failed, err := Test(context.Background(), dir, &out)
			if err != nil {
				t.Fatalf("Test: %v", err)
			}
			if failed != 0 {
				t.Errorf("failed = %d:\n%s", failed, out.String())
			}
		})
	}
}
