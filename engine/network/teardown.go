package network

import (
	"context"
	"fmt"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

// Teardown detaches pod podID from the network (CNI DEL): it releases the
// pod's address, removes its NAT and firewall rules, and deletes its
// interface when netnsPath still names the pod's namespace.
//
// netnsPath is the path given to Setup, or "" when the namespace is gone.
// Never pass a /proc/PID/ns/net path of an exited infra process: the PID may
// belong to another process by now, and DEL would delete that namespace's
// eth0. The plugins release the address and rules from the cached ADD
// result, so "" is enough for them.
//
// After DEL, Teardown removes the pod's masquerade rules itself, because
// the bridge plugin 1.1.1 leaves them behind when the namespace is gone.
//
// Teardown uses the configuration and port mappings cached at Setup when
// the cache has them, and the current configuration and ports otherwise.
// It is idempotent: tearing down a pod that is not set up succeeds.
func (m *Manager) Teardown(ctx context.Context, podID, netnsPath string,
	ports []PortMapping) error {
	if err := checkPodID(podID); err != nil {
		return err
	}
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("tear down network of pod %s: %w", podID, err)
	}
	defer m.unlock()

	rt := m.runtimeConf(podID, netnsPath, ports)
	list, rt, cached, err := m.cachedConfig(rt)
	if err != nil {
		return fmt.Errorf("tear down network of pod %s: %w", podID, err)
	}

	m.log.Debug("cni del", "pod", podID, "netns", netnsPath)
	if err := m.cni.DelNetworkList(ctx, list, rt); err != nil {
		return fmt.Errorf("tear down network of pod %s: %w", podID, delError(err))
	}
	if err := removeMasquerade(ctx, list.Name, podID); err != nil {
		return fmt.Errorf("tear down network of pod %s: %w", podID, err)
	}
	if cached {
		m.log.Info("pod network torn down", "pod", podID)
	}
	return nil
}

// cachedConfig returns the network configuration and capability arguments
// that ADD used for rt's pod, so that a changed configuration or lost port
// list still tears down what ADD made, and reports whether the cache had
// them. Without a cache entry it returns the current configuration and rt
// unchanged.
func (m *Manager) cachedConfig(rt *libcni.RuntimeConf) (list *libcni.NetworkConfigList,
	out *libcni.RuntimeConf, cached bool, err error) {
	data, cachedRT, err := m.cni.GetNetworkListCachedConfig(m.list, rt)
	if err != nil {
		return nil, nil, false, fmt.Errorf("read cache: %w", err)
	}
	if data == nil {
		return m.list, rt, false, nil
	}

	list, err = libcni.NetworkConfFromBytes(data)
	if err != nil {
		return nil, nil, false, fmt.Errorf("parse cached network config: %w", err)
	}
	if cachedRT != nil && cachedRT.CapabilityArgs != nil {
		rt.CapabilityArgs = cachedRT.CapabilityArgs
	}
	return list, rt, true, nil
}

// delError marks a DEL that failed for a missing plugin with
// ErrPluginNotFound.
func delError(err error) error {
	if strings.Contains(err.Error(), "failed to find plugin") {
		return fmt.Errorf("%w: %v; install the %s package", ErrPluginNotFound, err,
			pluginPackage)
	}
	return err
}
