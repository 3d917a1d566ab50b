package kube

import "testing"

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two", "EMPTY": ""}
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{name: "no reference", input: "plain", want: "plain"},
		{name: "reference", input: "$(A)", want: "1"},
		{name: "references in text", input: "a=$(A), b=$(B).", want: "a=1, b=two."},
		{name: "empty value", input: "[$(EMPTY)]", want: "[]"},
		{name: "unknown name stays", input: "$(C)", want: "$(C)"},
		{name: "escaped reference", input: "$$(A)", want: "$(A)"},
		{name: "escaped dollar", input: "$$", want: "$"},
		{name: "shell variable", input: "$HOME", want: "$HOME"},
		{name: "trailing dollar", input: "cost$", want: "cost$"},
		{name: "unclosed reference", input: "$(A", want: "$(A"},
		{name: "dollars before reference", input: "$$$(A)", want: "$1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			equal(t, "expand("+tt.input+")", expand(tt.input, vars), tt.want)
		})
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	vars := map[string]string{"A": "1"}
	for _, s := range []string{"", "plain", "$(A)", "$$", "$", "a$", "$$(A)", "$(", "$$$", "$HOME $(A) $$"} {
		if got := expand(escape(s), vars); got != s {
			t.Errorf("expand(escape(%q)) = %q (escaped %q), expected the input", s, got, escape(s))
		}
	}
	equal(t, "escape without dollars", escape("echo hi"), "echo hi")
	equal(t, "escape of shell variable", escape("$HOME"), "$HOME")
}
