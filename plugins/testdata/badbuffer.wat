;; badbuffer: podplug_buffer returns 0 (cannot allocate) for inputs over
;; 100 bytes and a pointer outside memory otherwise.
(module
  (memory (export "memory") 1)
  (data (i32.const 128) "{\"status\":\"ok\"}")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param $size i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $size) (i32.const 100))
      (then (i32.const 0))
      (else (i32.const 0xFFFFFFF0))))
  (func (export "podplug_pre_start") (param i32) (result i64)
    (i64.or (i64.shl (i64.const 128) (i64.const 32)) (i64.const 15)))
)
