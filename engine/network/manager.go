package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// requiredPlugins are the CNI plugins the network configuration uses.
var requiredPlugins = []string{"bridge", "host-local", "portmap", "firewall"}

// cleanupTimeout bounds the CNI DEL that Setup runs after a failed ADD,
// which runs even when the caller's context is cancelled.
const cleanupTimeout = 30 * time.Second

// Manager sets up and tears down the bridge network of pods. It is safe
// for concurrent use and runs one CNI command at a time, because the
// plugins 1.1.1 check for a shared iptables rule and then insert it. Two
// concurrent ADDs insert the jump to CNI-HOSTPORT-DNAT twice without this
// lock, as TestSetupConcurrentPods shows.
type Manager struct {
	cfg      Config
	subnet   netip.Prefix
	confPath string
	list     *libcni.NetworkConfigList
	cni      *libcni.CNIConfig
	log      *slog.Logger
	cniLock  chan struct{} // holds a value while a CNI command runs
}

// Result describes a pod's attachment to the network.
type Result struct {
	// Interface is the pod's interface name inside its namespace.
	Interface string
	// MAC is the hardware address of that interface.
	MAC string
	// Address is the pod's address with the subnet's prefix length.
	Address netip.Prefix
	// Gateway is the bridge address, the pod's default route.
	Gateway netip.Addr
	// Ports are the mappings as applied, with random host ports filled in.
	// Pass them to Teardown.
	Ports []PortMapping
}

// Attachment is a pod whose ADD result is in the libcni cache.
type Attachment struct {
	PodID string
	// NetNS is the namespace path given to Setup. It may be stale: a
	// /proc/PID/ns/net path can name another process's namespace once
	// the pod's infra process has exited.
	NetNS string
}

// New checks cfg, fills in its defaults and writes the network
// configuration list to cfg.ConfDir. It fails only for an invalid Config
// or an unwritable directory: a host where bridge networking cannot work
// yields a Manager whose Available method returns the reason.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	subnet, _ := parseSubnet(cfg.Subnet) // checked by withDefaults

	data, err := cfg.conflist()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	list, err := libcni.NetworkConfFromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("parse network config %s: %w", cfg.Name, err)
	}

	confPath := filepath.Join(cfg.ConfDir, cfg.Name+".conflist")
	if err := os.MkdirAll(cfg.ConfDir, 0o755); err != nil {
		return nil, fmt.Errorf("write network config %s: %w", confPath, err)
	}
	if err := writeFileAtomic(confPath, data); err != nil {
		return nil, fmt.Errorf("write network config %s: %w", confPath, err)
	}

	m := &Manager{
		cfg:      cfg,
		subnet:   subnet,
		confPath: confPath,
		list:     list,
		cni:      libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, cfg.CacheDir, nil),
		log:      cfg.Logger.With("network", cfg.Name),
		cniLock:  make(chan struct{}, 1),
	}
	return m, nil
}

// lock waits for the CNI lock until ctx is done.
func (m *Manager) lock(ctx context.Context) error {
	select {
	case m.cniLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Manager) unlock() { <-m.cniLock }

// ConfigPath returns the path of the network configuration list.
func (m *Manager) ConfigPath() string { return m.confPath }

// Subnet returns the prefix pods get addresses from.
func (m *Manager) Subnet() netip.Prefix { return m.subnet }

// Gateway returns the bridge address.
func (m *Manager) Gateway() netip.Addr { return gatewayOf(m.subnet) }

// Bridge returns the name of the host bridge interface.
func (m *Manager) Bridge() string { return m.cfg.Bridge }

// Name returns the CNI network name.
func (m *Manager) Name() string { return m.cfg.Name }

// Available reports whether Setup can work on this host, and if not, why.
// It runs the checks of Check.
func (m *Manager) Available() (ok bool, reason string) {
	if err := m.Check(); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// Check returns nil if Setup can work on this host. Otherwise it returns
// an error wrapping ErrUnavailable, ErrPluginNotFound or ErrSubnetConflict
// whose message names the fix. It looks for root, iptables and the
// plugins, and for a host address or route overlapping the subnet.
func (m *Manager) Check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: network %s needs root (CAP_NET_ADMIN); "+
			"run podplug as root", ErrUnavailable, m.cfg.Name)
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		return fmt.Errorf("%w: network %s needs iptables, not found in PATH; "+
			"install the iptables package", ErrUnavailable, m.cfg.Name)
	}
	for _, plugin := range requiredPlugins {
		if _, err := invoke.FindInPath(plugin, m.cfg.PluginDirs); err != nil {
			return m.pluginNotFound(plugin)
		}
	}
	return findSubnetConflict(m.subnet, m.cfg.Bridge)
}

func (m *Manager) pluginNotFound(plugin string) error {
	return fmt.Errorf("%w: %s is not in %s; install the %s package "+
		"or set the plugin directories", ErrPluginNotFound, plugin,
		strings.Join(m.cfg.PluginDirs, ", "), pluginPackage)
}

// Attachments lists the pods of this network in the libcni cache: pods set
// up and not yet torn down. A restarted daemon tears down the ones whose
// pods no longer run.
func (m *Manager) Attachments() ([]Attachment, error) {
	cached, err := m.cni.GetCachedAttachments("")
	if err != nil {
		return nil, fmt.Errorf("list attachments of network %s: %w", m.cfg.Name, err)
	}
	var out []Attachment
	for _, a := range cached {
		if a.Network != m.cfg.Name || a.IfName != ifName {
			continue
		}
		out = append(out, Attachment{PodID: a.ContainerID, NetNS: a.NetNS})
	}
	return out, nil
}

// Setup attaches the network namespace at netnsPath to the bridge as pod
// podID (CNI ADD) and publishes ports. netnsPath is usually the infra
// container's /proc/PID/ns/net, or a bind mount of it.
//
// On any error Setup runs CNI DEL, so no address, interface or NAT rule of
// the failed attempt stays behind. It returns an error wrapping
// ErrAddressExhausted when the subnet has no free address, ErrInvalidPublish
// for a bad mapping, and ErrAttached when podID is already set up.
func (m *Manager) Setup(ctx context.Context, podID, netnsPath string,
	ports []PortMapping) (Result, error) {
	if err := m.lock(ctx); err != nil {
		return Result{}, fmt.Errorf("set up network for pod %s: %w", podID, err)
	}
	defer m.unlock()

	if err := m.checkSetupArgs(podID, netnsPath); err != nil {
		return Result{}, err
	}
	if err := m.Check(); err != nil {
		return Result{}, fmt.Errorf("set up network for pod %s: %w", podID, err)
	}
	ports, err := normalizePorts(ports)
	if err != nil {
		return Result{}, fmt.Errorf("set up network for pod %s: %w", podID, err)
	}
	ports, err = assignHostPorts(ports)
	if err != nil {
		return Result{}, fmt.Errorf("set up network for pod %s: %w", podID, err)
	}

	rt := m.runtimeConf(podID, netnsPath, ports)
	m.log.Debug("cni add", "pod", podID, "netns", netnsPath, "ports", len(ports))
	raw, err := m.cni.AddNetworkList(ctx, m.list, rt)
	if err != nil {
		err = m.addError(podID, err)
		return Result{}, errors.Join(err, m.cleanupFailedAdd(ctx, rt))
	}

	res, err := parseResult(raw)
	if err != nil {
		err = fmt.Errorf("set up network for pod %s: %w", podID, err)
		return Result{}, errors.Join(err, m.cleanupFailedAdd(ctx, rt))
	}
	res.Ports = ports
	m.log.Info("pod network set up", "pod", podID, "address", res.Address,
		"ports", len(ports))
	return res, nil
}

func (m *Manager) checkSetupArgs(podID, netnsPath string) error {
	if err := checkPodID(podID); err != nil {
		return err
	}
	if netnsPath == "" {
		return fmt.Errorf("set up network for pod %s: missing network namespace path",
			podID)
	}
	cached, err := m.cni.GetNetworkListCachedResult(m.list, m.runtimeConf(podID, "", nil))
	if err != nil {
		return fmt.Errorf("set up network for pod %s: read cache: %w", podID, err)
	}
	if cached != nil {
		return fmt.Errorf("set up network for pod %s: %w to network %s; tear it down first",
			podID, ErrAttached, m.cfg.Name)
	}
	return nil
}

// checkPodID applies libcni's container ID syntax, so the error names the
// pod instead of a CNI field.
func checkPodID(podID string) error {
	if !networkNameRE.MatchString(podID) {
		return fmt.Errorf("pod ID %q is invalid for CNI: use letters, digits, "+
			"'_', '.' and '-'", podID)
	}
	return nil
}

func (m *Manager) runtimeConf(podID, netnsPath string, ports []PortMapping) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{
		ContainerID: podID,
		NetNS:       netnsPath,
		IfName:      ifName,
	}
	if ports != nil {
		rt.CapabilityArgs = map[string]any{"portMappings": portMappingsArg(ports)}
	}
	return rt
}

// addError wraps an error of CNI ADD in the package's error categories.
// The host-local plugin 1.1.1 reports an exhausted range as "no IP
// addresses available in range set".
func (m *Manager) addError(podID string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "no IP addresses available"):
		return fmt.Errorf("set up network for pod %s: %w: no free address in %s "+
			"on network %s; tear down stopped pods or configure a larger subnet: %v",
			podID, ErrAddressExhausted, m.subnet, m.cfg.Name, err)
	case strings.Contains(msg, "failed to find plugin"):
		return fmt.Errorf("set up network for pod %s: %w: %v; install the %s package",
			podID, ErrPluginNotFound, err, pluginPackage)
	}
	return fmt.Errorf("set up network for pod %s: %w", podID, err)
}

// cleanupFailedAdd runs CNI DEL after a failed ADD. It runs even when ctx
// is cancelled, because an ADD cut short can leave an address allocated.
func (m *Manager) cleanupFailedAdd(ctx context.Context, rt *libcni.RuntimeConf) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	m.log.Debug("cni del after failed add", "pod", rt.ContainerID)
	err := m.cni.DelNetworkList(ctx, m.list, rt)
	if err == nil {
		err = removeMasquerade(ctx, m.list.Name, rt.ContainerID)
	}
	if err != nil {
		return fmt.Errorf("clean up network of pod %s after failed setup: %w",
			rt.ContainerID, err)
	}
	return nil
}

func parseResult(raw types.Result) (Result, error) {
	if raw == nil {
		return Result{}, fmt.Errorf("cni add returned no result")
	}
	res, err := types100.NewResultFromResult(raw)
	if err != nil {
		return Result{}, fmt.Errorf("convert cni result: %w", err)
	}
	return resultFromCNI(res)
}

// resultFromCNI picks the pod's interface (the one with a sandbox) and its
// IPv4 address out of a CNI result.
func resultFromCNI(res *types100.Result) (Result, error) {
	var out Result
	podIface := -1
	for i, iface := range res.Interfaces {
		if iface.Sandbox != "" {
			podIface = i
			out.Interface = iface.Name
			out.MAC = iface.Mac
			break
		}
	}
	if podIface < 0 {
		return out, fmt.Errorf("cni result has no interface inside the pod")
	}

	for _, ipc := range res.IPs {
		if ipc.Interface == nil || *ipc.Interface != podIface || ipc.Address.IP.To4() == nil {
			continue
		}
		addr, err := netip.ParsePrefix(ipc.Address.String())
		if err != nil {
			return out, fmt.Errorf("cni result address %s: %w", ipc.Address.String(), err)
		}
		out.Address = addr
		if gw, ok := netip.AddrFromSlice(ipc.Gateway.To4()); ok {
			out.Gateway = gw
		}
		return out, nil
	}
	return out, fmt.Errorf("cni result has no IPv4 address on %s", out.Interface)
}
