;; counter: post-stop adds one to the key "count" of its key-value store, a
;; 4-byte little-endian integer, absent meaning 0, and returns ok. When the
;; input contains "trap", as a config {"trap": true} makes it, post-stop
;; traps after its kv_set, so a test sees whether a failed call's writes
;; are kept.
(module
  (import "podplug" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i32)))
  (import "podplug" "kv_set" (func $kv_set (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"status\":\"ok\"}")
  (data (i32.const 16) "count")
  (data (i32.const 32) "\"trap\"")

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

  ;; $contains reports whether [p, p+n) contains the m bytes at needle.
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

  (func (export "podplug_post_stop") (param $len i32) (result i64)
    ;; the count is read to and written from offset 64
    (if (i32.ne (call $kv_get (i32.const 16) (i32.const 5) (i32.const 64) (i32.const 4))
          (i32.const 4))
      (then (i32.store (i32.const 64) (i32.const 0))))
    (i32.store (i32.const 64) (i32.add (i32.load (i32.const 64)) (i32.const 1)))
    (if (i32.ne (call $kv_set (i32.const 16) (i32.const 5) (i32.const 64) (i32.const 4))
          (i32.const 0))
      (then (unreachable)))
    (if (call $contains (i32.const 1024) (local.get $len) (i32.const 32) (i32.const 6))
      (then (unreachable)))
    (i64.const 15)) ;; pointer 0, length 15
)
