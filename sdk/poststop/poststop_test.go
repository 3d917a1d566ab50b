package poststop

import (
	"errors"
	"testing"

	"github.com/podplug/podplug/sdk"
)

func TestInvoke(t *testing.T) {
	tests := []struct {
		name    string
		handler func(*sdk.PostStop) error
		want    string
	}{
		{name: "ok", handler: func(*sdk.PostStop) error { return nil }, want: `{"status":"ok"}`},
		{
			name:    "error",
			handler: func(in *sdk.PostStop) error { return errors.New("exit " + in.Container.Name) },
			want:    `{"status":"error","message":"exit httpd"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler = nil
			Handle(tt.handler)
			t.Cleanup(func() { handler = nil })
			got := Invoke([]byte(`{"container": {"name": "httpd"}, "exit_code": 1}`))
			if string(got) != tt.want {
				t.Errorf("Invoke = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestInvokeWithoutHandler(t *testing.T) {
	handler = nil
	got := string(Invoke([]byte(`{}`)))
	want := `{"status":"error","message":"podplug_post_stop is exported but no handler is registered: call poststop.Handle from init"}`
	if got != want {
		t.Errorf("Invoke = %s, want %s", got, want)
	}
}
