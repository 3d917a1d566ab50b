#!/bin/sh
# Rebuild the test modules from their WAT sources with wabt's wat2wasm.
# Run from the hooks directory (go generate does).
set -eu
for wat in testdata/*.wat; do
	wat2wasm "$wat" -o "${wat%.wat}.wasm"
done
