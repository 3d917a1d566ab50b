package main

import (
	"errors"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestSummarize(t *testing.T) {
	failure := errors.New("exit status 125")
	tests := []struct {
		name    string
		samples []sample
		want    summary
	}{
		{name: "odd count",
			samples: []sample{{elapsed: ms(30)}, {elapsed: ms(10)}, {elapsed: ms(20)}},
			want:    summary{ok: 3, median: ms(20), min: ms(10), max: ms(30)}},
		{name: "even count",
			samples: []sample{{elapsed: ms(40)}, {elapsed: ms(10)}, {elapsed: ms(20)}, {elapsed: ms(30)}},
			want:    summary{ok: 4, median: ms(25), min: ms(10), max: ms(40)}},
		{name: "failures left out",
			samples: []sample{{elapsed: ms(10)}, {elapsed: ms(999), err: failure}},
			want:    summary{ok: 1, failed: 1, median: ms(10), min: ms(10), max: ms(10)}},
		{name: "only failures", samples: []sample{{err: failure}},
			want: summary{failed: 1}},
		{name: "no samples", want: summary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.samples); got != tt.want {
				t.Errorf("summarize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name            string
		podplug, podman summary
		want            verdict
	}{
		{name: "under target",
			podplug: summary{ok: 1, median: ms(20)}, podman: summary{ok: 1, median: ms(100)},
			want: verdict{ratio: 0.2, known: true, met: true}},
		{name: "at target is not met",
			podplug: summary{ok: 1, median: ms(50)}, podman: summary{ok: 1, median: ms(100)},
			want: verdict{ratio: 0.5, known: true}},
		{name: "podman has no runs", podplug: summary{ok: 1, median: ms(50)}, podman: summary{failed: 3},
			want: verdict{}},
		{name: "podplug has no runs", podplug: summary{failed: 3}, podman: summary{ok: 1, median: ms(50)},
			want: verdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := judge(tt.podplug, tt.podman, 0.5); got != tt.want {
				t.Errorf("judge = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSelectScenarios(t *testing.T) {
	tests := []struct {
		name    string
		names   []string
		want    []string
		wantErr bool
	}{
		{name: "canonical order", names: []string{"stop5", "create"}, want: []string{"create", "stop5"}},
		{name: "ps per count", names: []string{"ps"}, want: []string{"ps50", "ps500"}},
		{name: "all", names: []string{"all"}, want: []string{"create", "start5", "stop5", "start1",
			"start20", "stop20", "stopdefault20", "restart5", "pause20", "ps50", "ps500", "inspect"}},
		{name: "unknown name", names: []string{"create", "bogus"}, wantErr: true},
		{name: "empty list", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectScenarios(tt.names, []int{50, 500})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("selectScenarios(%q) returned no error", tt.names)
				}
				return
			}
			if err != nil {
				t.Fatalf("selectScenarios(%q): %v", tt.names, err)
			}
			var keys []string
			for _, sc := range got {
				keys = append(keys, sc.key)
			}
			if len(keys) != len(tt.want) {
				t.Fatalf("selected %q, want %q", keys, tt.want)
			}
			for i := range keys {
				if keys[i] != tt.want[i] {
					t.Errorf("selected %q, want %q", keys, tt.want)
					break
				}
			}
		})
	}
}

func TestUnescapeMountPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: `/tmp/a\040b`, want: "/tmp/a b"},
		{in: `/tmp/plain`, want: "/tmp/plain"},
		{in: `/tmp/end\04`, want: `/tmp/end\04`},
	}
	for _, tt := range tests {
		if got := unescapeMountPath(tt.in); got != tt.want {
			t.Errorf("unescapeMountPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
