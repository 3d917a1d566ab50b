//go:build wasip1

package inspect

import "github.com/podplug/podplug/sdk/internal/abi"

//go:wasmexport podplug_inspect
func export(n int32) int64 { return abi.Export(hook, n, handle) }
