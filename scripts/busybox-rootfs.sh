#!/bin/sh
# Write a root file system tarball holding Debian's static busybox, a link
# per applet, and /etc/passwd and /etc/group with root and nobody.
# Usage: busybox-rootfs.sh OUTPUT.tar
set -eu
out=$1
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "static busybox not found at $busybox: apt-get install busybox-static" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/www" "$dir/root"
chmod 1777 "$dir/tmp"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
tar -C "$dir" -cf "$out" .
