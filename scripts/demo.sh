#!/bin/sh
# Run the example pod end to end with its own engine directories: install a
# plugin, play the pod's Kubernetes manifest, fetch its page through the
# published port, show it, then tear it down and stop the daemon.
set -eu
cd "$(dirname "$0")/.."
root=${DEMO_ROOT:-/var/lib/podplug-demo}
run=${DEMO_RUN_ROOT:-/run/podplug-demo}
PODPLUG="$PWD/bin/podplug --root $root --run-root $run"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
cleanup() {
    $PODPLUG kube down examples/pods/web.yaml >/dev/null 2>&1 || true
    $PODPLUG plugin rm stamp >/dev/null 2>&1 || true
    if [ -f "$run/daemon.pid" ]; then kill "$(cat "$run/daemon.pid")" 2>/dev/null || true; fi
    rm -rf "$work"
}
work=$(mktemp -d)
trap cleanup EXIT
cleanup
work=$(mktemp -d)

scripts/busybox-rootfs.sh "$work/busybox.tar"
step podplug image import busybox.tar localhost/busybox
$PODPLUG image import "$work/busybox.tar" localhost/busybox

step examples/plugins/build.sh OUT stamp
examples/plugins/build.sh "$work/plugins" stamp
step podplug plugin install stamp.wasm --manifest stamp.yaml
$PODPLUG plugin install "$work/plugins/stamp.wasm" --manifest "$work/plugins/stamp.yaml"
$PODPLUG plugin ls

step podplug kube play examples/pods/web.yaml
$PODPLUG kube play examples/pods/web.yaml
sleep 1

step podplug pod ps
$PODPLUG pod ps
step podplug ps -a --format '{{.Name}} {{.Status}}'
$PODPLUG ps -a --format '{{.Name}}\t{{.Status}}'
step podplug pod inspect web --format '...'
$PODPLUG pod inspect web --format '{{.Name}} {{.State}} network {{.Network}} {{.Address}} shares {{join .SharedNamespaces ","}}'

step "curl http://127.0.0.1:18080/   (from the host, through the published port)"
page=$(curl -sf --max-time 5 http://127.0.0.1:18080/)
echo "$page"
case "$page" in
*"hello from a podplug pod"*) ;;
*) echo "demo failed: the published port did not serve the page" >&2; exit 1 ;;
esac

step podplug pod logs web
$PODPLUG pod logs web
if ! $PODPLUG logs web-fetch | grep -q 'hello from a podplug pod'; then
    echo "demo failed: the sidecar did not get the page" >&2
    exit 1
fi

step "podplug exec web-httpd sh -c 'echo TEAM=\$TEAM'   (set by the stamp plugin)"
$PODPLUG exec web-httpd sh -c 'echo TEAM=$TEAM'

step podplug kube down examples/pods/web.yaml
$PODPLUG kube down examples/pods/web.yaml
echo
echo "demo finished: the init container wrote the page, httpd served it on the"
echo "published port, the sidecar fetched it, and the stamp plugin set TEAM"
