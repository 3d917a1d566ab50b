// Package network connects pods to a host bridge through the CNI reference
// plugins (bridge, host-local, portmap, firewall), driven by libcni.
//
// A Manager owns one CNI network: it writes the network configuration list
// to Config.ConfDir, and Setup and Teardown run the CNI ADD and DEL
// commands for one pod's network namespace. The pod gets a veth pair whose
// host end is attached to the bridge (podplug0 by default) and an IPv4
// address from the bridge subnet (10.89.0.0/24 by default). Its default
// route goes through the bridge address, traffic that leaves the subnet is
// masqueraded, and destination NAT rules forward its published ports.
//
// libcni caches every ADD result under Config.CacheDir. Teardown reads that
// cache, so it releases the address and removes the NAT rules of a pod even
// after the pod's network namespace is gone; Attachments lists the cached
// pods so a restarted daemon can tear down the ones that no longer run.
//
// Everything here needs root (CAP_NET_ADMIN, and iptables for NAT). The
// plugins are the binaries of Debian's containernetworking-plugins package
// (version 1.1.1, CNI spec up to 1.0.0), and the configuration is written
// for CNI spec 1.0.0.
//
// Host state the plugins change beyond each pod's own rules: the bridge
// plugin sets net.ipv4.ip_forward to 1 and route_localnet on the bridge,
// and portmap and firewall create shared iptables chains (CNI-HOSTPORT-*,
// CNI-FORWARD, CNI-ADMIN) with jumps from the built-in chains. Teardown of
// the last pod leaves the bridge, the sysctls and the shared chains in
// place, as podman does, because other pods or CNI users may rely on them.
//
// Limitation: the network is IPv4 only.
package network
