;; abi_missing_version: no podplug_abi_version export.
(module
  (memory (export "memory") 1)
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64) (i64.const 0))
)
