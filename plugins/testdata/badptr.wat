;; badptr: results that point outside memory or are empty. pre-start
;; returns pointer 0xFFFF0000; post-stop returns 100 bytes starting 6 bytes
;; before the end of memory; inspect returns length 0.
(module
  (memory (export "memory") 1)
  (data (i32.const 128) "{\"status\":\"ok\"}")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func $ok (result i64) (i64.or (i64.shl (i64.const 128) (i64.const 32)) (i64.const 15)))
  (func (export "podplug_pre_start") (param i32) (result i64)
    (i64.or (i64.shl (i64.const 0xFFFF0000) (i64.const 32)) (i64.const 16)))
  (func (export "podplug_post_stop") (param i32) (result i64)
    (i64.or (i64.shl (i64.const 65530) (i64.const 32)) (i64.const 100)))
  (func (export "podplug_inspect") (param i32) (result i64)
    (i64.shl (i64.const 1024) (i64.const 32)))
)
