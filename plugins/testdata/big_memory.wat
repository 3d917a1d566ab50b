;; big_memory: declares a minimum of 600 pages, over the default limit of 512.
(module
  (memory (export "memory") 600)
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64) (i64.const 0))
)
