package prestart

import (
	"testing"

	"github.com/podplug/podplug/sdk"
)

// withHandler registers fn for one test and removes it afterwards.
func withHandler(t *testing.T, fn func(*sdk.PreStart) sdk.PreStartResult) {
	t.Helper()
	handler = nil
	Handle(fn)
	t.Cleanup(func() { handler = nil })
}

func TestInvoke(t *testing.T) {
	tests := []struct {
		name    string
		handler func(*sdk.PreStart) sdk.PreStartResult
		input   string
		want    string
	}{
		{
			name: "allow with change",
			handler: func(in *sdk.PreStart) sdk.PreStartResult {
				return sdk.Allow().SetLabel("image", in.Container.Image)
			},
			input: `{"container": {"image": "localhost/busybox"}}`,
			want:  `{"status":"ok","changes":{"labels":{"image":"localhost/busybox"}}}`,
		},
		{
			name:    "deny",
			handler: func(*sdk.PreStart) sdk.PreStartResult { return sdk.Deny("no") },
			input:   `{}`,
			want:    `{"status":"deny","message":"no"}`,
		},
		{
			name:    "invalid input",
			handler: func(*sdk.PreStart) sdk.PreStartResult { return sdk.Allow() },
			input:   `{"container": 1}`,
			want:    `{"status":"error","message":"decode pre_start input: json: expected object, found '1' at offset 14"}`,
		},
		{
			name:    "invalid result",
			handler: func(*sdk.PreStart) sdk.PreStartResult { return sdk.Allow().SetEnv("", "x") },
			input:   `{}`,
			want:    `{"status":"error","message":"invalid env change: name \"\" is empty or contains '=' or NUL"}`,
		},
		{
			name:    "panic",
			handler: func(*sdk.PreStart) sdk.PreStartResult { panic("boom") },
			input:   `{}`,
			want:    `{"status":"error","message":"pre_start handler panicked: boom"}`,
		},
		{
			name: "runtime error",
			handler: func(in *sdk.PreStart) sdk.PreStartResult {
				return sdk.Allow().SetEnv("FIRST", in.Container.Env[0])
			},
			input: `{}`,
			want:  `{"status":"error","message":"pre_start handler panicked: runtime error: index out of range [0] with length 0"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withHandler(t, tt.handler)
			if got := Invoke([]byte(tt.input)); string(got) != tt.want {
				t.Errorf("Invoke =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestInvokeWithoutHandler(t *testing.T) {
	handler = nil
	got := string(Invoke([]byte(`{}`)))
	want := `{"status":"error","message":"podplug_pre_start is exported but no handler is registered: call prestart.Handle from init"}`
	if got != want {
		t.Errorf("Invoke = %s, want %s", got, want)
	}
}

func TestHandleTwicePanics(t *testing.T) {
	withHandler(t, func(*sdk.PreStart) sdk.PreStartResult { return sdk.Allow() })
	defer func() {
		if recover() == nil {
			t.Error("second Handle did not panic")
		}
	}()
	Handle(func(*sdk.PreStart) sdk.PreStartResult { return sdk.Allow() })
}

func TestInvokeResultIsACopy(t *testing.T) {
	withHandler(t, func(in *sdk.PreStart) sdk.PreStartResult { return sdk.Deny(in.Container.Name) })
	first := Invoke([]byte(`{"container": {"name": "a"}}`))
	Invoke([]byte(`{"container": {"name": "b"}}`))
	if string(first) != `{"status":"deny","message":"a"}` {
		t.Errorf("first result changed to %s after a second call", first)
	}
}
