#!/bin/sh
# Run the example pod end to end with its own engine directories, show it,
# then stop and remove it and stop the daemon.
set -eu
cd "$(dirname "$0")/.."
root=${DEMO_ROOT:-/var/lib/podplug-demo}
run=${DEMO_RUN_ROOT:-/run/podplug-demo}
export PODPLUG="$PWD/bin/podplug --root $root --run-root $run"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
cleanup() {
    $PODPLUG pod rm --force --time 0 web >/dev/null 2>&1 || true
    if [ -f "$run/daemon.pid" ]; then kill "$(cat "$run/daemon.pid")" 2>/dev/null || true; fi
}
trap cleanup EXIT
cleanup

tar=$(mktemp --suffix=.tar)
scripts/busybox-rootfs.sh "$tar"
step podplug image import busybox.tar localhost/busybox
$PODPLUG image import "$tar" localhost/busybox
rm -f "$tar"

step examples/pods/web.sh
examples/pods/web.sh

step podplug pod start web
$PODPLUG pod start web
sleep 1

step podplug pod ps
$PODPLUG pod ps
step podplug ps -a --format '{{.Name}} {{.Status}}'
$PODPLUG ps -a --format '{{.Name}}\t{{.Status}}'
step podplug pod inspect web --format '{{.Name}} {{.State}} shares {{join .SharedNamespaces ","}}'
$PODPLUG pod inspect web --format '{{.Name}} {{.State}} shares {{join .SharedNamespaces ","}}'
step podplug pod logs web
$PODPLUG pod logs web
if ! $PODPLUG logs fetch | grep -q 'hello from a podplug pod'; then
    echo "demo failed: the sidecar did not get the page" >&2
    exit 1
fi

step podplug pod stop web
$PODPLUG pod stop web
step podplug pod rm web
$PODPLUG pod rm web
echo
echo "demo finished: the sidecar fetched the page the init container wrote"
