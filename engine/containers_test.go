package engine

import (
	"errors"
	"slices"
	"testing"

	"github.com/podplug/podplug/engine/model"
)

func TestApplyImageDefaultsCommand(t *testing.T) {
	image := model.ImageConfig{Entrypoint: []string{"/entry", "--flag"}, Cmd: []string{"serve"}}
	tests := []struct {
		name string
		spec ContainerSpec
		cfg  model.ImageConfig
		want []string
	}{
		{name: "image entrypoint and cmd", cfg: image, want: []string{"/entry", "--flag", "serve"}},
		{name: "command replaces cmd", cfg: image, spec: ContainerSpec{Command: []string{"check"}},
			want: []string{"/entry", "--flag", "check"}},
		{name: "entrypoint drops cmd", cfg: image, spec: ContainerSpec{Entrypoint: []string{"sh"}},
			want: []string{"sh"}},
		{name: "entrypoint and command", cfg: image,
			spec: ContainerSpec{Entrypoint: []string{"sh"}, Command: []string{"-c", "true"}},
			want: []string{"sh", "-c", "true"}},
		{name: "empty entrypoint keeps the image's", cfg: image, spec: ContainerSpec{Entrypoint: []string{}},
			want: []string{"/entry", "--flag", "serve"}},
		{name: "image without entrypoint", cfg: model.ImageConfig{Cmd: []string{"sh"}},
			spec: ContainerSpec{Command: []string{"ls"}}, want: []string{"ls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &model.Container{Name: "c"}
			if err := applyImageDefaults(c, tt.cfg, tt.spec); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Command, tt.want) {
				t.Errorf("command = %q, expected %q", c.Command, tt.want)
			}
		})
	}
}

func TestApplySecurity(t *testing.T) {
	c := &model.Container{Name: "c"}
	spec := ContainerSpec{Privileged: true, ReadOnlyRootfs: true,
		CapAdd: []string{"net_admin", "CAP_SYS_TIME"}, CapDrop: []string{"mknod"}}
	if err := applySecurity(c, spec); err != nil {
		t.Fatal(err)
	}
	if !c.Privileged || !c.ReadOnlyRootfs {
		t.Errorf("privileged %v, read-only %v, expected both set", c.Privileged, c.ReadOnlyRootfs)
	}
	if want := []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}; !slices.Equal(c.CapAdd, want) {
		t.Errorf("cap add = %q, expected %q", c.CapAdd, want)
	}
	if want := []string{"CAP_MKNOD"}; !slices.Equal(c.CapDrop, want) {
		t.Errorf("cap drop = %q, expected %q", c.CapDrop, want)
	}

	for _, bad := range []ContainerSpec{
		{CapAdd: []string{"FLY"}},
		{CapDrop: []string{"CAP_NOPE"}},
		{CapAdd: []string{"CHOWN"}, CapDrop: []string{"CHOWN"}},
	} {
		err := applySecurity(&model.Container{Name: "c"}, bad)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("applySecurity(add %v, drop %v) = %v, expected an error wrapping %q",
				bad.CapAdd, bad.CapDrop, err, ErrInvalid)
		}
	}
}
