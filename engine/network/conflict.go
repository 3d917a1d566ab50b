package network

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// routeFile is the kernel's IPv4 routing table (main table only) of the
// calling thread's network namespace. /proc/net/route would show the
// namespace of the main thread, which a locked goroutine may have moved.
const routeFile = "/proc/thread-self/net/route"

// hostPrefix is an address or route of a host interface.
type hostPrefix struct {
	iface  string
	prefix netip.Prefix
	kind   string // "address" or "route"
}

// findSubnetConflict returns an ErrSubnetConflict error naming the first
// address or route of a host interface other than bridge that overlaps
// subnet, or nil.
func findSubnetConflict(subnet netip.Prefix, bridge string) error {
	prefixes, err := hostPrefixes()
	if err != nil {
		return fmt.Errorf("check subnet %s for conflicts: %w", subnet, err)
	}
	return subnetConflict(prefixes, subnet, bridge)
}

// subnetConflict is findSubnetConflict on a given list of prefixes.
// Default routes are ignored because they overlap every subnet.
func subnetConflict(prefixes []hostPrefix, subnet netip.Prefix, bridge string) error {
	for _, hp := range prefixes {
		if hp.iface == bridge || hp.prefix.Bits() == 0 || !hp.prefix.Overlaps(subnet) {
			continue
		}
		return fmt.Errorf("%w: subnet %s overlaps %s %s of interface %s; "+
			"configure another private subnet for the pod network",
			ErrSubnetConflict, subnet, hp.kind, hp.prefix, hp.iface)
	}
	return nil
}

// hostPrefixes lists the IPv4 addresses and routes of every host interface.
func hostPrefixes() ([]hostPrefix, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}

	var out []hostPrefix
	for _, iface := range ifaces {
		addrs, err := iface.Addrs()
		if err != nil {
			return nil, fmt.Errorf("list addresses of %s: %w", iface.Name, err)
		}
		for _, a := range addrs {
			ipnet, ok := a.(*net.IPNet)
			if !ok || ipnet.IP.To4() == nil {
				continue
			}
			p, err := netip.ParsePrefix(ipnet.String())
			if err != nil {
				continue
			}
			out = append(out, hostPrefix{iface.Name, p.Masked(), "address"})
		}
	}

	// Read the table of the thread's namespace, the same namespace that
	// net.Interfaces asked over netlink.
	runtime.LockOSThread()
	routes, err := readRoutes(routeFile)
	runtime.UnlockOSThread()
	if err != nil {
		return nil, err
	}
	return append(out, routes...), nil
}

// readRoutes parses /proc/net/route. Destination and mask are hexadecimal
// 32-bit numbers holding the address bytes in the host's byte order.
func readRoutes(path string) ([]hostPrefix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var out []hostPrefix
	sc := bufio.NewScanner(f)
	sc.Scan() // header line
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		dst, err1 := parseRouteAddr(fields[1])
		mask, err2 := parseRouteAddr(fields[7])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("parse %s: malformed line %q", path, sc.Text())
		}
		bits, _ := net.IPMask(mask.AsSlice()).Size()
		out = append(out, hostPrefix{fields[0], netip.PrefixFrom(dst, bits).Masked(), "route"})
	}
	return out, sc.Err()
}

func parseRouteAddr(s string) (netip.Addr, error) {
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return netip.Addr{}, err
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(n))
	return netip.AddrFrom4(b), nil
}
