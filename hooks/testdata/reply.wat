;; reply: a plugin whose result comes from its config. Each hook finds the
;; first "reply": in its input and returns the JSON object after it as the
;; result. The host writes the plugin's config before the pod and the
;; container, and writes it compact, so that object is the config's reply.
;; When the input contains "spin", the hook loops forever instead. When it
;; has no reply object, the hook returns status error.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\"reply\":")
  (data (i32.const 16) "\"spin\"")
  (data (i32.const 32)
    "{\"status\":\"error\",\"message\":\"reply: the config has no reply object\"}")

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

  (func $error (result i64) (call $pack (i32.const 32) (i32.const 68)))

  ;; $find returns the offset of the first occurrence of [pat, pat+n) in
  ;; [start, end), or -1.
  (func $find (param $start i32) (param $end i32) (param $pat i32) (param $n i32) (result i32)
    (local $i i32) (local $j i32)
    (local.set $i (local.get $start))
    (block $not_found
      (loop $at
        (br_if $not_found (i32.gt_u (i32.add (local.get $i) (local.get $n)) (local.get $end)))
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $compare
            (if (i32.eq (local.get $j) (local.get $n)) (then (return (local.get $i))))
            (br_if $mismatch
              (i32.ne
                (i32.load8_u (i32.add (local.get $i) (local.get $j)))
                (i32.load8_u (i32.add (local.get $pat) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $compare)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $at)))
    (i32.const -1))

  ;; $object_end returns the offset just past the '}' that closes the
  ;; object starting at i, stepping over strings and their escapes, or -1.
  (func $object_end (param $i i32) (param $end i32) (result i32)
    (local $c i32) (local $depth i32) (local $in_string i32)
    (loop $next
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (local.get $in_string)
        (then
          (if (i32.eq (local.get $c) (i32.const 92))
            (then (local.set $i (i32.add (local.get $i) (i32.const 1))))
            (else
              (if (i32.eq (local.get $c) (i32.const 34))
                (then (local.set $in_string (i32.const 0)))))))
        (else
          (if (i32.eq (local.get $c) (i32.const 34))
            (then (local.set $in_string (i32.const 1))))
          (if (i32.eq (local.get $c) (i32.const 123))
            (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
          (if (i32.eq (local.get $c) (i32.const 125))
            (then
              (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
              (if (i32.eqz (local.get $depth))
                (then (return (i32.add (local.get $i) (i32.const 1)))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))
    (i32.const -1))

  (func $respond (param $len i32) (result i64)
    (local $end i32) (local $p i32) (local $q i32)
    (local.set $end (i32.add (i32.const 1024) (local.get $len)))
    (if (i32.ge_s (call $find (i32.const 1024) (local.get $end) (i32.const 16) (i32.const 6))
          (i32.const 0))
      (then (loop $forever (br $forever))))
    (local.set $p (call $find (i32.const 1024) (local.get $end) (i32.const 0) (i32.const 8)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (call $error))))
    (local.set $p (i32.add (local.get $p) (i32.const 8)))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (call $error))))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 123)) (then (return (call $error))))
    (local.set $q (call $object_end (local.get $p) (local.get $end)))
    (if (i32.lt_s (local.get $q) (i32.const 0)) (then (return (call $error))))
    (call $pack (local.get $p) (i32.sub (local.get $q) (local.get $p))))

  (func (export "podplug_pre_start") (param $len i32) (result i64)
    (call $respond (local.get $len)))
  (func (export "podplug_post_stop") (param $len i32) (result i64)
    (call $respond (local.get $len)))
  (func (export "podplug_inspect") (param $len i32) (result i64)
    (call $respond (local.get $len)))
)
