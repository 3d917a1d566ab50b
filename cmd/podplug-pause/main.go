// Command podplug-pause is the process of a pod's infra container. It holds
// the pod's shared namespaces open, reaps orphaned processes when the pod
// shares its PID namespace (it is PID 1 there), and exits on SIGTERM, SIGINT
// or SIGHUP so a pod stop does not have to wait for a timeout.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		os.Exit(0)
	}
}

func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
