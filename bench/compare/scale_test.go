package main

import (
	"slices"
	"testing"
)

func TestParseFlagsScalePods(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantPods  []int
		wantScale bool
		wantErr   bool
	}{
		{name: "defaults", wantPods: []int{50, 500}, wantScale: true},
		{name: "scale alone", args: []string{"-scenarios", "scale", "-scale-pods", "10,20,30"},
			wantPods: []int{10, 20, 30}, wantScale: true},
		{name: "other scenarios only", args: []string{"-scenarios", "create,start5"},
			wantPods: []int{50, 500}},
		{name: "decreasing counts", args: []string{"-scale-pods", "500,50"}, wantErr: true},
		{name: "repeated count", args: []string{"-scale-pods", "50,50"}, wantErr: true},
		{name: "zero count", args: []string{"-scale-pods", "0,50"}, wantErr: true},
		{name: "no count", args: []string{"-scale-pods", ","}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseFlags(%q) = nil error, want an error", tt.args)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			}
			if !slices.Equal(cfg.scalePods, tt.wantPods) {
				t.Errorf("scalePods = %v, want %v", cfg.scalePods, tt.wantPods)
			}
			if cfg.scale != tt.wantScale {
				t.Errorf("scale = %v, want %v", cfg.scale, tt.wantScale)
			}
		})
	}
}

func TestSelectScenariosScaleOnly(t *testing.T) {
	got, err := selectScenarios([]string{"scale"}, []int{50})
	if err != nil {
		t.Fatalf("selectScenarios(scale): %v", err)
	}
	if len(got) != 0 {
		t.Errorf("selectScenarios(scale) returned %d side-by-side scenarios, want 0", len(got))
	}
}

func TestScaleGrowth(t *testing.T) {
	tests := []struct {
		name   string
		points []scalePoint
		want   float64
		wantOK bool
	}{
		{name: "flat per pod", points: []scalePoint{{pods: 50, ps: ms(10)}, {pods: 500, ps: ms(100)}},
			want: 1, wantOK: true},
		{name: "quadratic", points: []scalePoint{{pods: 50, ps: ms(10)}, {pods: 500, ps: ms(1000)}},
			want: 10, wantOK: true},
		{name: "one point", points: []scalePoint{{pods: 50, ps: ms(10)}}},
		{name: "no points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &scaleResult{points: tt.points}
			got, ok := res.growth()
			if ok != tt.wantOK {
				t.Fatalf("growth ok = %v, want %v", ok, tt.wantOK)
			}
			if got < tt.want-1e-9 || got > tt.want+1e-9 {
				t.Errorf("growth = %v, want %v", got, tt.want)
			}
		})
	}
}
