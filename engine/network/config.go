package network

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Defaults for the Config fields left empty.
const (
	DefaultName   = "podplug"
	DefaultBridge = "podplug0"
	DefaultSubnet = "10.89.0.0/24"
)

// DefaultPluginDirs are the directories searched for CNI plugins: Debian's
// containernetworking-plugins package installs them in /usr/lib/cni, the
// upstream release archives in /opt/cni/bin.
var DefaultPluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// pluginPackage is the Debian package that installs the CNI plugins.
const pluginPackage = "containernetworking-plugins"

// cniVersion is the CNI spec version of the configuration. Debian's plugins
// 1.1.1 support spec versions up to 1.0.0, libcni 1.3 up to 1.1.0.
const cniVersion = "1.0.0"

// ifName is the name of the pod's interface inside its network namespace.
const ifName = "eth0"

// Config describes the bridge network of a Manager.
type Config struct {
	// PluginDirs are searched in order for the CNI plugin binaries.
	// Default: DefaultPluginDirs.
	PluginDirs []string
	// ConfDir is the directory where New writes the network configuration
	// list, NAME.conflist. Required; for example ROOT/networks.
	ConfDir string
	// CacheDir is libcni's cache of ADD results, which Teardown reads.
	// Required; for example RUNROOT/cni. It must survive a daemon restart
	// for as long as the pods' addresses stay allocated.
	CacheDir string
	// IPAMDir is the host-local plugin's data directory, which holds one
	// file per allocated address. Default: CacheDir/ipam.
	IPAMDir string
	// Name is the CNI network name. It keys the cache and the IPAM files,
	// so two Managers on one host need different names. Default: "podplug".
	Name string
	// Subnet is the private IPv4 prefix pods get addresses from, with a
	// prefix length from 8 to 30. The bridge takes its first address.
	// Default: DefaultSubnet.
	Subnet string
	// Bridge is the name of the host bridge interface, created by the
	// bridge plugin on first use. Default: DefaultBridge.
	Bridge string
	// Logger receives debug logs for each step and info logs for each
	// set-up and torn-down pod. Default: discard.
	Logger *slog.Logger
}

// networkNameRE is the CNI network name syntax libcni enforces.
var networkNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

// withDefaults returns cfg with empty fields set to their defaults, and
// checks every field.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.PluginDirs) == 0 {
		cfg.PluginDirs = DefaultPluginDirs
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Subnet == "" {
		cfg.Subnet = DefaultSubnet
	}
	if cfg.Bridge == "" {
		cfg.Bridge = DefaultBridge
	}
	if cfg.IPAMDir == "" && cfg.CacheDir != "" {
		cfg.IPAMDir = filepath.Join(cfg.CacheDir, "ipam")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	if err := cfg.check(); err != nil {
		return cfg, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return cfg, nil
}

func (cfg Config) check() error {
	dirs := map[string]string{
		"ConfDir": cfg.ConfDir, "CacheDir": cfg.CacheDir, "IPAMDir": cfg.IPAMDir,
	}
	for field, dir := range dirs {
		if !filepath.IsAbs(dir) {
			return fmt.Errorf("%s %q is not an absolute path", field, dir)
		}
	}
	if !networkNameRE.MatchString(cfg.Name) {
		return fmt.Errorf("network name %q is invalid: use letters, digits, '_', '.' and '-'",
			cfg.Name)
	}
	if err := checkBridgeName(cfg.Bridge); err != nil {
		return err
	}
	_, err := parseSubnet(cfg.Subnet)
	return err
}

// checkBridgeName applies the kernel's rules for interface names: at most
// 15 bytes, no '/', ':' or white space, and not "." or "..".
func checkBridgeName(name string) error {
	if len(name) > 15 || name == "." || name == ".." ||
		strings.ContainsAny(name, "/: \t\n") {
		return fmt.Errorf("bridge name %q is invalid: use at most 15 characters "+
			"without '/', ':' or spaces", name)
	}
	return nil
}

// parseSubnet parses a bridge subnet: a private IPv4 prefix in canonical
// form with room for the bridge address and at least one pod.
func parseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("subnet %q is not a CIDR prefix such as %s", s, DefaultSubnet)
	}
	if !p.Addr().Is4() {
		return p, fmt.Errorf("subnet %q is not IPv4; the pod network is IPv4 only", s)
	}
	if p.Masked() != p {
		return p, fmt.Errorf("subnet %q has host bits set; write %s", s, p.Masked())
	}
	if p.Bits() < 8 || p.Bits() > 30 {
		return p, fmt.Errorf("subnet %q has prefix length %d; use 8 to 30", s, p.Bits())
	}
	if !p.Addr().IsPrivate() {
		return p, fmt.Errorf("subnet %q is not a private range (10.0.0.0/8, "+
			"172.16.0.0/12, 192.168.0.0/16)", s)
	}
	return p, nil
}

// gatewayOf returns the bridge address of a subnet: its first host address.
func gatewayOf(subnet netip.Prefix) netip.Addr {
	return subnet.Addr().Next()
}

// conflist returns the CNI network configuration list for cfg, which must
// have passed withDefaults. The firewall plugin adds ACCEPT rules for the
// pod's address to the FORWARD chain, so pods also work on hosts whose
// FORWARD policy is DROP, as Docker sets it. The tuning plugin is left out
// because podplug sets no sysctls or interface attributes through it.
func (cfg Config) conflist() ([]byte, error) {
	subnet, err := parseSubnet(cfg.Subnet)
	if err != nil {
		return nil, err
	}

	bridge := map[string]any{
		"type":        "bridge",
		"bridge":      cfg.Bridge,
		"isGateway":   true,
		"ipMasq":      true,
		"hairpinMode": true,
		"ipam": map[string]any{
			"type": "host-local",
			"ranges": [][]map[string]string{{{
				"subnet":  subnet.String(),
				"gateway": gatewayOf(subnet).String(),
			}}},
			"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
			"dataDir": cfg.IPAMDir,
		},
	}
	portmap := map[string]any{
		"type":         "portmap",
		"capabilities": map[string]bool{"portMappings": true},
		"snat":         true,
	}
	firewall := map[string]any{
		"type":    "firewall",
		"backend": "iptables",
	}
	list := map[string]any{
		"cniVersion": cniVersion,
		"name":       cfg.Name,
		"plugins":    []any{bridge, portmap, firewall},
	}
	return json.MarshalIndent(list, "", "  ")
}

// writeFileAtomic replaces path with data so that readers see either the
// old or the new file, never a partial one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())

	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
