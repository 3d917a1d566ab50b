package engine

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/userns"
	"github.com/podplug/podplug/store"
)

// idRangesBucket keeps the block of host ids allotted to each tenant that
// the tenants file gives no ids: the key is the tenant, the value a
// model.IDMap. A tenant keeps its block for the life of the store.
const idRangesBucket = "idranges"

// subIDUser is the user whose entries in the subordinate id files give the
// host ids that podplug allots to tenants.
const subIDUser = "podplug"

// Default subordinate id files, read when Config leaves them empty.
const (
	defaultSubUIDFile = "/etc/subuid"
	defaultSubGIDFile = "/etc/subgid"
)

// TenantIDMap returns the host ids for the user namespaces of tenant's
// pods. explicit is the range the operator gave the tenant, or nil; reserved
// lists the ranges the operator gave every other tenant.
//
// With explicit set, TenantIDMap returns it unless it overlaps a block
// allotted earlier to another tenant. Otherwise the tenant gets its stored
// block. A tenant without one gets a new block of userns.BlockSize ids
// from the entries of user "podplug" in the subordinate id files, one that
// overlaps no other tenant's ids. The block is stored, so the tenant keeps
// it across restarts. The error wraps ErrNoIDRange when the files list no
// such block or every block is in use, and ErrConflict when ranges overlap.
// TenantIDMap is safe for concurrent use.
func (e *Engine) TenantIDMap(tenant string, explicit *model.IDMap,
	reserved []model.IDMap) (*model.IDMap, error) {
	// Badger detects conflicts on keys a transaction read, not on a range
	// scan that found nothing, so two allocations in parallel could pick
	// the same block. One daemon owns the store, so a mutex suffices.
	e.idMu.Lock()
	defer e.idMu.Unlock()

	var out model.IDMap
	err := e.db.Update(func(tx *store.Tx) error {
		allotted, err := allottedIDMaps(tx)
		if err != nil {
			return err
		}
		if explicit != nil {
			if other, ok := overlappingTenant(*explicit, allotted, tenant); ok {
				return fmt.Errorf("ids %s of tenant %s overlap the block %s allotted to tenant %s: "+
					"give tenant %s ids outside it: %w", formatIDMap(*explicit), tenant,
					formatIDMap(allotted[other]), other, tenant, ErrConflict)
			}
			out = *explicit
			return nil
		}
		if own, ok := allotted[tenant]; ok {
			return checkAllotted(tenant, own, reserved, &out)
		}
		out, err = e.allotIDMap(tenant, allotted, reserved)
		if err != nil {
			return err
		}
		return tx.PutRecord(idRangesBucket, tenant, out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// checkAllotted sets out to a tenant's stored block unless the operator has
// since given another tenant ids inside it.
func checkAllotted(tenant string, own model.IDMap, reserved []model.IDMap, out *model.IDMap) error {
	for _, r := range reserved {
		if own.Overlaps(r) {
			return fmt.Errorf("block %s allotted to tenant %s overlaps ids %s that the tenants file "+
				"gives another tenant: give that tenant other ids, or tenant %s its own ids: %w",
				formatIDMap(own), tenant, formatIDMap(r), tenant, ErrConflict)
		}
	}
	*out = own
	return nil
}

// allotIDMap picks a free block from the subordinate id files.
func (e *Engine) allotIDMap(tenant string, allotted map[string]model.IDMap,
	reserved []model.IDMap) (model.IDMap, error) {
	uidFile, gidFile := e.subIDFiles()
	uids, err := userns.ReadSubIDs(uidFile, subIDUser)
	if err != nil {
		return model.IDMap{}, err
	}
	gids, err := userns.ReadSubIDs(gidFile, subIDUser)
	if err != nil {
		return model.IDMap{}, err
	}
	taken := append([]model.IDMap(nil), reserved...)
	for _, m := range allotted {
		taken = append(taken, m)
	}
	m, err := userns.Allocate(uids, gids, taken)
	if errors.Is(err, userns.ErrNoRanges) {
		return m, fmt.Errorf("tenant %s has no host ids for user namespaces: add `ids: {start: START, "+
			"size: %d}` to the tenant in the tenants file, or a line %s:START:COUNT (COUNT at least %d) "+
			"to %s and %s: %w", tenant, userns.BlockSize, subIDUser, userns.BlockSize, uidFile, gidFile,
			ErrNoIDRange)
	}
	if err != nil {
		return m, fmt.Errorf("tenant %s: allot host ids from user %s in %s and %s: %v: enlarge the "+
			"range or give the tenant `ids` in the tenants file: %w", tenant, subIDUser, uidFile, gidFile,
			err, ErrNoIDRange)
	}
	e.log.Info("allotted host ids to tenant", "tenant", tenant, "uid", m.HostUID, "gid", m.HostGID,
		"size", m.Size)
	return m, nil
}

func (e *Engine) subIDFiles() (uidFile, gidFile string) {
	uidFile, gidFile = e.cfg.SubUIDFile, e.cfg.SubGIDFile
	if uidFile == "" {
		uidFile = defaultSubUIDFile
	}
	if gidFile == "" {
		gidFile = defaultSubGIDFile
	}
	return uidFile, gidFile
}

// allottedIDMaps returns the stored block of every tenant.
func allottedIDMaps(tx *store.Tx) (map[string]model.IDMap, error) {
	allotted := map[string]model.IDMap{}
	err := tx.ListRecords(idRangesBucket, func(tenant string, value []byte) error {
		var m model.IDMap
		if err := json.Unmarshal(value, &m); err != nil {
			return fmt.Errorf("id range of tenant %s: %w", tenant, err)
		}
		allotted[tenant] = m
		return nil
	})
	return allotted, err
}

// overlappingTenant returns a tenant other than self whose block overlaps m.
func overlappingTenant(m model.IDMap, allotted map[string]model.IDMap, self string) (string, bool) {
	for tenant, other := range allotted {
		if tenant != self && m.Overlaps(other) {
			return tenant, true
		}
	}
	return "", false
}

func formatIDMap(m model.IDMap) string {
	if m.HostUID == m.HostGID {
		return fmt.Sprintf("%d-%d", m.HostUID, uint64(m.HostUID)+uint64(m.Size)-1)
	}
	return fmt.Sprintf("uids %d-%d gids %d-%d", m.HostUID, uint64(m.HostUID)+uint64(m.Size)-1,
		m.HostGID, uint64(m.HostGID)+uint64(m.Size)-1)
}

// checkIDMap rejects a map that is empty, runs past the largest id, or maps
// the container's root onto the host's root.
func checkIDMap(pod string, m *model.IDMap) error {
	switch {
	case m.Size == 0:
		return invalidf("pod %s: id map has size 0", pod)
	case uint64(m.HostUID)+uint64(m.Size) > 1<<32, uint64(m.HostGID)+uint64(m.Size) > 1<<32:
		return invalidf("pod %s: id map %s ends beyond the largest id", pod, formatIDMap(*m))
	case m.HostUID == 0 || m.HostGID == 0:
		return invalidf("pod %s: id map %s maps the container's root to the host's root", pod,
			formatIDMap(*m))
	}
	return nil
}
