package network

import (
	"bufio"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The root tests use their own subnets, bridges and network names, so they
// do not touch a podplug network that runs on the same host.
const (
	testSubnet     = "10.89.250.0/24"
	testBridge     = "pptest0"
	testName       = "podplug-test"
	tinySubnet     = "10.89.251.0/30"
	tinyBridge     = "pptest1"
	tinyName       = "podplug-test-tiny"
	ipForwardFile  = "/proc/sys/net/ipv4/ip_forward"
	echoTimeout    = 3 * time.Second
	containerPort  = 8080
	iptablesTables = "nat filter"
)

// TestMain records the host state the plugins change outside podplug's own
// bridge (the ip_forward sysctl, the shared CNI iptables chains and the
// nftables tables that iptables-nft creates) and restores it after the
// tests.
func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		os.Exit(m.Run())
	}
	forward, _ := os.ReadFile(ipForwardFile)
	chains := cniChains()
	tables := nftTables()

	code := m.Run()

	if len(forward) > 0 {
		if err := os.WriteFile(ipForwardFile, forward, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "restore %s: %v\n", ipForwardFile, err)
		}
	}
	if err := removeNewCNIChains(chains); err != nil {
		fmt.Fprintf(os.Stderr, "remove CNI iptables chains: %v\n", err)
		code = 1
	}
	if err := removeNewEmptyTables(tables); err != nil {
		fmt.Fprintf(os.Stderr, "remove nftables tables: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// requireBridge skips the test unless it runs as root on a host with the
// CNI plugins and iptables.
func requireBridge(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: bridge tests need root (CAP_NET_ADMIN)")
	}
	for _, plugin := range requiredPlugins {
		if _, err := findPlugin(plugin, DefaultPluginDirs); err != nil {
			t.Skipf("skipped: CNI plugin %s not in %v; "+
				"install it with: apt-get install -y %s", plugin, DefaultPluginDirs, pluginPackage)
		}
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Skip("skipped: iptables not found in PATH")
	}
}

func findPlugin(name string, dirs []string) (string, error) {
	for _, dir := range dirs {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			return path, nil
		}
	}
	return "", os.ErrNotExist
}

// newTestManager returns a Manager whose files live in a temporary
// directory and deletes its bridge when the test ends.
func newTestManager(t *testing.T, name, subnet, bridge string) *Manager {
	t.Helper()
	if _, err := net.InterfaceByName(bridge); err == nil {
		t.Fatalf("interface %s exists before the test; delete it with: ip link del %s",
			bridge, bridge)
	}
	dir := t.TempDir()
	m, err := New(Config{
		ConfDir:  filepath.Join(dir, "networks"),
		CacheDir: filepath.Join(dir, "cni"),
		Name:     name,
		Subnet:   subnet,
		Bridge:   bridge,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := m.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	t.Cleanup(func() {
		if _, err := net.InterfaceByName(bridge); err != nil {
			return
		}
		if out, err := exec.Command("ip", "link", "del", bridge).CombinedOutput(); err != nil {
			t.Errorf("delete bridge %s: %v: %s", bridge, err, out)
		}
	})
	return m
}

// newNetns creates a network namespace bound to a file in a temporary
// directory and removes it when the test ends. The namespace lives until
// the file is unmounted and nothing else holds it.
func newNetns(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	err := onLockedThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		return unix.Mount(src, path, "", unix.MS_BIND, "")
	})
	if err != nil {
		t.Fatalf("create network namespace: %v", err)
	}
	t.Cleanup(func() { removeNetns(t, path) })
	return path
}

func removeNetns(t *testing.T, path string) {
	t.Helper()
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		t.Errorf("unmount %s: %v", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("remove %s: %v", path, err)
	}
}

// inNetns runs fn on a thread that has joined the network namespace at
// path. Sockets fn creates stay in that namespace.
func inNetns(path string, fn func() error) error {
	return onLockedThread(func() error {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns %s: %w", path, err)
		}
		return fn()
	})
}

// onLockedThread runs fn on a locked OS thread and moves the thread back
// to the original network namespace afterwards. If that fails, the thread
// stays locked and ends with its goroutine, so no other goroutine runs in
// the wrong namespace.
func onLockedThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(orig)

		err = fn()
		if restoreErr := unix.Setns(orig, unix.CLONE_NEWNET); restoreErr != nil {
			errc <- errors.Join(err, fmt.Errorf("restore network namespace: %w", restoreErr))
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// startEcho starts a TCP echo server on port inside the namespace at
// netns and stops it when the test ends.
func startEcho(t *testing.T, netns string, port int) {
	t.Helper()
	var ln net.Listener
	err := inNetns(netns, func() error {
		var err error
		ln, err = net.Listen("tcp4", ":"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		t.Fatalf("listen in %s: %v", netns, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(echoTimeout))
				_, _ = io.Copy(conn, conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
}

// echo sends a line to addr and returns nil if the same line comes back.
func echo(addr string) error {
	conn, err := net.DialTimeout("tcp4", addr, echoTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(echoTimeout))

	const line = "podplug echo\n"
	if _, err := io.WriteString(conn, line); err != nil {
		return err
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if got != line {
		return fmt.Errorf("echo from %s: got %q, want %q", addr, got, line)
	}
	return nil
}

// podAddrs returns the IPv4 addresses of eth0 inside the namespace at
// netns, or nil when eth0 does not exist.
func podAddrs(t *testing.T, netns string) []string {
	t.Helper()
	var out []string
	err := inNetns(netns, func() error {
		iface, err := net.InterfaceByName(ifName)
		if err != nil {
			return nil
		}
		addrs, err := iface.Addrs()
		if err != nil {
			return err
		}
		for _, a := range addrs {
			if ipnet, ok := a.(*net.IPNet); ok && ipnet.IP.To4() != nil {
				out = append(out, ipnet.String())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list addresses in %s: %v", netns, err)
	}
	return out
}

// iptablesRules returns the rules of a table in iptables -S syntax.
func iptablesRules(t *testing.T, table string) string {
	t.Helper()
	out, err := exec.Command("iptables", "-w", "-t", table, "-S").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables -t %s -S: %v: %s", table, err, out)
	}
	return string(out)
}

// requireNoRules fails the test if a rule of the nat or filter table
// contains any of the words, such as a pod ID or address.
func requireNoRules(t *testing.T, words ...string) {
	t.Helper()
	for _, table := range strings.Fields(iptablesTables) {
		for _, line := range strings.Split(iptablesRules(t, table), "\n") {
			for _, w := range words {
				if strings.Contains(line, w) {
					t.Errorf("table %s still has a rule with %q: %s", table, w, line)
				}
			}
		}
	}
}

// bridgePorts returns the interfaces attached to bridge.
func bridgePorts(t *testing.T, bridge string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("/sys/class/net", bridge, "brif"))
	if err != nil {
		t.Fatalf("list ports of bridge %s: %v", bridge, err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// ipamFiles returns the addresses the host-local plugin has allocated on
// the manager's network.
func ipamFiles(t *testing.T, m *Manager) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(m.cfg.IPAMDir, m.cfg.Name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("read IPAM directory: %v", err)
	}
	var out []string
	for _, e := range entries {
		if net.ParseIP(e.Name()) != nil {
			out = append(out, e.Name())
		}
	}
	return out
}

func setup(t *testing.T, m *Manager, pod, netns string, ports ...PortMapping) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := m.Setup(ctx, pod, netns, ports)
	if err != nil {
		t.Fatalf("Setup %s: %v", pod, err)
	}
	t.Cleanup(func() {
		if err := m.Teardown(context.Background(), pod, "", nil); err != nil {
			t.Errorf("Teardown %s in cleanup: %v", pod, err)
		}
	})
	return res
}

func teardown(t *testing.T, m *Manager, pod, netns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Teardown(ctx, pod, netns, nil); err != nil {
		t.Fatalf("Teardown %s: %v", pod, err)
	}
}

// cniChains returns the names of the CNI-* chains of each table.
func cniChains() map[string][]string {
	out := make(map[string][]string)
	for _, table := range strings.Fields(iptablesTables) {
		data, err := exec.Command("iptables", "-w", "-t", table, "-S").Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "-N "); ok && strings.HasPrefix(name, "CNI-") {
				out[table] = append(out[table], name)
			}
		}
	}
	return out
}

// removeNewCNIChains deletes the CNI-* chains that were not in before, and
// the rules of other chains that jump to them. The portmap and firewall
// plugins create shared chains (CNI-HOSTPORT-*, CNI-FORWARD, CNI-ADMIN)
// and never delete them.
func removeNewCNIChains(before map[string][]string) error {
	var errs []error
	for table, chains := range cniChains() {
		var added []string
		for _, c := range chains {
			if !slices.Contains(before[table], c) {
				added = append(added, c)
			}
		}
		errs = append(errs, removeChains(table, added))
	}
	return errors.Join(errs...)
}

func removeChains(table string, chains []string) error {
	if len(chains) == 0 {
		return nil
	}
	data, err := exec.Command("iptables", "-w", "-t", table, "-S").Output()
	if err != nil {
		return err
	}
	// Delete jumps by chain and rule number, last first, so the numbers
	// of the remaining rules do not shift.
	type ruleRef struct {
		chain string
		num   int
	}
	var jumps []ruleRef
	count := make(map[string]int)

	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != "-A" {
			continue
		}
		count[fields[1]]++
		for i, f := range fields {
			if f == "-j" && i+1 < len(fields) && slices.Contains(chains, fields[i+1]) &&
				!slices.Contains(chains, fields[1]) {
				jumps = append(jumps, ruleRef{fields[1], count[fields[1]]})
			}
		}
	}

	var errs []error
	for i := len(jumps) - 1; i >= 0; i-- {
		j := jumps[i]
		errs = append(errs, iptables(table, "-D", j.chain, strconv.Itoa(j.num)))
	}

	// Flush every chain before deleting any, because they jump to each other.
	for _, c := range chains {
		errs = append(errs, iptables(table, "-F", c))
	}
	for _, c := range chains {
		errs = append(errs, iptables(table, "-X", c))
	}
	return errors.Join(errs...)
}

func iptables(args ...string) error {
	table, rest := args[0], args[1:]
	cmd := append([]string{"-w", "-t", table}, rest...)
	if out, err := exec.Command("iptables", cmd...).CombinedOutput(); err != nil {
		return fmt.Errorf("iptables %s: %v: %s", strings.Join(cmd, " "), err, out)
	}
	return nil
}

// podChains returns the nat chains the plugins make for one pod: the bridge
// plugin's masquerade chain and the portmap plugin's DNAT chain, whose name
// is built like the first with "DN-" after "CNI-".
func podChains(network, pod string) []string {
	sum := sha512.Sum512([]byte(network + pod))
	dnat := ("CNI-DN-" + hex.EncodeToString(sum[:]))[:28]
	return []string{masqChain(network, pod), dnat}
}

// natChainsOf returns which of chains exist in the nat table, in the order
// of chains.
func natChainsOf(t *testing.T, chains []string) []string {
	t.Helper()
	existing := make(map[string]bool)
	for _, line := range strings.Split(iptablesRules(t, "nat"), "\n") {
		if name, ok := strings.CutPrefix(line, "-N "); ok {
			existing[name] = true
		}
	}
	var out []string
	for _, c := range chains {
		if existing[c] {
			out = append(out, c)
		}
	}
	return out
}

// nftTables returns the nftables tables as "family name", or nil when the
// nft tool is missing (then iptables does not use nftables either).
func nftTables() []string {
	out, err := exec.Command("nft", "list", "tables").Output()
	if err != nil {
		return nil
	}
	var tables []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(line, "table "); ok {
			tables = append(tables, name)
		}
	}
	return tables
}

// removeNewEmptyTables deletes the nftables tables that were not in
// before and hold no rule: the ones iptables-nft made for the plugins.
func removeNewEmptyTables(before []string) error {
	var errs []error
	for _, table := range nftTables() {
		if slices.Contains(before, table) {
			continue
		}
		args := append([]string{"-j", "list", "table"}, strings.Fields(table)...)
		out, err := exec.Command("nft", args...).Output()
		if err != nil {
			errs = append(errs, fmt.Errorf("nft list table %s: %w", table, err))
			continue
		}
		if strings.Contains(string(out), `"rule":`) {
			continue
		}
		args = append([]string{"delete", "table"}, strings.Fields(table)...)
		if out, err := exec.Command("nft", args...).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("nft delete table %s: %v: %s", table, err, out))
		}
	}
	return errors.Join(errs...)
}
