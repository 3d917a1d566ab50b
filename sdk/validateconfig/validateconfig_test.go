package validateconfig

import (
	"testing"

	"github.com/podplug/podplug/sdk"
)

func TestInvoke(t *testing.T) {
	handler = nil
	Handle(func(cfg sdk.Config) error {
		_, err := cfg.StringMap("env")
		return err
	})
	t.Cleanup(func() { handler = nil })

	tests := []struct {
		name   string
		config string
		want   string
	}{
		{name: "valid", config: `{"env": {"A": "1"}}`, want: `{"status":"ok"}`},
		{name: "empty", config: `{}`, want: `{"status":"ok"}`},
		{
			name:   "invalid",
			config: `{"env": {"A": 1}}`,
			want:   `{"status":"deny","message":"config key \"env.A\" is a number, want string"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := `{"hook": "validate_config", "plugin": {"name": "stamp", "config": ` + tt.config + `}}`
			if got := Invoke([]byte(input)); string(got) != tt.want {
				t.Errorf("Invoke = %s, want %s", got, tt.want)
			}
		})
	}
}
