package network

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// PortMapping publishes a port of a pod on the host. The portmap plugin
// adds destination NAT rules, so no process listens on the host port.
type PortMapping struct {
	// HostIP is the host address the mapping applies to. Empty means every
	// host address, loopback included.
	HostIP string
	// HostPort is the port on the host. Zero in a mapping passed to Setup
	// means that Setup picks a free port and reports it in Result.Ports.
	HostPort uint16
	// ContainerPort is the port the pod listens on.
	ContainerPort uint16
	// Protocol is "tcp" or "udp".
	Protocol string
}

// String formats m in the syntax ParsePublish accepts: IP:HOST:CTR/PROTO.
func (m PortMapping) String() string {
	host := ""
	if m.HostPort != 0 {
		host = strconv.Itoa(int(m.HostPort))
	}
	return fmt.Sprintf("%s:%s:%d/%s", m.HostIP, host, m.ContainerPort, m.protocol())
}

func (m PortMapping) protocol() string {
	if m.Protocol == "" {
		return "tcp"
	}
	return m.Protocol
}

// ParsePublish parses a publish spec as podman's --publish flag writes it:
// "CTR", "HOST:CTR" or "IP:HOST:CTR", each optionally followed by "/tcp" or
// "/udp" (tcp when omitted). With an empty or missing HOST, as in "8080" or
// "127.0.0.1::8080", Setup picks a random free host port. IP 0.0.0.0 is
// the same as no IP: every host address.
//
// Port ranges, IPv6 host addresses and protocols other than tcp and udp are
// rejected with ErrInvalidPublish, as is any malformed part.
func ParsePublish(s string) (PortMapping, error) {
	m, err := parsePublish(s)
	if err != nil {
		return PortMapping{}, fmt.Errorf("%w %q: %v", ErrInvalidPublish, s, err)
	}
	return m, nil
}

func parsePublish(s string) (PortMapping, error) {
	var m PortMapping

	addr, proto, hasProto := strings.Cut(s, "/")
	m.Protocol = "tcp"
	if hasProto {
		m.Protocol = strings.ToLower(proto)
	}
	if err := checkProtocol(m.Protocol); err != nil {
		return m, err
	}

	if strings.ContainsAny(addr, "[]") || strings.Count(addr, ":") > 2 {
		return m, fmt.Errorf("IPv6 host addresses are not supported " +
			"because the pod network is IPv4 only; use an IPv4 address")
	}
	if strings.Contains(addr, "-") {
		return m, fmt.Errorf("port ranges are not supported; publish each port separately")
	}

	parts := strings.Split(addr, ":")
	ctr, err := parsePort(parts[len(parts)-1], "container")
	if err != nil {
		return m, err
	}
	m.ContainerPort = ctr

	if len(parts) >= 2 && parts[len(parts)-2] != "" {
		host, err := parsePort(parts[len(parts)-2], "host")
		if err != nil {
			return m, err
		}
		m.HostPort = host
	}

	if len(parts) == 3 {
		ip, err := parseHostIP(parts[0])
		if err != nil {
			return m, err
		}
		m.HostIP = ip
	}
	return m, nil
}

func checkProtocol(p string) error {
	switch p {
	case "tcp", "udp":
		return nil
	}
	return fmt.Errorf("protocol %q is not supported; use tcp or udp", p)
}

func parsePort(s, which string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("missing %s port", which)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s port %q is not a number from 1 to 65535", which, s)
	}
	return uint16(n), nil
}

// parseHostIP returns the canonical form of an IPv4 host address, or "" for
// an empty string and for 0.0.0.0.
func parseHostIP(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("host IP %q is not an IP address", s)
	}
	ip = ip.Unmap()
	if !ip.Is4() {
		return "", fmt.Errorf("host IP %q is not IPv4; the pod network is IPv4 only", s)
	}
	if ip.IsUnspecified() {
		return "", nil
	}
	return ip.String(), nil
}

// normalizePorts validates mappings given to Setup as Go values, which need
// not come from ParsePublish. It returns a copy with the protocol filled in
// and HostIP 0.0.0.0 written as "", and rejects two mappings of one host
// port.
func normalizePorts(ports []PortMapping) ([]PortMapping, error) {
	out := make([]PortMapping, 0, len(ports))
	seen := make(map[string]PortMapping, len(ports))
	for _, p := range ports {
		if err := checkPort(p); err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrInvalidPublish, p, err)
		}
		if p.HostIP == "0.0.0.0" {
			p.HostIP = ""
		}
		p.Protocol = p.protocol()
		out = append(out, p)

		if p.HostPort == 0 {
			continue
		}
		key := hostKey(p)
		if prev, ok := seen[key]; ok {
			return nil, fmt.Errorf("%w %s: host port also used by %s",
				ErrInvalidPublish, p, prev)
		}
		seen[key] = p
	}
	return out, nil
}

func hostKey(p PortMapping) string {
	return fmt.Sprintf("%s:%d/%s", p.HostIP, p.HostPort, p.protocol())
}

func checkPort(p PortMapping) error {
	if p.ContainerPort == 0 {
		return fmt.Errorf("missing container port")
	}
	if err := checkProtocol(p.protocol()); err != nil {
		return err
	}
	ip, err := parseHostIP(p.HostIP)
	if err != nil {
		return err
	}
	if ip != p.HostIP && p.HostIP != "0.0.0.0" {
		return fmt.Errorf("host IP %q is not in canonical form; write %q", p.HostIP, ip)
	}
	return nil
}

// maxPortTries bounds the attempts to find a random host port that no
// other mapping of the same pod uses.
const maxPortTries = 16

// assignHostPorts returns a copy of normalized ports with every zero
// HostPort replaced by a port that is free on the mapping's host IP, or on
// 127.0.0.1 when the mapping has none. The kernel picks the port from its
// ephemeral range.
//
// NOTE: the port is free when checked and is not reserved afterwards. A
// process that binds it later does not receive traffic that the NAT rule
// redirects, and a port that is free on 127.0.0.1 can still be bound on
// another host address.
func assignHostPorts(ports []PortMapping) ([]PortMapping, error) {
	out := make([]PortMapping, len(ports))
	used := make(map[string]bool, len(ports))
	for _, p := range ports {
		if p.HostPort != 0 {
			used[hostKey(p)] = true
		}
	}
	for i, p := range ports {
		for try := 0; p.HostPort == 0; try++ {
			port, err := freePort(p.HostIP, p.Protocol)
			if err != nil {
				return nil, fmt.Errorf("%w for %s: %v", ErrPortUnavailable, p, err)
			}
			candidate := p
			candidate.HostPort = port
			if !used[hostKey(candidate)] {
				p = candidate
				used[hostKey(p)] = true
			} else if try >= maxPortTries {
				return nil, fmt.Errorf("%w for %s: every port tried is taken",
					ErrPortUnavailable, p)
			}
		}
		out[i] = p
	}
	return out, nil
}

func freePort(hostIP, protocol string) (uint16, error) {
	if hostIP == "" {
		hostIP = "127.0.0.1"
	}
	addr := net.JoinHostPort(hostIP, "0")
	if protocol == "udp" {
		conn, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		return uint16(conn.LocalAddr().(*net.UDPAddr).Port), nil
	}
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port), nil
}

// portMappingsArg converts ports to the portMappings capability argument of
// the portmap plugin.
func portMappingsArg(ports []PortMapping) []map[string]any {
	out := make([]map[string]any, 0, len(ports))
	for _, p := range ports {
		entry := map[string]any{
			"hostPort":      int(p.HostPort),
			"containerPort": int(p.ContainerPort),
			"protocol":      p.protocol(),
		}
		if p.HostIP != "" {
			entry["hostIP"] = p.HostIP
		}
		out = append(out, entry)
	}
	return out
}
