package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/network"
	"github.com/podplug/podplug/store"
)

// openNetwork prepares bridge networking. A host without the CNI plugins
// gets a manager whose Available reports why, and pods default to none.
func (e *Engine) openNetwork() error {
	mgr, err := network.New(network.Config{
		ConfDir:  filepath.Join(e.cfg.Root, "networks"),
		CacheDir: filepath.Join(e.cfg.RunRoot, "cni"),
		Logger:   e.log,
	})
	if err != nil {
		return err
	}
	e.net = mgr
	if ok, reason := mgr.Available(); !ok {
		e.log.Info("bridge networking unavailable; pods default to network none", "reason", reason)
	}
	return nil
}

// defaultNetwork is bridge when the CNI plugins work here, else none.
func (e *Engine) defaultNetwork() string {
	if ok, _ := e.net.Available(); ok {
		return model.NetworkBridge
	}
	return model.NetworkNone
}

// checkNetwork validates a pod's network mode and published ports.
func (e *Engine) checkNetwork(pod *model.Pod, publish []string) error {
	if pod.Network == "" {
		pod.Network = e.defaultNetwork()
	}
	if pod.Network == model.NetworkBridge {
		if ok, reason := e.net.Available(); !ok {
			return invalidf("pod %s: bridge networking is unavailable: %s", pod.Name, reason)
		}
	}
	if len(publish) > 0 && pod.Network != model.NetworkBridge {
		return invalidf("pod %s: --publish needs bridge networking, not %s", pod.Name, pod.Network)
	}
	if len(publish) > 0 && !pod.Infra {
		return invalidf("pod %s: --publish needs an infra container to hold the network", pod.Name)
	}
	for _, p := range publish {
		m, err := network.ParsePublish(p)
		if err != nil {
			return invalidf("pod %s: %v", pod.Name, err)
		}
		pod.Publish = append(pod.Publish, model.PortMapping{HostIP: m.HostIP, HostPort: m.HostPort,
			ContainerPort: m.ContainerPort, Protocol: m.Protocol})
	}
	return nil
}

func (e *Engine) netnsPath(pod *model.Pod) string {
	return filepath.Join(e.cfg.RunRoot, "netns", pod.ID)
}

// attachNetwork pins the infra container's network namespace with a bind
// mount and adds it to the bridge. It is called right after the infra
// container starts; on failure nothing of the attempt stays.
func (e *Engine) attachNetwork(ctx context.Context, pod *model.Pod, infraPID int) error {
	if pod.Network != model.NetworkBridge {
		return nil
	}
	path := e.netnsPath(pod)
	if err := pinNetns(infraPID, path); err != nil {
		return fmt.Errorf("pod %s: pin network namespace: %w", pod.Name, err)
	}
	var ports []network.PortMapping
	for _, p := range pod.Publish {
		ports = append(ports, network.PortMapping{HostIP: p.HostIP, HostPort: p.HostPort,
			ContainerPort: p.ContainerPort, Protocol: p.Protocol})
	}
	res, err := e.net.Setup(ctx, pod.ID, path, ports)
	if err != nil {
		unpinNetns(path)
		return err
	}
	status := &model.NetworkStatus{Address: res.Address.String(), Gateway: res.Gateway.String()}
	for _, p := range res.Ports {
		status.Ports = append(status.Ports, model.PortMapping{HostIP: p.HostIP, HostPort: p.HostPort,
			ContainerPort: p.ContainerPort, Protocol: p.Protocol})
	}
	return e.setNetworkStatus(pod.ID, status)
}

// detachNetwork removes the pod from the bridge and releases its address
// and port rules. It works when the namespace is gone already and when the
// pod was never attached.
func (e *Engine) detachNetwork(ctx context.Context, pod *model.Pod) {
	if pod.Network != model.NetworkBridge {
		return
	}
	path := e.netnsPath(pod)
	netns := path
	if _, err := os.Stat(path); err != nil {
		netns = ""
	}
	if err := e.net.Teardown(ctx, pod.ID, netns, nil); err != nil {
		e.log.Error("detach pod from bridge", "pod", pod.Name, "error", err)
	}
	unpinNetns(path)
	if err := e.setNetworkStatus(pod.ID, nil); err != nil && !errors.Is(err, store.ErrNotFound) {
		e.log.Error("record network detach", "pod", pod.Name, "error", err)
	}
}

func (e *Engine) setNetworkStatus(podID string, status *model.NetworkStatus) error {
	return e.db.Update(func(tx *store.Tx) error {
		pod, err := tx.GetPod(podID)
		if err != nil {
			return err
		}
		pod.NetworkStatus = status
		return tx.PutPod(pod)
	})
}

// reconcileNetworks detaches pods whose infra container no longer runs,
// such as after a reboot or an infra exit while the daemon was down.
func (e *Engine) reconcileNetworks(ctx context.Context) {
	attached, err := e.net.Attachments()
	if err != nil {
		e.log.Error("list network attachments", "error", err)
		return
	}
	for _, a := range attached {
		var pod *model.Pod
		var infra *model.Container
		err := e.db.View(func(tx *store.Tx) error {
			var err error
			if pod, err = tx.GetPod(a.PodID); err != nil {
				return err
			}
			infra, err = tx.GetContainer(pod.InfraID)
			return err
		})
		if err == nil && hasProcess(infra) {
			continue
		}
		if pod == nil {
			pod = &model.Pod{ID: a.PodID, Name: a.PodID, Network: model.NetworkBridge}
		}
		e.detachNetwork(ctx, pod)
	}
}

func pinNetns(pid int, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	src := fmt.Sprintf("/proc/%d/ns/net", pid)
	if err := unix.Mount(src, path, "", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func unpinNetns(path string) {
	_ = unix.Unmount(path, unix.MNT_DETACH)
	_ = os.Remove(path)
}
