;; abi_unknown_import: imports env.now, which the host does not provide.
(module
  (import "env" "now" (func (result i64)))
  (memory (export "memory") 1)
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64) (i64.const 0))
)
