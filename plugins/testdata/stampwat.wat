;; stampwat: a pre-start plugin that ignores its input and returns a fixed
;; result with env and label changes, the WAT counterpart of the stamp
;; example for benchmarks.
(module
  (memory (export "memory") 1)
  (data (i32.const 0)
    "{\"status\":\"ok\",\"changes\":{\"env\":{\"TEAM\":\"blue\"},\"labels\":{\"stamped-by\":\"stamp\"}}}")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  ;; The buffer starts at 1024; memory grows to fit the input.
  (func (export "podplug_buffer") (param $size i32) (result i32)
    (local $pages i32)
    (local.set $pages
      (i32.shr_u
        (i32.add (i32.add (local.get $size) (i32.const 1024)) (i32.const 65535))
        (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64)
    (i64.const 81)) ;; pointer 0, length 81
)
