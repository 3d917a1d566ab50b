package image

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "short name", in: "busybox", want: "localhost/busybox:latest"},
		{name: "short name with tag", in: "busybox:1.36", want: "localhost/busybox:1.36"},
		{name: "two components", in: "team/app", want: "localhost/team/app:latest"},
		{name: "localhost kept", in: "localhost/app:v1", want: "localhost/app:v1"},
		{name: "registry host", in: "quay.io/org/app", want: "quay.io/org/app:latest"},
		{name: "registry with port", in: "reg:5000/app", want: "reg:5000/app:latest"},
		{name: "localhost with port", in: "localhost:5000/app", want: "localhost:5000/app:latest"},
		{name: "docker hub library", in: "docker.io/alpine", want: "docker.io/library/alpine:latest"},
		{name: "docker hub user", in: "docker.io/user/app:2", want: "docker.io/user/app:2"},
		{name: "digest without tag", in: "busybox@" + digest, want: "localhost/busybox@" + digest},
		{name: "tag and digest", in: "quay.io/a:1@" + digest, want: "quay.io/a:1@" + digest},
		{name: "separators", in: "a.b_c__d-e--f", want: "localhost/a.b_c__d-e--f:latest"},
		{name: "uppercase registry host", in: "Quay.IO/app", want: "Quay.IO/app:latest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeName(tt.in)
			if err != nil {
				t.Fatalf("NormalizeName(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeNameInvalid(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		reason string
	}{
		{name: "empty", in: "", reason: "empty"},
		{name: "space", in: "busy box", reason: "whitespace"},
		{name: "tab", in: "busybox\t", reason: "whitespace"},
		{name: "uppercase repository", in: "BusyBox", reason: "lowercase"},
		{name: "uppercase after host", in: "quay.io/Org/app", reason: "lowercase"},
		{name: "empty tag", in: "busybox:", reason: "invalid tag"},
		{name: "bad tag", in: "busybox:-x", reason: "invalid tag"},
		{name: "long tag", in: "busybox:" + strings.Repeat("t", 129), reason: "invalid tag"},
		{name: "bad digest", in: "busybox@sha256:xyz", reason: "invalid digest"},
		{name: "empty component", in: "a//b", reason: "invalid repository component"},
		{name: "trailing slash", in: "quay.io/", reason: "repository is empty"},
		{name: "leading separator", in: "-app", reason: "invalid repository component"},
		{name: "bad host", in: "-bad.io/app", reason: "invalid registry host"},
		{name: "too long", in: strings.Repeat("a", 250), reason: "maximum is 255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeName(tt.in)
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("NormalizeName(%q) = %q, %v, want ErrInvalidName", tt.in, got, err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
				t.Errorf("error %q does not name %q", err, tt.in)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

func ExampleNormalizeName() {
	for _, name := range []string{"busybox", "quay.io/org/app:v2", "docker.io/alpine"} {
		normalized, err := NormalizeName(name)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(normalized)
	}
	_, err := NormalizeName("Busybox")
	fmt.Println(err)
	// Output:
	// localhost/busybox:latest
	// quay.io/org/app:v2
	// docker.io/library/alpine:latest
	// invalid image name "Busybox": repository must be lowercase
}
