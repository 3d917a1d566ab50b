#!/bin/sh
# Install what podplug needs at run time and in its tests: runc, conmon, the
# CNI plugins and iptables for bridge networking, a static busybox for test
# images and wabt for WAT plugins. Installs only what is missing.
set -eu
missing=""
command -v runc >/dev/null 2>&1 || missing="$missing runc"
command -v conmon >/dev/null 2>&1 || missing="$missing conmon"
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || missing="$missing busybox-static"
[ -x /usr/lib/cni/bridge ] || missing="$missing containernetworking-plugins"
command -v iptables >/dev/null 2>&1 || missing="$missing iptables"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v wat2wasm >/dev/null 2>&1 || missing="$missing wabt"
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "podplug needs:$missing; run as root to install them" >&2
        exit 1
    fi
    echo "installing:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
