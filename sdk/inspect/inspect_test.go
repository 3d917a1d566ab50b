package inspect

import (
	"errors"
	"testing"

	"github.com/podplug/podplug/sdk"
)

func TestInvoke(t *testing.T) {
	tests := []struct {
		name    string
		handler func(*sdk.Inspect) (any, error)
		want    string
	}{
		{
			name: "map data",
			handler: func(in *sdk.Inspect) (any, error) {
				return map[string]any{"kind": in.Kind, "exits": 3, "names": []string{"a"}}, nil
			},
			want: `{"status":"ok","data":{"exits":3,"kind":"container","names":["a"]}}`,
		},
		{
			name:    "no data",
			handler: func(*sdk.Inspect) (any, error) { return nil, nil },
			want:    `{"status":"ok"}`,
		},
		{
			name:    "error",
			handler: func(*sdk.Inspect) (any, error) { return nil, errors.New("store down") },
			want:    `{"status":"error","message":"store down"}`,
		},
		{
			name:    "unsupported data",
			handler: func(*sdk.Inspect) (any, error) { return struct{ A int }{1}, nil },
			want:    `{"status":"error","message":"encode inspect data: unsupported value"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler = nil
			Handle(tt.handler)
			t.Cleanup(func() { handler = nil })
			got := Invoke([]byte(`{"kind": "container", "container": {"name": "db"}}`))
			if string(got) != tt.want {
				t.Errorf("Invoke = %s, want %s", got, tt.want)
			}
		})
	}
}
