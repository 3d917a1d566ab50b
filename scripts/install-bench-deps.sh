#!/bin/sh
# Install what `make bench` needs besides podplug's own dependencies: podman,
# the engine the side-by-side benchmark compares against. Installs only what
# is missing.
set -eu
command -v podman >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "the benchmark needs podman; run as root to install it" >&2
    exit 1
fi
echo "installing: podman"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman
