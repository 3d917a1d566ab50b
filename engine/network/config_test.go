package network

import (
	"encoding/json"
	"errors"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	return Config{
		ConfDir:  filepath.Join(dir, "networks"),
		CacheDir: filepath.Join(dir, "cni"),
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := testConfig(t).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Subnet != DefaultSubnet {
		t.Errorf("Subnet = %q, want %q", cfg.Subnet, DefaultSubnet)
	}
	if cfg.Bridge != DefaultBridge {
		t.Errorf("Bridge = %q, want %q", cfg.Bridge, DefaultBridge)
	}
	if cfg.Name != DefaultName {
		t.Errorf("Name = %q, want %q", cfg.Name, DefaultName)
	}
	if !slices.Equal(cfg.PluginDirs, DefaultPluginDirs) {
		t.Errorf("PluginDirs = %v, want %v", cfg.PluginDirs, DefaultPluginDirs)
	}
	if want := filepath.Join(cfg.CacheDir, "ipam"); cfg.IPAMDir != want {
		t.Errorf("IPAMDir = %q, want %q", cfg.IPAMDir, want)
	}
	if cfg.Logger == nil {
		t.Error("Logger is nil")
	}
}

func TestConfigRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"relative ConfDir", func(c *Config) { c.ConfDir = "networks" }},
		{"missing CacheDir", func(c *Config) { c.CacheDir = "" }},
		{"relative IPAMDir", func(c *Config) { c.IPAMDir = "ipam" }},
		{"name with slash", func(c *Config) { c.Name = "pod/plug" }},
		{"name starting with dash", func(c *Config) { c.Name = "-podplug" }},
		{"long bridge name", func(c *Config) { c.Bridge = "podplug-bridge-0" }},
		{"bridge name with colon", func(c *Config) { c.Bridge = "br:0" }},
		{"subnet not CIDR", func(c *Config) { c.Subnet = "10.89.0.0" }},
		{"subnet with host bits", func(c *Config) { c.Subnet = "10.89.0.1/24" }},
		{"subnet too small", func(c *Config) { c.Subnet = "10.89.0.0/31" }},
		{"subnet too large", func(c *Config) { c.Subnet = "10.0.0.0/7" }},
		{"public subnet", func(c *Config) { c.Subnet = "192.0.2.0/24" }},
		{"IPv6 subnet", func(c *Config) { c.Subnet = "fd00::/64" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			tt.change(&cfg)
			_, err := New(cfg)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New: got %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// conflist mirrors the parts of the written configuration the tests check.
type conflist struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []struct {
		Type         string          `json:"type"`
		Bridge       string          `json:"bridge"`
		IsGateway    bool            `json:"isGateway"`
		IPMasq       bool            `json:"ipMasq"`
		Capabilities map[string]bool `json:"capabilities"`
		SNAT         *bool           `json:"snat"`
		Backend      string          `json:"backend"`
		IPAM         struct {
			Type    string                `json:"type"`
			Ranges  [][]map[string]string `json:"ranges"`
			Routes  []map[string]string   `json:"routes"`
			DataDir string                `json:"dataDir"`
		} `json:"ipam"`
	} `json:"plugins"`
}

func TestNewWritesConflist(t *testing.T) {
	cfg := testConfig(t)
	cfg.Subnet = "172.20.5.0/24"
	cfg.Bridge = "ppconf0"
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cfg.ConfDir, "podplug.conflist"); m.ConfigPath() != want {
		t.Errorf("ConfigPath = %q, want %q", m.ConfigPath(), want)
	}
	data, err := os.ReadFile(m.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	var got conflist
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("parse %s: %v", m.ConfigPath(), err)
	}

	if got.CNIVersion != "1.0.0" || got.Name != "podplug" {
		t.Errorf("cniVersion %q, name %q; want 1.0.0, podplug", got.CNIVersion, got.Name)
	}
	var types []string
	for _, p := range got.Plugins {
		types = append(types, p.Type)
	}
	if want := []string{"bridge", "portmap", "firewall"}; !slices.Equal(types, want) {
		t.Fatalf("plugins %v, want %v", types, want)
	}

	bridge := got.Plugins[0]
	if bridge.Bridge != "ppconf0" || !bridge.IsGateway || !bridge.IPMasq {
		t.Errorf("bridge plugin %+v: want bridge ppconf0, isGateway, ipMasq", bridge)
	}
	if bridge.IPAM.Type != "host-local" {
		t.Errorf("IPAM type %q, want host-local", bridge.IPAM.Type)
	}
	wantRange := map[string]string{"subnet": "172.20.5.0/24", "gateway": "172.20.5.1"}
	if len(bridge.IPAM.Ranges) != 1 || len(bridge.IPAM.Ranges[0]) != 1 ||
		!maps.Equal(bridge.IPAM.Ranges[0][0], wantRange) {
		t.Errorf("IPAM ranges %v, want [[%v]]", bridge.IPAM.Ranges, wantRange)
	}
	if bridge.IPAM.DataDir != filepath.Join(cfg.CacheDir, "ipam") {
		t.Errorf("IPAM dataDir %q, want CacheDir/ipam", bridge.IPAM.DataDir)
	}

	portmap := got.Plugins[1]
	if !portmap.Capabilities["portMappings"] || portmap.SNAT == nil || !*portmap.SNAT {
		t.Errorf("portmap plugin %+v: want portMappings capability and snat", portmap)
	}
	if got.Plugins[2].Backend != "iptables" {
		t.Errorf("firewall backend %q, want iptables", got.Plugins[2].Backend)
	}
	if m.Gateway() != netip.MustParseAddr("172.20.5.1") {
		t.Errorf("Gateway = %s, want 172.20.5.1", m.Gateway())
	}
}

func TestNewReplacesConflist(t *testing.T) {
	cfg := testConfig(t)
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Subnet = "10.89.7.0/24"
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(m.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	var got conflist
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if subnet := got.Plugins[0].IPAM.Ranges[0][0]["subnet"]; subnet != "10.89.7.0/24" {
		t.Errorf("subnet %q after second New, want 10.89.7.0/24", subnet)
	}
	entries, err := os.ReadDir(cfg.ConfDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("ConfDir has %d entries, want only the conflist", len(entries))
	}
}

func TestReadRoutes(t *testing.T) {
	got, err := readRoutes(filepath.Join("testdata", "route"))
	if err != nil {
		t.Fatal(err)
	}
	want := []hostPrefix{
		{"eth0", netip.MustParsePrefix("0.0.0.0/0"), "route"},
		{"eth0", netip.MustParsePrefix("192.0.2.0/24"), "route"},
		{"docker0", netip.MustParsePrefix("172.17.0.0/16"), "route"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("readRoutes = %v, want %v", got, want)
	}
}

func TestSubnetConflict(t *testing.T) {
	host := []hostPrefix{
		{"eth0", netip.MustParsePrefix("0.0.0.0/0"), "route"},
		{"eth0", netip.MustParsePrefix("192.168.1.0/24"), "address"},
		{"docker0", netip.MustParsePrefix("172.17.0.0/16"), "route"},
		{"podplug0", netip.MustParsePrefix("10.89.0.0/24"), "route"},
	}
	tests := []struct {
		subnet string
		clash  string // interface named in the error, or "" for none
	}{
		{"10.89.0.0/24", ""},
		{"10.89.1.0/24", ""},
		{"192.168.1.0/24", "eth0"},
		{"192.168.0.0/16", "eth0"},
		{"172.17.3.0/24", "docker0"},
		{"10.0.0.0/8", ""}, // only the bridge's own route overlaps
	}
	for _, tt := range tests {
		t.Run(tt.subnet, func(t *testing.T) {
			err := subnetConflict(host, netip.MustParsePrefix(tt.subnet), "podplug0")
			if tt.clash == "" {
				if err != nil {
					t.Errorf("got %v, want no conflict", err)
				}
				return
			}
			if !errors.Is(err, ErrSubnetConflict) {
				t.Fatalf("got %v, want ErrSubnetConflict", err)
			}
			if !containsAll(err.Error(), tt.subnet, tt.clash) {
				t.Errorf("error %q does not name the subnet and %s", err, tt.clash)
			}
		})
	}
}

func TestMasqChainName(t *testing.T) {
	// Names the bridge plugin 1.1.1 gave pods in the root tests.
	tests := []struct{ network, pod, want string }{
		{"podplug-test", "pod-connect", "CNI-f6e297e70ef7d8c7897d9620"},
		{"podplug-test", "pod-gone", "CNI-cb94908bd38eba0e8ad73542"},
	}
	for _, tt := range tests {
		if got := masqChain(tt.network, tt.pod); got != tt.want {
			t.Errorf("masqChain(%q, %q) = %q, want %q", tt.network, tt.pod, got, tt.want)
		}
	}
}
