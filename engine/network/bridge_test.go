package network

import (
	"context"
	"errors"
	"net"
	"net/netip"

	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

func TestSetupConnectsPod(t *testing.T) {
	requireBridge(t)
	m := newTestManager(t, testName, testSubnet, testBridge)
	netns := newNetns(t)
	startEcho(t, netns, containerPort)

	gw := m.Gateway().String()
	ports := []PortMapping{
		{HostIP: "127.0.0.1", HostPort: freeTestPort(t), ContainerPort: containerPort,
			Protocol: "tcp"},
		{HostIP: gw, HostPort: freeTestPort(t), ContainerPort: containerPort, Protocol: "tcp"},
		{HostIP: "127.0.0.1", ContainerPort: containerPort}, // random host port
	}
	res := setup(t, m, "pod-connect", netns, ports...)

	t.Run("address in subnet", func(t *testing.T) {
		if !m.Subnet().Contains(res.Address.Addr()) {
			t.Errorf("address %s is not in subnet %s", res.Address, m.Subnet())
		}
		if res.Address.Addr() == m.Gateway() {
			t.Errorf("pod got the bridge address %s", res.Address)
		}
		if res.Address.Bits() != m.Subnet().Bits() {
			t.Errorf("address %s: want prefix length %d", res.Address, m.Subnet().Bits())
		}
	})
	t.Run("result fields", func(t *testing.T) {
		if res.Gateway != m.Gateway() {
			t.Errorf("gateway %s, want %s", res.Gateway, m.Gateway())
		}
		if res.Interface != ifName {
			t.Errorf("interface %q, want %q", res.Interface, ifName)
		}
		if _, err := net.ParseMAC(res.MAC); err != nil {
			t.Errorf("MAC %q: %v", res.MAC, err)
		}
	})
	t.Run("interface in namespace", func(t *testing.T) {
		addrs := podAddrs(t, netns)
		if !slices.Contains(addrs, res.Address.String()) {
			t.Errorf("eth0 addresses %v do not include %s", addrs, res.Address)
		}
	})
	t.Run("host reaches pod", func(t *testing.T) {
		addr := net.JoinHostPort(res.Address.Addr().String(), strconv.Itoa(containerPort))
		if err := echo(addr); err != nil {
			t.Errorf("echo %s: %v", addr, err)
		}
	})
	t.Run("random host port assigned", func(t *testing.T) {
		if len(res.Ports) != len(ports) {
			t.Fatalf("got %d ports, want %d", len(res.Ports), len(ports))
		}
		if res.Ports[2].HostPort == 0 {
			t.Errorf("random mapping kept host port 0: %+v", res.Ports[2])
		}
		if res.Ports[0] != ports[0] {
			t.Errorf("explicit mapping changed: got %+v, want %+v", res.Ports[0], ports[0])
		}
	})
	// The portmap plugin sets route_localnet on the bridge, so the kernel
	// routes DNATed packets from 127.0.0.1 to the pod.
	localnet, _ := os.ReadFile(filepath.Join("/proc/sys/net/ipv4/conf", m.Bridge(),
		"route_localnet"))
	t.Logf("route_localnet on %s: %s", m.Bridge(), strings.TrimSpace(string(localnet)))
	for i, p := range res.Ports {
		addr := net.JoinHostPort(p.HostIP, strconv.Itoa(int(p.HostPort)))
		t.Run("published port "+strconv.Itoa(i)+" "+addr, func(t *testing.T) {
			if err := echo(addr); err != nil {
				t.Errorf("echo %s (published %s): %v", addr, p, err)
			}
		})
	}
	t.Run("cache lists pod", func(t *testing.T) {
		atts, err := m.Attachments()
		if err != nil {
			t.Fatal(err)
		}
		want := []Attachment{{PodID: "pod-connect", NetNS: netns}}
		if !slices.Equal(atts, want) {
			t.Errorf("Attachments = %+v, want %+v", atts, want)
		}
	})
	t.Run("second setup rejected", func(t *testing.T) {
		_, err := m.Setup(context.Background(), "pod-connect", netns, nil)
		if !errors.Is(err, ErrAttached) {
			t.Errorf("Setup again: got %v, want ErrAttached", err)
		}
	})
}

func TestTeardownRemovesEverything(t *testing.T) {
	requireBridge(t)
	m := newTestManager(t, testName, testSubnet, testBridge)
	netns := newNetns(t)
	const pod = "pod-teardown"

	port := PortMapping{HostIP: "127.0.0.1", HostPort: freeTestPort(t), ContainerPort: 80}
	res := setup(t, m, pod, netns, port)
	ip := res.Address.Addr().String()

	if got := ipamFiles(t, m); !slices.Contains(got, ip) {
		t.Fatalf("IPAM files %v do not include %s after Setup", got, ip)
	}
	chains := podChains(m.Name(), pod)
	if got := natChainsOf(t, chains); !slices.Equal(got, chains) {
		t.Fatalf("nat chains after Setup: %v, want %v", got, chains)
	}

	teardown(t, m, pod, netns)

	t.Run("address released", func(t *testing.T) {
		if got := ipamFiles(t, m); len(got) != 0 {
			t.Errorf("IPAM files left: %v", got)
		}
	})
	t.Run("rules removed", func(t *testing.T) {
		requireNoRules(t, strconv.Quote(pod), " "+ip+"/32", " "+ip+" ")
		if got := natChainsOf(t, chains); len(got) != 0 {
			t.Errorf("nat chains left: %v", got)
		}
	})
	t.Run("interfaces removed", func(t *testing.T) {
		if addrs := podAddrs(t, netns); addrs != nil {
			t.Errorf("eth0 still in namespace with %v", addrs)
		}
		if ports := bridgePorts(t, m.Bridge()); len(ports) != 0 {
			t.Errorf("bridge %s still has ports %v", m.Bridge(), ports)
		}
	})
	t.Run("cache entry removed", func(t *testing.T) {
		atts, err := m.Attachments()
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 0 {
			t.Errorf("Attachments = %+v, want none", atts)
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		if err := m.Teardown(context.Background(), pod, netns, nil); err != nil {
			t.Errorf("second Teardown: %v", err)
		}
		if err := m.Teardown(context.Background(), pod, "", nil); err != nil {
			t.Errorf("Teardown without namespace: %v", err)
		}
	})
}

func TestTeardownAfterNetnsGone(t *testing.T) {
	requireBridge(t)
	m := newTestManager(t, testName, testSubnet, testBridge)
	netns := newNetns(t)
	const pod = "pod-gone"

	// A neighbor pod whose rules and address must survive the teardown.
	neighbor := setup(t, m, "pod-neighbor", newNetns(t),
		PortMapping{HostIP: "127.0.0.1", ContainerPort: 80})
	neighborChains := podChains(m.Name(), "pod-neighbor")

	port := PortMapping{HostIP: "127.0.0.1", HostPort: freeTestPort(t), ContainerPort: 80}
	res := setup(t, m, pod, netns, port)
	ip := res.Address.Addr().String()
	chains := podChains(m.Name(), pod)
	if got := natChainsOf(t, chains); !slices.Equal(got, chains) {
		t.Fatalf("nat chains after Setup: %v, want %v", got, chains)
	}

	removeNetns(t, netns)
	waitBridgePorts(t, m.Bridge(), 1)

	teardown(t, m, pod, "")

	want := []string{neighbor.Address.Addr().String()}
	if got := ipamFiles(t, m); !slices.Equal(got, want) {
		t.Errorf("IPAM files %v, want only the neighbor's %v", got, want)
	}
	if got := natChainsOf(t, neighborChains); !slices.Equal(got, neighborChains) {
		t.Errorf("neighbor's nat chains %v, want %v", got, neighborChains)
	}
	requireNoRules(t, strconv.Quote(pod), " "+ip+"/32", " "+ip+" ")
	if got := natChainsOf(t, chains); len(got) != 0 {
		t.Errorf("nat chains left: %v", got)
	}
	if err := m.Teardown(context.Background(), pod, "", nil); err != nil {
		t.Errorf("second Teardown: %v", err)
	}
}

func TestSetupExhaustedSubnet(t *testing.T) {
	requireBridge(t)
	// A /30 has two host addresses: the bridge takes the first, one pod
	// the second.
	m := newTestManager(t, tinyName, tinySubnet, tinyBridge)
	first := newNetns(t)
	second := newNetns(t)
	port := PortMapping{HostIP: "127.0.0.1", HostPort: freeTestPort(t), ContainerPort: 80}

	res := setup(t, m, "pod-first", first)
	wantAddr := res.Address

	_, err := m.Setup(context.Background(), "pod-second", second, []PortMapping{port})
	if !errors.Is(err, ErrAddressExhausted) {
		t.Fatalf("Setup on a full subnet: got %v, want ErrAddressExhausted", err)
	}
	t.Logf("error: %v", err)

	t.Run("error names subnet", func(t *testing.T) {
		if !containsAll(err.Error(), "pod-second", tinySubnet) {
			t.Errorf("error %q does not name the pod and subnet", err)
		}
	})
	t.Run("nothing left behind", func(t *testing.T) {
		if addrs := podAddrs(t, second); addrs != nil {
			t.Errorf("failed pod has eth0 with %v", addrs)
		}
		if got := ipamFiles(t, m); !slices.Equal(got, []string{wantAddr.Addr().String()}) {
			t.Errorf("IPAM files %v, want only the first pod's %s", got, wantAddr.Addr())
		}
		requireNoRules(t, strconv.Quote("pod-second"))
		if got := natChainsOf(t, podChains(m.Name(), "pod-second")); len(got) != 0 {
			t.Errorf("nat chains left: %v", got)
		}
		atts, err := m.Attachments()
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 1 || atts[0].PodID != "pod-first" {
			t.Errorf("Attachments = %+v, want only pod-first", atts)
		}
		if ports := bridgePorts(t, m.Bridge()); len(ports) != 1 {
			t.Errorf("bridge has ports %v, want the first pod's only", ports)
		}
	})
	t.Run("address reused after teardown", func(t *testing.T) {
		teardown(t, m, "pod-first", first)
		third := newNetns(t)
		res := setup(t, m, "pod-third", third)
		if res.Address != wantAddr {
			t.Errorf("address %s, want the released %s", res.Address, wantAddr)
		}
	})
}

func TestSetupRejectsBadInput(t *testing.T) {
	requireBridge(t)
	m := newTestManager(t, testName, testSubnet, testBridge)
	netns := newNetns(t)

	tests := []struct {
		name    string
		pod     string
		netns   string
		ports   []PortMapping
		wantErr error
	}{
		{"missing container port", "pod-bad", netns,
			[]PortMapping{{HostPort: 8080}}, ErrInvalidPublish},
		{"unknown protocol", "pod-bad", netns,
			[]PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "sctp"}}, ErrInvalidPublish},
		{"duplicate host port", "pod-bad", netns, []PortMapping{
			{HostPort: 8080, ContainerPort: 80},
			{HostIP: "0.0.0.0", HostPort: 8080, ContainerPort: 81},
		}, ErrInvalidPublish},
		{"IPv6 host IP", "pod-bad", netns,
			[]PortMapping{{HostIP: "::1", HostPort: 8080, ContainerPort: 80}}, ErrInvalidPublish},
		{"missing netns", "pod-bad", "", nil, nil},
		{"invalid pod ID", "pod/bad", netns, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Setup(context.Background(), tt.pod, tt.netns, tt.ports)
			if err == nil {
				t.Fatal("Setup succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if addrs := podAddrs(t, netns); addrs != nil {
				t.Errorf("namespace got eth0 with %v", addrs)
			}
		})
	}
}

func TestSetupMissingPlugins(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: Check reports missing root before missing plugins")
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	m, err := New(Config{
		PluginDirs: []string{empty},
		ConfDir:    filepath.Join(dir, "networks"),
		CacheDir:   filepath.Join(dir, "cni"),
		Name:       testName,
		Subnet:     testSubnet,
		Bridge:     testBridge,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	ok, reason := m.Available()
	if ok {
		t.Fatal("Available = true with an empty plugin directory")
	}
	if !containsAll(reason, empty, pluginPackage, "bridge") {
		t.Errorf("reason %q does not name the plugin, directory and package", reason)
	}

	_, err = m.Setup(context.Background(), "pod-noplugins", "/proc/self/ns/net", nil)
	if !errors.Is(err, ErrPluginNotFound) {
		t.Errorf("Setup: got %v, want ErrPluginNotFound", err)
	}
	err = m.Teardown(context.Background(), "pod-noplugins", "", nil)
	if !errors.Is(err, ErrPluginNotFound) {
		t.Errorf("Teardown: got %v, want ErrPluginNotFound", err)
	}
}

func containsAll(s string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// freeTestPort returns a TCP port that is free on 127.0.0.1.
func freeTestPort(t *testing.T) uint16 {
	t.Helper()
	port, err := freePort("127.0.0.1", "tcp")
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// waitBridgePorts waits until bridge has n ports, after the kernel has
// removed the veth pairs of deleted namespaces, which it does
// asynchronously.
func waitBridgePorts(t *testing.T, bridge string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(bridgePorts(t, bridge)) != n {
		if time.Now().After(deadline) {
			t.Fatalf("bridge %s still has ports %v", bridge, bridgePorts(t, bridge))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSetupConcurrentPods(t *testing.T) {
	requireBridge(t)
	m := newTestManager(t, testName, testSubnet, testBridge)
	const pods = 4
	netns := make([]string, pods)
	for i := range netns {
		netns[i] = newNetns(t)
	}

	results := make([]Result, pods)
	var g errgroup.Group
	for i := range pods {
		g.Go(func() error {
			pod := "pod-concurrent-" + strconv.Itoa(i)
			port := PortMapping{HostIP: "127.0.0.1", ContainerPort: 80}
			res, err := m.Setup(context.Background(), pod, netns[i], []PortMapping{port})
			results[i] = res
			return err
		})
	}
	err := g.Wait()
	for i := range pods {
		t.Cleanup(func() {
			pod := "pod-concurrent-" + strconv.Itoa(i)
			if err := m.Teardown(context.Background(), pod, "", nil); err != nil {
				t.Errorf("Teardown %s: %v", pod, err)
			}
		})
	}
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}

	seen := make(map[netip.Addr]bool)
	for i, res := range results {
		if seen[res.Address.Addr()] {
			t.Errorf("pod %d got address %s twice", i, res.Address)
		}
		seen[res.Address.Addr()] = true
	}
	if got := ipamFiles(t, m); len(got) != pods {
		t.Errorf("IPAM files %v, want %d", got, pods)
	}
	// Each shared jump rule exists once although the ADDs ran together.
	rules := strings.Split(iptablesRules(t, "nat"), "\n")
	for _, jump := range [][2]string{
		{"PREROUTING", "CNI-HOSTPORT-DNAT"},
		{"OUTPUT", "CNI-HOSTPORT-DNAT"},
		{"POSTROUTING", "CNI-HOSTPORT-MASQ"},
	} {
		n := 0
		for _, r := range rules {
			if strings.HasPrefix(r, "-A "+jump[0]+" ") && strings.HasSuffix(r, "-j "+jump[1]) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("nat chain %s has %d jumps to %s, want 1", jump[0], n, jump[1])
		}
	}
}
