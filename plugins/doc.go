// Package plugins runs podplug's WebAssembly hook plugins on wazero.
//
// It parses manifests and compiles each module once per sha256, through a
// compilation cache that survives restarts. Hook calls run on pooled or
// per-call instances in a sandbox with no file system or network, and with
// a fake clock and fixed-seed randomness unless the operator grants the real
// ones. The package provides the podplug host functions (log, kv_get,
// kv_set, kv_delete) and reports every failure with its FailureType.
//
// The contract with plugins is sdk/ABI.md, version 1.
package plugins
