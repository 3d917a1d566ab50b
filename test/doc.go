// Package test holds podplug's end-to-end tests: a real daemon started by
// the CLI, real runc containers under conmon, real Badger. They need root,
// runc, conmon and a static busybox (Debian's busybox-static); elsewhere they
// skip with a message saying what is missing. CI runs them as root.
package test
