package engine

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/podplug/podplug/engine/model"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  syscall.Signal
	}{
		{name: "name without SIG", input: "TERM", want: syscall.SIGTERM},
		{name: "name with SIG", input: "SIGTERM", want: syscall.SIGTERM},
		{name: "lowercase with sig", input: "sigterm", want: syscall.SIGTERM},
		{name: "lowercase without sig", input: "kill", want: syscall.SIGKILL},
		{name: "mixed case", input: "SigHup", want: syscall.SIGHUP},
		{name: "alias name", input: "SIGIOT", want: syscall.SIGABRT},
		{name: "real-time name", input: "SIGRTMAX", want: syscall.Signal(64)},
		{name: "number", input: "9", want: syscall.SIGKILL},
		{name: "lowest number", input: "1", want: syscall.SIGHUP},
		{name: "highest number", input: "64", want: syscall.Signal(64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSignal(tt.input)
			if err != nil {
				t.Fatalf("ParseSignal(%q) returned error %q, expected %d", tt.input, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("ParseSignal(%q) = %d, expected %d", tt.input, got, tt.want)
			}
		})
	}
}

func TestParseSignalRejects(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{name: "empty", input: ""},
		{name: "blank", input: "  "},
		{name: "unknown name", input: "SIGFOO"},
		{name: "bare prefix", input: "SIG"},
		{name: "zero", input: "0"},
		{name: "above 64", input: "65"},
		{name: "negative number", input: "-9"},
		{name: "dash before name", input: "-KILL"},
		{name: "number with unit", input: "9s"},
		{name: "space inside", input: "SIG TERM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSignal(tt.input)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseSignal(%q) = %d, %v, expected an error wrapping %q",
					tt.input, got, err, ErrInvalid)
			}
			if got != 0 {
				t.Errorf("ParseSignal(%q) returned signal %d with its error, expected 0", tt.input, got)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  int64
	}{
		{name: "bytes", input: "512", want: 512},
		{name: "bytes with b", input: "512b", want: 512},
		{name: "kibibytes", input: "100k", want: 100 << 10},
		{name: "kibibytes with kb", input: "100kb", want: 100 << 10},
		{name: "kibibytes with KiB", input: "100KiB", want: 100 << 10},
		{name: "mebibytes", input: "64m", want: 64 << 20},
		{name: "uppercase unit", input: "64M", want: 64 << 20},
		{name: "gibibytes", input: "1g", want: 1 << 30},
		{name: "fractional gibibytes", input: "1.5GiB", want: 3 << 29},
		{name: "tebibytes", input: "2t", want: 2 << 40},
		{name: "surrounding spaces", input: " 64m ", want: 64 << 20},
		{name: "fraction rounds down", input: "1.5", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSize(tt.input)
			if err != nil {
				t.Fatalf("parseSize(%q) returned error %q, expected %d", tt.input, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("parseSize(%q) = %d, expected %d", tt.input, got, tt.want)
			}
		})
	}
}

func TestParseSizeRejects(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{name: "empty", input: ""},
		{name: "unit only", input: "m"},
		{name: "not a number", input: "lots"},
		{name: "unknown unit", input: "10x"},
		{name: "unit before number", input: "m64"},
		{name: "two units", input: "1mk"},
		{name: "zero", input: "0"},
		{name: "zero with unit", input: "0g"},
		{name: "negative", input: "-1m"},
		{name: "rounds to zero bytes", input: "0.5"},
		{name: "not a number value", input: "NaN"},
		{name: "infinity", input: "inf"},
		{name: "above int64", input: "1e19"},
		{name: "above int64 with unit", input: "9000000t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSize(tt.input)
			if err == nil {
				t.Errorf("parseSize(%q) = %d, expected an error", tt.input, got)
			}
		})
	}
}

func TestParseRestart(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  model.RestartPolicy
	}{
		{name: "empty means no", input: "", want: model.RestartPolicy{Name: model.RestartNo}},
		{name: "no", input: "no", want: model.RestartPolicy{Name: model.RestartNo}},
		{name: "always", input: "always", want: model.RestartPolicy{Name: model.RestartAlways}},
		{
			name:  "on-failure",
			input: "on-failure",
			want:  model.RestartPolicy{Name: model.RestartOnFailure},
		},
		{
			name:  "on-failure with count",
			input: "on-failure:3",
			want:  model.RestartPolicy{Name: model.RestartOnFailure, MaxRetries: 3},
		},
		{
			name:  "on-failure with zero count",
			input: "on-failure:0",
			want:  model.RestartPolicy{Name: model.RestartOnFailure},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRestart(tt.input)
			if err != nil {
				t.Fatalf("parseRestart(%q) returned error %q, expected %+v", tt.input, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("parseRestart(%q) = %+v, expected %+v", tt.input, got, tt.want)
			}
		})
	}
}

func TestParseRestartRejects(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{name: "always with count", input: "always:2"},
		{name: "no with count", input: "no:1"},
		{name: "empty name with count", input: ":1"},
		{name: "non-numeric count", input: "on-failure:x"},
		{name: "empty count", input: "on-failure:"},
		{name: "negative count", input: "on-failure:-1"},
		{name: "two counts", input: "on-failure:1:2"},
		{name: "unknown policy", input: "bogus"},
		{name: "uppercase policy", input: "Always"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRestart(tt.input)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parseRestart(%q) = %+v, %v, expected an error wrapping %q",
					tt.input, got, err, ErrInvalid)
			}
			if !strings.Contains(err.Error(), tt.input) {
				t.Errorf("error %q does not name the input %q", err, tt.input)
			}
		})
	}
}

func TestParseVolume(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  model.Mount
	}{
		{
			name:  "absolute host path",
			input: "/srv/data:/data",
			want:  model.Mount{Type: model.MountBind, Source: "/srv/data", Destination: "/data"},
		},
		{
			name:  "named volume",
			input: "pgdata:/var/lib/postgresql",
			want: model.Mount{
				Type: model.MountBind, Source: "pgdata", Destination: "/var/lib/postgresql",
			},
		},
		{
			name:  "read-only",
			input: "/srv/data:/data:ro",
			want: model.Mount{
				Type: model.MountBind, Source: "/srv/data", Destination: "/data", ReadOnly: true,
			},
		},
		{
			name:  "read-write",
			input: "cache:/cache:rw",
			want:  model.Mount{Type: model.MountBind, Source: "cache", Destination: "/cache"},
		},
		{
			name:  "container path cleaned",
			input: "/srv:/data/./logs/../",
			want:  model.Mount{Type: model.MountBind, Source: "/srv", Destination: "/data"},
		},
		{
			name:  "container root",
			input: "/srv:/",
			want:  model.Mount{Type: model.MountBind, Source: "/srv", Destination: "/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVolume(tt.input)
			if err != nil {
				t.Fatalf("parseVolume(%q) returned error %q, expected %+v", tt.input, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("parseVolume(%q) = %+v, expected %+v", tt.input, got, tt.want)
			}
		})
	}
}

func TestParseVolumeRejects(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{name: "empty", input: ""},
		{name: "host path only", input: "/srv/data"},
		{name: "empty host", input: ":/data"},
		{name: "empty container path", input: "/srv/data:"},
		{name: "unknown option", input: "/srv/data:/data:rx"},
		{name: "empty option", input: "/srv/data:/data:"},
		{name: "relative container path", input: "/srv/data:data"},
		{name: "too many colons", input: "/srv/data:/data:ro:z"},
		{name: "relative host path", input: "./data:/data"},
		{name: "parent host path", input: "../data:/data"},
		{name: "volume name with slash", input: "data/sub:/data"},
		{name: "volume name with space", input: "my data:/data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVolume(tt.input)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parseVolume(%q) = %+v, %v, expected an error wrapping %q",
					tt.input, got, err, ErrInvalid)
			}
			if !strings.Contains(err.Error(), tt.input) {
				t.Errorf("error %q does not name the input %q", err, tt.input)
			}
		})
	}
}

func FuzzParseVolume(f *testing.F) {
	for _, seed := range []string{
		"/srv/data:/data", "pgdata:/var/lib/postgresql", "/srv:/data:ro", "cache:/cache:rw",
		"/srv:/data/./logs/../", "/srv:/", "/srv/data", ":/data", "/srv:data", "/a:/b:ro:z",
		"./data:/data", "/srv:/data:rx", "/srv:..", "/srv:/..//x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		m, err := parseVolume(spec)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("parseVolume(%q) returned error %q, expected one wrapping %q",
					spec, err, ErrInvalid)
			}
			return
		}
		if !filepath.IsAbs(m.Destination) {
			t.Errorf("parseVolume(%q) accepted relative destination %q", spec, m.Destination)
		}
		if clean := filepath.Clean(m.Destination); m.Destination != clean {
			t.Errorf("parseVolume(%q) returned destination %q, expected the clean form %q",
				spec, m.Destination, clean)
		}
		if m.Type != model.MountBind {
			t.Errorf("parseVolume(%q) returned type %q, expected %q", spec, m.Type, model.MountBind)
		}
		if !filepath.IsAbs(m.Source) && !validName(m.Source) {
			t.Errorf("parseVolume(%q) accepted source %q, which is neither an absolute path "+
				"nor a volume name", spec, m.Source)
		}
	})
}
