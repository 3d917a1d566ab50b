;; garbage: pre-start returns 16 bytes that are not JSON.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "this is not JSON")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64)
    (i64.const 16)) ;; pointer 0, length 16
)
