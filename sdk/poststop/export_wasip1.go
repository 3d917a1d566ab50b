//go:build wasip1

package poststop

import "github.com/podplug/podplug/sdk/internal/abi"

//go:wasmexport podplug_post_stop
func export(n int32) int64 { return abi.Export(hook, n, handle) }
