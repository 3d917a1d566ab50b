;; loop: pre-start never returns; inspect returns ok.
(module
  (memory (export "memory") 1)
  (data (i32.const 128) "{\"status\":\"ok\"}")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func $ok (result i64) (i64.or (i64.shl (i64.const 128) (i64.const 32)) (i64.const 15)))
  (func (export "podplug_pre_start") (param i32) (result i64)
    (loop $forever (br $forever))
    (unreachable))
  (func (export "podplug_inspect") (param i32) (result i64) (call $ok))
)
