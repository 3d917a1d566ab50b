;; abi_import_signature: imports podplug.log with the wrong type.
(module
  (import "podplug" "log" (func (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64) (i64.const 0))
)
