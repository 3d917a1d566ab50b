//go:build wasip1

package prestart

import "github.com/podplug/podplug/sdk/internal/abi"

//go:wasmexport podplug_pre_start
func export(n int32) int64 { return abi.Export(hook, n, handle) }
