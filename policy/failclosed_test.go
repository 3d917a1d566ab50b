package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecideFailsClosed(t *testing.T) {
	start := Input{Operation: OpPodStart, Subject: alice(), Target: pod("web", "blue")}

	tests := []struct {
		name        string
		dir         string
		input       Input
		timeout     time.Duration
		wantCode    string
		wantMessage string // a substring of the reason's message
	}{
		{
			name:        "allow undefined",
			dir:         "testdata/undefined",
			input:       start,
			wantCode:    CodeUndefined,
			wantMessage: "data.podplug.allow is undefined",
		},
		{
			name:        "allow not boolean",
			dir:         "testdata/wrongtype",
			input:       start,
			wantCode:    CodeTypeError,
			wantMessage: `data.podplug.allow is "yes", want a boolean`,
		},
		{
			name:        "deny entry not object",
			dir:         "testdata/denywrongtype",
			input:       start,
			wantCode:    CodeTypeError,
			wantMessage: `data.podplug.deny contains "no code or message"`,
		},
		{
			name:        "conflicting values",
			dir:         "testdata/conflict",
			input:       start,
			wantCode:    CodeError,
			wantMessage: "eval_conflict_error",
		},
		{
			name: "division by zero",
			dir:  "testdata/divzero",
			input: Input{Operation: OpPodCreate, Subject: alice(),
				Context: &Usage{TenantPods: 1, TenantContainers: 0}},
			wantCode:    CodeError,
			wantMessage: "policy.rego:9",
		},
		{
			name:        "timeout",
			dir:         "testdata/slow",
			input:       start,
			timeout:     20 * time.Millisecond,
			wantCode:    CodeTimeout,
			wantMessage: "policy evaluation timed out after",
		},
		{
			name:        "allow false without reason",
			dir:         "testdata/allowonly",
			input:       start,
			wantCode:    CodeNotAllowed,
			wantMessage: "allow is false and no policy gave a reason",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := loadEngine(t, Options{Dir: tt.dir, Timeout: tt.timeout})

			begin := time.Now()
			d := e.Decide(context.Background(), tt.input)
			elapsed := time.Since(begin)

			if d.Allowed {
				t.Fatalf("Allowed = true, want false")
			}
			if len(d.Reasons) != 1 {
				t.Fatalf("reasons = %v, want one", d.Reasons)
			}
			if d.Reasons[0].Code != tt.wantCode {
				t.Errorf("code = %q, want %q", d.Reasons[0].Code, tt.wantCode)
			}
			if !strings.Contains(d.Reasons[0].Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", d.Reasons[0].Message, tt.wantMessage)
			}
			if tt.timeout > 0 && elapsed > tt.timeout+time.Second {
				t.Errorf("Decide took %v with a %v timeout", elapsed, tt.timeout)
			}
		})
	}
}

func TestDecideCancelledContext(t *testing.T) {
	e := loadEngine(t, Options{Dir: "testdata/slow", Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)

	d := e.Decide(ctx, Input{Operation: OpPodStart, Subject: alice()})

	if d.Allowed {
		t.Fatal("Allowed = true, want false")
	}
	want := Reason{CodeError, "policy evaluation cancelled: context canceled"}
	if len(d.Reasons) != 1 || d.Reasons[0] != want {
		t.Errorf("reasons = %v, want [%v]", d.Reasons, want)
	}
}

func TestVisibleFailsClosed(t *testing.T) {
	tests := []struct {
		name     string
		dir      string
		wantCode string
	}{
		{name: "visible undefined", dir: "testdata/allowonly", wantCode: CodeUndefined},
		{name: "visible not boolean", dir: "testdata/visiblestring", wantCode: CodeTypeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := loadEngine(t, Options{Dir: tt.dir})
			targets := []Target{*pod("a", "blue"), *pod("b", "blue")}

			visible, err := e.Visible(context.Background(),
				Input{Operation: OpPodList, Subject: alice()}, targets)

			for i, v := range visible {
				if v {
					t.Errorf("visible[%d] = true, want false", i)
				}
			}
			if !errors.Is(err, ErrEvaluation) {
				t.Fatalf("err = %v, want ErrEvaluation", err)
			}
			if !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantCode)
			}
		})
	}
}

func TestVisibleTimeoutHidesItem(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "policy.rego", `package podplug

visible if {
	count([1 |
		some i in numbers.range(1, 5000)
		some j in numbers.range(1, 5000)
	]) > 0
}
`)
	e := loadEngine(t, Options{Dir: dir, Timeout: 10 * time.Millisecond})

	visible, err := e.Visible(context.Background(),
		Input{Operation: OpPodList, Subject: alice()}, []Target{*pod("a", "blue")})

	if visible[0] {
		t.Error("visible[0] = true, want false")
	}
	if err == nil || !strings.Contains(err.Error(), CodeTimeout) {
		t.Errorf("err = %v, want a %s error", err, CodeTimeout)
	}
}
