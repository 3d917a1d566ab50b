package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/store"
)

// AllTenants is the scope of an administrator: lookups and listings span
// every tenant. A reference may then be TENANT/NAME. A bare name resolves in
// the administrator's own tenant first, else it must be unique across
// tenants.
const AllTenants = "*"

func inScope(scope, tenant string) bool { return scope == AllTenants || scope == tenant }

// lookupAcross resolves ref among records of every tenant: TENANT/NAME,
// then a name unique across tenants, then an exact ID, then a unique ID
// prefix.
func lookupAcross[T any](kind, ref string, all []*T, lookup func(tenant, ref string) (*T, error),
	identity func(*T) (id, name, tenant string)) (*T, error) {
	if tenant, name, ok := strings.Cut(ref, "/"); ok {
		return lookup(tenant, name)
	}
	var byName, byPrefix []*T
	var tenants []string
	for _, rec := range all {
		id, name, tenant := identity(rec)
		switch {
		case id == ref:
			return rec, nil
		case name == ref:
			byName = append(byName, rec)
			tenants = append(tenants, tenant)
		case strings.HasPrefix(id, ref):
			byPrefix = append(byPrefix, rec)
		}
	}
	switch {
	case len(byName) == 1:
		return byName[0], nil
	case len(byName) > 1:
		sort.Strings(tenants)
		return nil, fmt.Errorf("%s %q exists in tenants %s: use TENANT/NAME or the ID: %w",
			kind, ref, strings.Join(tenants, ", "), store.ErrAmbiguous)
	case len(byPrefix) == 1:
		return byPrefix[0], nil
	case len(byPrefix) > 1:
		return nil, fmt.Errorf("%s %q: %w", kind, ref, store.ErrAmbiguous)
	}
	return nil, fmt.Errorf("%s %q: %w", kind, ref, store.ErrNotFound)
}

// An administrator's bare reference resolves first as an ID and then in the
// administrator's own tenant (the empty one), both index lookups, before
// the scan over every tenant.
func (e *Engine) lookupPodAcross(ref string) (*model.Pod, error) {
	var pod *model.Pod
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		if pod, err = tx.GetPod(ref); err == nil {
			return nil
		}
		if pod, err = tx.LookupPod("", ref); err == nil {
			return nil
		}
		pods, err := tx.ListPods()
		if err != nil {
			return err
		}
		pod, err = lookupAcross("pod", ref, pods, tx.LookupPod, func(p *model.Pod) (string, string, string) {
			return p.ID, p.Name, p.Owner.Tenant
		})
		return err
	})
	return pod, err
}

func (e *Engine) lookupContainerAcross(ref string) (*model.Container, error) {
	var c *model.Container
	err := e.db.View(func(tx *store.Tx) error {
		var err error
		if c, err = tx.GetContainer(ref); err == nil {
			return nil
		}
		if c, err = tx.LookupContainer("", ref); err == nil {
			return nil
		}
		ctrs, err := tx.ListContainers()
		if err != nil {
			return err
		}
		c, err = lookupAcross("container", ref, ctrs, tx.LookupContainer,
			func(c *model.Container) (string, string, string) { return c.ID, c.Name, c.Owner.Tenant })
		return err
	})
	return c, err
}
