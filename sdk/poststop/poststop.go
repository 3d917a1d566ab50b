// Package poststop subscribes a plugin to the post_stop hook, which runs
// once per container exit, after the exit is recorded. Importing it links
// the podplug_post_stop export into the module; a plugin that does not
// import it is not called for post_stop.
package poststop

import (
	"github.com/podplug/podplug/sdk"
	"github.com/podplug/podplug/sdk/internal/abi"
)

const hook = "post_stop"

var handler func(*sdk.PostStop) error

// Handle registers fn as the plugin's post_stop handler. Call it once, from
// an init function, since a reactor module never runs main. A non-nil
// error from fn is sent as a result with status error. Handle panics when
// fn is nil or a handler is already registered.
func Handle(fn func(in *sdk.PostStop) error) {
	if fn == nil {
		panic("poststop.Handle: nil handler")
	}
	if handler != nil {
		panic("poststop.Handle: handler already registered")
	}
	handler = fn
}

// Invoke runs the registered handler on a post_stop input as the host
// would, and returns the result the host would read. It is meant for tests
// on the host and is not safe for concurrent use.
func Invoke(input []byte) []byte {
	return abi.Invoke(hook, input, handle)
}

func handle(input, out []byte) []byte {
	if handler == nil {
		return abi.ErrorResult(out, "podplug_post_stop is exported but no handler is registered: "+
			"call poststop.Handle from init")
	}
	var in sdk.PostStop
	if err := in.UnmarshalJSON(input); err != nil {
		return abi.ErrorResult(out, err.Error())
	}
	if err := handler(&in); err != nil {
		return abi.ErrorResult(out, err.Error())
	}
	return abi.OKResult(out)
}
