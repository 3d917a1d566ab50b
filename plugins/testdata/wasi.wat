;; wasi: probes the sandbox. t_open tries path_open("etc/passwd") on fd 3
;; and returns the errno; t_prestat returns fd_prestat_get(3)'s errno;
;; t_clock returns clock_time_get(id) in nanoseconds; t_random returns 8
;; bytes from random_get. inspect returns ok.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 128) "{\"status\":\"ok\"}")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func $ok (result i64) (i64.or (i64.shl (i64.const 128) (i64.const 32)) (i64.const 15)))
  (data (i32.const 256) "etc/passwd")
  (func (export "podplug_inspect") (param i32) (result i64) (call $ok))
  (func (export "t_open") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 256) (i32.const 10)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 512)))
  (func (export "t_prestat") (result i32)
    (call $fd_prestat_get (i32.const 3) (i32.const 512)))
  (func (export "t_clock") (param $id i32) (result i64)
    (drop (call $clock_time_get (local.get $id) (i64.const 1) (i32.const 512)))
    (i64.load (i32.const 512)))
  (func (export "t_random") (result i64)
    (drop (call $random_get (i32.const 512) (i32.const 8)))
    (i64.load (i32.const 512)))
)
