;; denyall-wat: a podplug pre-start plugin written from sdk/ABI.md alone,
;; without the Go SDK. It denies a container whose image contains the
;; substring "forbidden" and allows the others.
;;
;; Build: wat2wasm denyall.wat -o denyall-wat.wasm (wabt 1.0.32 or later).
;;
;; The input is not parsed as JSON: the plugin looks for the key
;; "container": followed by an object, then for the first key "image":
;; after it, and reads that string up to its closing quote. That is the
;; container's image as long as no key "image" comes earlier inside the
;; container object, such as in its labels; podplug writes "image" before
;; the labels. Escapes in the image are not decoded, so an image written
;; as "forb\u0069dden" is allowed; image names hold no character that JSON
;; encoders escape. An input without that shape gets an error result.
;;
;; Memory layout: constants in page 0, the input buffer from 65536 (page 1)
;; to the end of memory, grown on demand; a deny result is built right
;; after the input.
(module
  (import "podplug" "log" (func $log (param i32 i32 i32)))

  (memory (export "memory") 2)

  (global $buffer i32 (i32.const 65536))
  ;; largest input accepted, 16 MiB; the host caps inputs at 1 MiB
  (global $max_input i32 (i32.const 16777216))

  (data (i32.const 256) "\"container\":")
  (data (i32.const 288) "\"image\":")
  (data (i32.const 320) "forbidden")
  (data (i32.const 352) "{\"status\":\"ok\"}")
  (data (i32.const 384)
    "{\"status\":\"error\",\"message\":\"denyall-wat: the input has no container image\"}")
  ;; the deny result is prefix, the image as written in the input (a JSON
  ;; string body, so it stays valid inside the message), then suffix
  (data (i32.const 512) "{\"status\":\"deny\",\"message\":\"image \\\"")
  (data (i32.const 576)
    "\\\" contains \\\"forbidden\\\": this host does not run such images\"}")
  (data (i32.const 704) "denied an image that contains \"forbidden\"")

  (func (export "podplug_abi_version") (result i32)
    (i32.const 1))

  ;; $ensure grows memory so that it spans [0, end) and returns 1, or 0 when
  ;; memory cannot grow.
  (func $ensure (param $end i32) (result i32)
    (local $have i32)
    (local.set $have (i32.shl (memory.size) (i32.const 16)))
    (if (i32.le_u (local.get $end) (local.get $have))
      (then (return (i32.const 1))))
    (i32.ne
      (memory.grow
        (i32.shr_u
          (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535))
          (i32.const 16)))
      (i32.const -1)))

  ;; podplug_buffer returns the input buffer, grown to at least size bytes,
  ;; or 0 for a size over $max_input or when memory cannot grow.
  (func (export "podplug_buffer") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (global.get $max_input))
      (then (return (i32.const 0))))
    (if (i32.eqz (call $ensure (i32.add (global.get $buffer) (local.get $size))))
      (then (return (i32.const 0))))
    (global.get $buffer))

  ;; $find returns the offset of the first occurrence of the pattern at
  ;; [pat, pat+pat_len) in [start, end), or -1.
  (func $find (param $start i32) (param $end i32) (param $pat i32) (param $pat_len i32)
      (result i32)
    (local $i i32)
    (local $j i32)
    (local.set $i (local.get $start))
    (block $not_found
      (loop $at
        (br_if $not_found
          (i32.gt_u (i32.add (local.get $i) (local.get $pat_len)) (local.get $end)))
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $compare
            (if (i32.eq (local.get $j) (local.get $pat_len))
              (then (return (local.get $i))))
            (br_if $mismatch
              (i32.ne
                (i32.load8_u (i32.add (local.get $i) (local.get $j)))
                (i32.load8_u (i32.add (local.get $pat) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $compare)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $at)))
    (i32.const -1))

  ;; $skip_space returns the offset of the first byte in [i, end) that is not
  ;; JSON white space, or end.
  (func $skip_space (param $i i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        ;; stop at a byte that is none of space, tab, newline, carriage return
        (br_if $done
          (i32.and
            (i32.and
              (i32.ne (local.get $c) (i32.const 32))
              (i32.ne (local.get $c) (i32.const 9)))
            (i32.and
              (i32.ne (local.get $c) (i32.const 10))
              (i32.ne (local.get $c) (i32.const 13)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))

  ;; $string_end returns the offset of the quote that closes the string body
  ;; starting at i, stepping over backslash escapes, or -1.
  (func $string_end (param $i i32) (param $end i32) (result i32)
    (local $c i32)
    (loop $next
      (if (i32.ge_u (local.get $i) (local.get $end))
        (then (return (i32.const -1))))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $c) (i32.const 34))
        (then (return (local.get $i))))
      (local.set $i
        (i32.add (local.get $i)
          (select (i32.const 2) (i32.const 1) (i32.eq (local.get $c) (i32.const 92)))))
      (br $next))
    (i32.const -1))

  ;; $result packs a result location as the ABI's (ptr << 32) | len.
  (func $result (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))

  (func $error_result (result i64)
    (call $result (i32.const 384) (i32.const 76)))

  ;; $image_start returns the offset of the container image's string body in
  ;; [start, end), or -1.
  (func $image_start (param $start i32) (param $end i32) (result i32)
    (local $p i32)
    (local.set $p (call $find (local.get $start) (local.get $end) (i32.const 256) (i32.const 12)))
    (if (i32.lt_s (local.get $p) (i32.const 0))
      (then (return (i32.const -1))))
    (local.set $p (call $skip_space (i32.add (local.get $p) (i32.const 12)) (local.get $end)))
    (if (i32.ge_u (local.get $p) (local.get $end))
      (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 123))
      (then (return (i32.const -1))))
    (local.set $p (call $find (local.get $p) (local.get $end) (i32.const 288) (i32.const 8)))
    (if (i32.lt_s (local.get $p) (i32.const 0))
      (then (return (i32.const -1))))
    (local.set $p (call $skip_space (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
    (if (i32.ge_u (local.get $p) (local.get $end))
      (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 34))
      (then (return (i32.const -1))))
    (i32.add (local.get $p) (i32.const 1)))

  (func (export "podplug_pre_start") (param $len i32) (result i64)
    (local $end i32)
    (local $image i32)
    (local $image_end i32)
    (local $out i32)
    (local $image_len i32)
    (local $out_len i32)
    ;; the input must lie inside memory, since it was written to our buffer
    (if (i32.gt_u (local.get $len) (global.get $max_input))
      (then (return (call $error_result))))
    (local.set $end (i32.add (global.get $buffer) (local.get $len)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then (return (call $error_result))))

    (local.set $image (call $image_start (global.get $buffer) (local.get $end)))
    (if (i32.lt_s (local.get $image) (i32.const 0))
      (then (return (call $error_result))))
    (local.set $image_end (call $string_end (local.get $image) (local.get $end)))
    (if (i32.lt_s (local.get $image_end) (i32.const 0))
      (then (return (call $error_result))))
    (if (i32.lt_s
          (call $find (local.get $image) (local.get $image_end) (i32.const 320) (i32.const 9))
          (i32.const 0))
      (then (return (call $result (i32.const 352) (i32.const 15)))))

    ;; deny: prefix, image, suffix, written after the input
    (local.set $out (local.get $end))
    (local.set $image_len (i32.sub (local.get $image_end) (local.get $image)))
    (local.set $out_len (i32.add (i32.add (i32.const 36) (local.get $image_len)) (i32.const 63)))
    (if (i32.eqz (call $ensure (i32.add (local.get $out) (local.get $out_len))))
      (then (return (call $error_result))))
    (memory.copy (local.get $out) (i32.const 512) (i32.const 36))
    (memory.copy
      (i32.add (local.get $out) (i32.const 36)) (local.get $image) (local.get $image_len))
    (memory.copy
      (i32.add (i32.add (local.get $out) (i32.const 36)) (local.get $image_len))
      (i32.const 576) (i32.const 63))
    (call $log (i32.const 1) (i32.const 704) (i32.const 41))
    (call $result (local.get $out) (local.get $out_len)))
)
