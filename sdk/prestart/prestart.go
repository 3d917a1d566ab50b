// Package prestart subscribes a plugin to the pre_start hook, which runs
// before each container starts and may deny the start or change the
// container. Importing it links the podplug_pre_start export into the
// module; a plugin that does not import it is not called for pre_start.
package prestart

import (
	"github.com/podplug/podplug/sdk"
	"github.com/podplug/podplug/sdk/internal/abi"
)

const hook = "pre_start"

var handler func(*sdk.PreStart) sdk.PreStartResult

// Handle registers fn as the plugin's pre_start handler. Call it once, from
// an init function, since a reactor module never runs main. It panics when
// fn is nil or a handler is already registered, which fails the plugin's
// load instead of leaving one handler silently unused.
func Handle(fn func(in *sdk.PreStart) sdk.PreStartResult) {
	if fn == nil {
		panic("prestart.Handle: nil handler")
	}
	if handler != nil {
		panic("prestart.Handle: handler already registered")
	}
	handler = fn
}

// Invoke runs the registered handler on a pre_start input as the host
// would, and returns the result the host would read. It is meant for tests
// on the host and is not safe for concurrent use.
func Invoke(input []byte) []byte {
	return abi.Invoke(hook, input, handle)
}

// handle decodes the input, runs the handler and appends its result to out.
// An undecodable input and an invalid result become error results.
func handle(input, out []byte) []byte {
	if handler == nil {
		return abi.ErrorResult(out, "podplug_pre_start is exported but no handler is registered: "+
			"call prestart.Handle from init")
	}
	var in sdk.PreStart
	if err := in.UnmarshalJSON(input); err != nil {
		return abi.ErrorResult(out, err.Error())
	}
	result, err := handler(&in).AppendJSON(out)
	if err != nil {
		return abi.ErrorResult(out, err.Error())
	}
	return result
}
