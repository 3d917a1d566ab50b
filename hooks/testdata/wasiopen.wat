;; wasiopen: pre-start tries path_open("etc/passwd") on fd 3, the first
;; preopened directory if there were one. It returns ok when the open
;; succeeds and status error when it fails, as it does in podplug's
;; sandbox, which preopens nothing.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"status\":\"ok\"}")
  (data (i32.const 32)
    "{\"status\":\"error\",\"message\":\"wasiopen: path_open of etc/passwd failed\"}")
  (data (i32.const 128) "etc/passwd")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64)
    ;; fd 3, no lookup flags, the path, no open flags, rights fd_read, no
    ;; inheriting rights, no fd flags, the new fd written at 512
    (if (result i64)
      (i32.eqz
        (call $path_open (i32.const 3) (i32.const 0) (i32.const 128) (i32.const 10)
          (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 512)))
      (then (i64.const 15)) ;; pointer 0, length 15
      (else (i64.or (i64.shl (i64.const 32) (i64.const 32)) (i64.const 71)))))
)
