package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)```")

// TestDocExamplesDecode keeps docs/policy.md honest: every input example
// decodes into Input without unknown fields, and every operation has one.
func TestDocExamplesDecode(t *testing.T) {
	doc, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, examples, found := strings.Cut(string(doc), "## Examples per operation")
	if !found {
		t.Fatal("docs/policy.md has no section Examples per operation")
	}

	e := loadEngine(t, Options{Dir: shippedDir})
	covered := map[string]bool{}
	for _, m := range jsonBlock.FindAllStringSubmatch(examples, -1) {
		decoder := json.NewDecoder(bytes.NewReader([]byte(m[1])))
		decoder.DisallowUnknownFields()
		var in Input
		if err := decoder.Decode(&in); err != nil {
			t.Errorf("example does not decode: %v\n%s", err, m[1])
			continue
		}
		covered[in.Operation] = true

		// The shipped policies must decide every example, whichever way,
		// without falling back to an engine code.
		if in.Subject.User == "" {
			in.Subject = alice()
		}
		for _, r := range e.Decide(context.Background(), in).Reasons {
			if strings.HasPrefix(r.Code, "policy_") {
				t.Errorf("%s example: %s: %s", in.Operation, r.Code, r.Message)
			}
		}
	}
	for _, op := range Operations() {
		if !covered[op] {
			t.Errorf("operation %s has no example", op)
		}
	}
}
