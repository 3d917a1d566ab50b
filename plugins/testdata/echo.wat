;; echo: a well-behaved plugin. pre-start and post-stop return their input
;; as the result, so a test chooses the result by choosing the input.
;; inspect returns {"status":"ok","data":N}, N being this instance's inspect
;; calls modulo 10. validate_config denies a config containing "reject".
(module
  (memory (export "memory") 1)
  (global $inspects (mut i32) (i32.const 0))
  (data (i32.const 0) "{\"status\":\"ok\",\"data\":0}")
  (data (i32.const 64) "{\"status\":\"deny\",\"message\":\"config rejected\"}")
  (data (i32.const 128) "{\"status\":\"ok\"}")
  (data (i32.const 160) "reject")

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

  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))

  (func (export "podplug_pre_start") (param $len i32) (result i64)
    (call $pack (i32.const 1024) (local.get $len)))

  (func (export "podplug_post_stop") (param $len i32) (result i64)
    (call $pack (i32.const 1024) (local.get $len)))

  (func (export "podplug_inspect") (param $len i32) (result i64)
    (global.set $inspects (i32.add (global.get $inspects) (i32.const 1)))
    (i32.store8 (i32.const 22)
      (i32.add (i32.const 48) (i32.rem_u (global.get $inspects) (i32.const 10))))
    (call $pack (i32.const 0) (i32.const 24)))

  (func (export "podplug_validate_config") (param $len i32) (result i64)
    (if (result i64) (call $contains (i32.const 1024) (local.get $len) (i32.const 160) (i32.const 6))
      (then (call $pack (i32.const 64) (i32.const 45)))
      (else (call $pack (i32.const 128) (i32.const 15)))))

  ;; contains reports whether [p, p+n) contains the m bytes at needle.
  (func $contains (param $p i32) (param $n i32) (param $needle i32) (param $m i32) (result i32)
    (local $i i32) (local $j i32)
    (if (i32.lt_u (local.get $n) (local.get $m)) (then (return (i32.const 0))))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (local.get $i) (i32.sub (local.get $n) (local.get $m))))
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $inner
            (if (i32.eq (local.get $j) (local.get $m)) (then (return (i32.const 1))))
            (br_if $mismatch
              (i32.ne
                (i32.load8_u (i32.add (local.get $p) (i32.add (local.get $i) (local.get $j))))
                (i32.load8_u (i32.add (local.get $needle) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $inner)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (i32.const 0))
)
