;; abi_missing_memory: the memory is not exported.
(module
  (memory 1)
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64) (i64.const 0))
)
