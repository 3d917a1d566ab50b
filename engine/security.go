package engine

import (
	"go.podman.io/common/pkg/capabilities"
	"go.podman.io/common/pkg/config"

	"github.com/podplug/podplug/engine/model"
)

// applySecurity copies the privilege options of spec to c. Capability names
// are stored as CAP_X, so the spec generator and policies see one spelling,
// and a name the kernel does not know or a capability both added and
// dropped is rejected here rather than at start.
func applySecurity(c *model.Container, spec ContainerSpec) error {
	add, err := capabilities.NormalizeCapabilities(spec.CapAdd)
	if err != nil {
		return invalidf("container %s: cap-add: %v", c.Name, err)
	}
	drop, err := capabilities.NormalizeCapabilities(spec.CapDrop)
	if err != nil {
		return invalidf("container %s: cap-drop: %v", c.Name, err)
	}
	if _, err := capabilities.MergeCapabilities(config.DefaultCapabilities, add, drop); err != nil {
		return invalidf("container %s: capabilities: %v", c.Name, err)
	}
	c.Privileged = spec.Privileged
	c.CapAdd = emptyToNil(add)
	c.CapDrop = emptyToNil(drop)
	c.ReadOnlyRootfs = spec.ReadOnlyRootfs
	return nil
}

func emptyToNil(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}
