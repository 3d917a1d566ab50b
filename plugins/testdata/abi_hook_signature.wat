;; abi_hook_signature: podplug_pre_start returns i32, not i64.
(module
  (memory (export "memory") 1)
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i32) (i32.const 0))
)
