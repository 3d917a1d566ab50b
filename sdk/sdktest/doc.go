// Package sdktest holds the SDK's integration tests: they build the example
// plugins in examples/plugins and a probe plugin in testdata with
// examples/plugins/build.sh, load them into the daemon's Wasm runtime
// (package plugins) and check their behaviour through Plugin.Call. The WAT
// example is skipped when wat2wasm (Debian package wabt) is not installed.
package sdktest
