;; trap: pre-start logs "pre-start ran" and reaches unreachable; post-stop
;; loads from an address outside memory; inspect returns ok.
(module
  (import "podplug" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 128) "{\"status\":\"ok\"}")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func $ok (result i64) (i64.or (i64.shl (i64.const 128) (i64.const 32)) (i64.const 15)))
  (data (i32.const 256) "pre-start ran")
  (func (export "podplug_pre_start") (param i32) (result i64)
    (call $log (i32.const 1) (i32.const 256) (i32.const 13))
    (unreachable))
  (func (export "podplug_post_stop") (param i32) (result i64)
    (drop (i32.load (i32.const 0xFFFFFFF0)))
    (call $ok))
  (func (export "podplug_inspect") (param i32) (result i64) (call $ok))
)
