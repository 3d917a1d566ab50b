package kube

import (
	"fmt"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// maxCPUs and maxMemory bound a pod's limits: far above any machine, and
// below where the engine's CFS quota in microseconds or a byte count
// overflows an int64.
const (
	maxCPUs   = 1 << 30
	maxMemory = 1 << 62
)

// resourceLimits are the CPU and memory limits of one container or of the pod.
type resourceLimits struct {
	name   string // container name, empty for the pod
	init   bool
	cpu    float64 // cores; 0 means none
	memory int64   // bytes; 0 means none
}

// readLimits reads cpu and memory from a limits list at path and warns
// about any other resource.
func (t *translator) readLimits(list v1.ResourceList, path string) (resourceLimits, error) {
	var out resourceLimits
	for name, q := range list {
		fieldPath := fmt.Sprintf("%s[%q]", path, name)
		if q.Sign() < 0 {
			return out, t.invalid(fieldPath, "%s: must not be negative", q.String())
		}
		switch name {
		case v1.ResourceCPU:
			out.cpu = q.AsApproximateFloat64()
		case v1.ResourceMemory:
			out.memory = q.Value()
		default:
			t.warn(fieldPath, "not supported: ignored; podplug limits cpu and memory")
		}
	}
	return out, nil
}

// containerLimits records a container's limits for applyLimits.
func (t *translator) containerLimits(c *v1.Container, path string, init bool) error {
	l, err := t.readLimits(c.Resources.Limits, path+".resources.limits")
	if err != nil {
		return err
	}
	l.name, l.init = c.Name, init
	t.limits = append(t.limits, l)
	return nil
}

// applyLimits sets the pod's limits to spec.resources.limits where given.
// Otherwise each limit is the pod's effective limit as Kubernetes computes
// it: the larger of the sum over ordinary containers and the largest init
// container limit, because init containers run one at a time first.
func (t *translator) applyLimits() error {
	pod := resourceLimits{}
	if r := t.pod.Spec.Resources; r != nil {
		var err error
		if pod, err = t.readLimits(r.Limits, "spec.resources.limits"); err != nil {
			return err
		}
	}
	cpu := pod.cpu
	if cpu == 0 {
		cpu = t.effective("cpu", func(l resourceLimits) float64 { return l.cpu })
	}
	memory := float64(pod.memory)
	if memory == 0 {
		memory = t.effective("memory", func(l resourceLimits) float64 { return float64(l.memory) })
	}
	if cpu > maxCPUs {
		return t.invalid("spec", "the pod's cpu limit of %g cores is too large: the maximum is %d",
			cpu, maxCPUs)
	}
	if memory > maxMemory {
		return t.invalid("spec", "the pod's memory limit of %g bytes is too large: the maximum is %d",
			memory, int64(maxMemory))
	}
	t.out.Spec.CPUs = cpu
	if memory > 0 {
		t.out.Spec.Memory = strconv.FormatInt(int64(memory), 10)
	}
	return nil
}

// effective returns the pod's effective limit of one resource, and warns
// when only some ordinary containers set it, because a pod-wide limit
// then also caps the containers without one.
func (t *translator) effective(resource string, get func(resourceLimits) float64) float64 {
	var sum, maxInit float64
	var without []string
	for _, l := range t.limits {
		v := get(l)
		switch {
		case l.init:
			maxInit = max(maxInit, v)
		case v == 0:
			without = append(without, l.name)
		default:
			sum += v
		}
	}
	if sum > 0 && len(without) > 0 {
		t.warn("spec.containers", "containers %s set no %s limit: the pod's %s limit is the sum "+
			"of the other containers' limits and applies to them too",
			strings.Join(without, ", "), resource, resource)
	}
	if sum == 0 {
		return maxInit
	}
	return max(sum, maxInit)
}

// quantityCPU and quantityMemory write the engine's limits as Kubernetes
// quantities.
func quantityCPU(cores float64) resource.Quantity {
	return *resource.NewMilliQuantity(int64(cores*1000+0.5), resource.DecimalSI)
}

func quantityMemory(bytes int64) resource.Quantity {
	return *resource.NewQuantity(bytes, resource.BinarySI)
}
