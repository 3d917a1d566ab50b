//go:build wasip1

package validateconfig

import "github.com/podplug/podplug/sdk/internal/abi"

//go:wasmexport podplug_validate_config
func export(n int32) int64 { return abi.Export(hook, n, handle) }
