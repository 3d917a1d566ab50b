// Package validateconfig subscribes a plugin to the validate_config hook,
// which the daemon calls when the plugin is installed or enabled, so that a
// bad config is rejected then rather than on the first container start.
// Importing it links the podplug_validate_config export into the module.
package validateconfig

import (
	"github.com/podplug/podplug/sdk"
	"github.com/podplug/podplug/sdk/internal/abi"
	"github.com/podplug/podplug/sdk/internal/jsonx"
)

const hook = "validate_config"

var handler func(sdk.Config) error

// Handle registers fn as the plugin's config validator. Call it once, from
// an init function, since a reactor module never runs main. A non-nil error
// from fn rejects the config: it is sent as status deny, and its message
// reaches the operator. Handle panics when fn is nil or a handler is
// already registered.
func Handle(fn func(cfg sdk.Config) error) {
	if fn == nil {
		panic("validateconfig.Handle: nil handler")
	}
	if handler != nil {
		panic("validateconfig.Handle: handler already registered")
	}
	handler = fn
}

// Invoke runs the registered handler on a validate_config input as the
// host would, and returns the result the host would read. It is meant for
// tests on the host and is not safe for concurrent use.
func Invoke(input []byte) []byte {
	return abi.Invoke(hook, input, handle)
}

func handle(input, out []byte) []byte {
	if handler == nil {
		return abi.ErrorResult(out, "podplug_validate_config is exported but no handler is "+
			"registered: call validateconfig.Handle from init")
	}
	var in sdk.ValidateConfig
	if err := in.UnmarshalJSON(input); err != nil {
		return abi.ErrorResult(out, err.Error())
	}
	if err := handler(in.Plugin.Config); err != nil {
		e := jsonx.NewEncoder(out)
		e.ObjectStart()
		e.Key("status")
		e.String("deny")
		e.Key("message")
		e.String(err.Error())
		e.ObjectEnd()
		return e.Bytes()
	}
	return abi.OKResult(out)
}
