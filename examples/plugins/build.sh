#!/bin/bash
# Build the example plugins: for each directory here with a manifest.yaml,
# write OUTDIR/NAME.wasm and OUTDIR/NAME.yaml, the manifest with the
# module's sha256 filled in. Go plugins are built as WASI reactors; a
# directory with a .wat file is built with wat2wasm (Debian package wabt).
#
# Usage: examples/plugins/build.sh OUTDIR [NAME...]
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 OUTDIR [NAME...]" >&2
	exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
shift

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for dir in "$here"/*/; do
		[ -f "$dir/manifest.yaml" ] && names+=("$(basename "$dir")")
	done
fi

build_one() {
	local name="$1" dir="$here/$1"
	local wat
	wat="$(find "$dir" -maxdepth 1 -name '*.wat' | head -n 1)"
	if [ -n "$wat" ]; then
		if ! command -v wat2wasm >/dev/null; then
			echo "build $name: wat2wasm not found: install wabt (apt-get install wabt)" >&2
			return 1
		fi
		wat2wasm "$wat" -o "$out/$name.wasm"
	else
		# -trimpath keeps the sha256 independent of where the tree is.
		(cd "$dir" && GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath \
			-o "$out/$name.wasm" .)
	fi
	local sum
	sum="$(sha256sum "$out/$name.wasm" | cut -d' ' -f1)"
	sed "s/^sha256:.*/sha256: \"$sum\"/" "$dir/manifest.yaml" >"$out/$name.yaml"
	echo "$out/$name.wasm $(stat -c %s "$out/$name.wasm") bytes sha256 $sum"
}

for name in "${names[@]}"; do
	build_one "$name"
done
