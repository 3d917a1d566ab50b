package api

import "github.com/podplug/podplug/engine/model"

// podIDMap returns the host ids of the user namespace of the pods that who
// creates. An admin's pods get none and run in the host's user namespace.
// A tenant gets the ids the tenants file gives it, or else a block that the
// engine allots from the subordinate ids of user "podplug" and keeps.
// Every route that creates pods sets engine.PodSpec.IDMap from it.
func (s *Server) podIDMap(who Subject) (*model.IDMap, error) {
	if who.Admin {
		return nil, nil
	}
	var explicit *model.IDMap
	if who.IDs != nil {
		m := who.IDs.idMap()
		explicit = &m
	}
	return s.eng.TenantIDMap(who.Tenant, explicit, s.tenants.reservedIDs(who.Tenant))
}

// reservedIDs returns the ids the tenants file gives tenants other than
// tenant. A nil t has none.
func (t *Tenants) reservedIDs(tenant string) []model.IDMap {
	if t == nil {
		return nil
	}
	var out []model.IDMap
	for _, tn := range t.Tenants {
		if tn.Name != tenant && tn.IDs != nil {
			out = append(out, tn.IDs.idMap())
		}
	}
	return out
}
