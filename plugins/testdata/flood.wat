;; flood: pre-start calls log 10000 times and returns ok; post-stop calls
;; log with a pointer outside memory; inspect logs a 5000-byte message.
(module
  (import "podplug" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 128) "{\"status\":\"ok\"}")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func $ok (result i64) (i64.or (i64.shl (i64.const 128) (i64.const 32)) (i64.const 15)))
  (data (i32.const 256) "hello flood")
  (func (export "podplug_pre_start") (param i32) (result i64)
    (local $i i32)
    (loop $more
      (call $log (i32.const 1) (i32.const 256) (i32.const 11))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 10000))))
    (call $ok))
  (func (export "podplug_post_stop") (param i32) (result i64)
    (call $log (i32.const 1) (i32.const 0xFFFFFF00) (i32.const 16))
    (call $ok))
  (func (export "podplug_inspect") (param i32) (result i64)
    (call $log (i32.const 2) (i32.const 256) (i32.const 5000))
    (call $ok))
)
