#!/bin/sh
# A pod with an init container, a web server and a sidecar that needs it.
#
#   init   writes the site into the named volume "site" once, then is removed
#   web    busybox httpd serves the volume on the pod's loopback, port 8080
#   fetch  requires web, so it starts after it, and fetches the page
#
# Run it with PODPLUG set to the podplug command (default: podplug) and the
# image localhost/busybox present (see scripts/busybox-rootfs.sh).
set -eu
PODPLUG=${PODPLUG:-podplug}

$PODPLUG pod create --name web --label app=demo --hostname web.demo
$PODPLUG create --pod web --name init --init-ctr once -v site:/www localhost/busybox \
    sh -c 'echo "<h1>hello from a podplug pod</h1>" > /www/index.html; echo wrote the site'
$PODPLUG create --pod web --name httpd -v site:/www:ro --stop-timeout 2 localhost/busybox \
    httpd -f -v -p 127.0.0.1:8080 -h /www
$PODPLUG create --pod web --name fetch --requires httpd --stop-signal KILL localhost/busybox \
    sh -c 'for i in 1 2 3 4 5; do wget -q -O - http://127.0.0.1:8080/ && break; sleep 0.2; done; sleep 3600'
