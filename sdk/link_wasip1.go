//go:build wasip1

package sdk

// The blank import links podplug_abi_version and podplug_buffer into every
// plugin that imports the SDK, hook packages or not.
import _ "github.com/podplug/podplug/sdk/internal/abi"
