;; oversized: pre-start returns a result of 2 MiB, inside its memory of
;; 40 pages but over the host's cap of 1 MiB on any result.
(module
  (memory (export "memory") 40)
  (data (i32.const 0) "{\"status\":\"ok\"}")
  (func (export "podplug_abi_version") (result i32) (i32.const 1))
  (func (export "podplug_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "podplug_pre_start") (param i32) (result i64)
    (i64.const 2097152)) ;; pointer 0, length 2 MiB
)
