// Package inspect subscribes a plugin to the inspect hook, which adds the
// plugin's data to `podplug inspect` output of a pod or a container, under
// Plugins.<plugin name>. Importing it links the podplug_inspect export into
// the module; a plugin that does not import it is not called for inspect.
package inspect

import (
	"github.com/podplug/podplug/sdk"
	"github.com/podplug/podplug/sdk/internal/abi"
	"github.com/podplug/podplug/sdk/internal/jsonx"
)

const hook = "inspect"

var handler func(*sdk.Inspect) (any, error)

// Handle registers fn as the plugin's inspect handler. Call it once, from
// an init function, since a reactor module never runs main.
//
// The data fn returns is encoded without reflection. It must be built from
// nil, bool, string, the integer and float types, []any, map[string]any, a
// few typed slices and maps such as map[string]int and []string, or a type
// with a MarshalJSON method. Any other type makes the result an error
// naming the problem. A nil data sends no data. A non-nil error is sent as
// a result with status error. Handle panics when fn is nil or a handler is
// already registered.
func Handle(fn func(in *sdk.Inspect) (data any, err error)) {
	if fn == nil {
		panic("inspect.Handle: nil handler")
	}
	if handler != nil {
		panic("inspect.Handle: handler already registered")
	}
	handler = fn
}

// Invoke runs the registered handler on an inspect input as the host would,
// and returns the result the host would read. It is meant for tests on the
// host and is not safe for concurrent use.
func Invoke(input []byte) []byte {
	return abi.Invoke(hook, input, handle)
}

func handle(input, out []byte) []byte {
	if handler == nil {
		return abi.ErrorResult(out, "podplug_inspect is exported but no handler is registered: "+
			"call inspect.Handle from init")
	}
	var in sdk.Inspect
	if err := in.UnmarshalJSON(input); err != nil {
		return abi.ErrorResult(out, err.Error())
	}
	data, err := handler(&in)
	if err != nil {
		return abi.ErrorResult(out, err.Error())
	}
	e := jsonx.NewEncoder(out)
	e.ObjectStart()
	e.Key("status")
	e.String("ok")
	if data != nil {
		e.Key("data")
		e.Value(data)
	}
	e.ObjectEnd()
	if err := e.Err(); err != nil {
		return abi.ErrorResult(out, "encode inspect data: "+err.Error())
	}
	return e.Bytes()
}
