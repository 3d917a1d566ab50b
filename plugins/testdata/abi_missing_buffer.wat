;; abi_missing_buffer: no podplug_buffer export.
(module
  (memory (export "memory") 1)
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_pre_start") (param i32) (result i64) (i64.const 0))
)
