// Package sdk is what a Go author imports to write a podplug hook plugin: a
// WebAssembly module, built for wasip1, that the daemon calls before a
// container starts, after it stops, on inspect and when the plugin's config
// is installed. ABI.md in this directory is the contract the SDK
// implements; a plugin in another language follows it directly.
//
// # Writing a plugin
//
// A plugin is a main package whose init function registers one handler per
// hook, each with the Handle function of that hook's package:
//
//	package main
//
//	import (
//		"github.com/podplug/podplug/sdk"
//		"github.com/podplug/podplug/sdk/prestart"
//	)
//
//	func init() {
//		prestart.Handle(func(in *sdk.PreStart) sdk.PreStartResult {
//			if in.Container.Image == "" {
//				return sdk.Deny("container " + in.Container.Name + " has no image")
//			}
//			return sdk.Allow().SetLabel("checked-by", in.Plugin.Name)
//		})
//	}
//
//	func main() {}
//
// Build it as a WASI reactor; main never runs, init does:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// The hook packages are prestart, poststop, inspect and validateconfig.
// Handlers get the decoded input (PreStart, PostStop, Inspect, or the
// Config for validateconfig), including the plugin's Config from its
// manifest. They may call Log and the key-value functions KVGet, KVSet and
// KVDelete, whose store the daemon keeps per plugin name.
//
// # Why is each hook a package of its own?
//
// The daemon calls a hook only if the module exports it: a missing export
// means "not subscribed", so a plugin that exported every hook would be
// called for all of them. A Go export (//go:wasmexport) is part of the
// module whenever its package is linked, whether or not anything calls it,
// so the SDK cannot choose exports at run time. Each hook's export
// therefore lives in its own package, and a plugin gets exactly the exports
// of the hook packages it imports.
//
// The handler is registered with the hook package's Handle rather than with
// a function of this package plus a blank import. That way both mistakes of
// the two-step form fail the build: without the import, Handle is
// undefined, and an import without a Handle call is an unused import. A
// blank import still links the export, and such a plugin returns an error
// result for every call of that hook, saying no handler is registered.
//
// # Encoding
//
// Inputs and results are JSON. The SDK decodes and encodes them with its
// own tokenizer and appending encoder, without reflection. Decoding a
// 690-byte pre_start input into structs with encoding/json took about 5
// times as long in the guest, and made the module 1.2 MB bigger (Go 1.26.8
// guest on wazero 1.12, 2 vCPUs). Unknown input fields are skipped, as ABI
// version 1 requires, and a null field reads as its zero value. The handlers' results are checked
// before they are sent (see PreStartResult.Validate), and a handler panic
// is recovered and sent as an error result with the panic's message.
//
// # Testing on the host
//
// Outside a wasip1 build, Log writes to standard error and the key-value
// functions use an in-memory map, and each hook package's Invoke runs the
// registered handler on a JSON input as the daemon would. So a plugin's
// logic can be tested with go test on the host. The sdktest package runs
// the example plugins in the daemon's real Wasm runtime.
package sdk
