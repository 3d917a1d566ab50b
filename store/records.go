package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// identity is the part of a pod or container that its indexes are built from.
type identity struct {
	id     string
	tenant string
	name   string
}

func (k kind) validate(cur identity) error {
	if cur.id == "" {
		return fmt.Errorf("%s %q: %w: empty ID", k.noun, cur.name, ErrInvalid)
	}
	if cur.name == "" {
		return fmt.Errorf("%s %q: %w: empty name", k.noun, cur.id, ErrInvalid)
	}
	return nil
}

// getRecord decodes the record with id into v.
func (tx *Tx) getRecord(k kind, id string, v any) error {
	err := tx.readJSON(k.recordKey(id), v)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("%s %q: %w", k.noun, id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("get %s %q: %w", k.noun, id, err)
	}
	return nil
}

// lookupID resolves ref among the tenant's records: an exact name first, then
// an exact ID, then a unique ID prefix.
func (tx *Tx) lookupID(k kind, tenant, ref string) (string, error) {
	id, err := tx.readValue(k.nameKey(tenant, ref))
	if err == nil {
		return string(id), nil
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return "", fmt.Errorf("look up %s %q: %w", k.noun, ref, err)
	}
	return tx.matchID(k.tenantKey(tenant, ""), ref, k.noun, ref)
}

// putRecord writes record v, whose identity is cur, and moves its index
// entries from old, the stored identity, which is nil for a new record.
func (tx *Tx) putRecord(k kind, old *identity, cur identity, v any) error {
	if err := tx.claimName(k, cur); err != nil {
		return err
	}
	if err := tx.putIndexes(k, old, cur); err != nil {
		return fmt.Errorf("put %s %q: %w", k.noun, cur.name, err)
	}
	if err := tx.writeJSON(k.recordKey(cur.id), v); err != nil {
		return fmt.Errorf("put %s %q: %w", k.noun, cur.name, err)
	}
	return nil
}

// claimName returns ErrNameInUse when another record has cur's name in cur's
// tenant. Reading the name key also makes two transactions that claim the
// same name conflict, so one of them is retried and then fails here.
func (tx *Tx) claimName(k kind, cur identity) error {
	owner, err := tx.readValue(k.nameKey(cur.tenant, cur.name))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("put %s %q: %w", k.noun, cur.name, err)
	case string(owner) != cur.id:
		return fmt.Errorf("%s name %q: %w", k.noun, cur.name, ErrNameInUse)
	}
	return nil
}

func (tx *Tx) putIndexes(k kind, old *identity, cur identity) error {
	if old != nil && (old.tenant != cur.tenant || old.name != cur.name) {
		if err := tx.deleteIfValue(k.nameKey(old.tenant, old.name), old.id); err != nil {
			return err
		}
	}
	if old != nil && old.tenant != cur.tenant {
		if err := tx.txn.Delete(k.tenantKey(old.tenant, old.id)); err != nil {
			return err
		}
	}
	if err := tx.txn.Set(k.nameKey(cur.tenant, cur.name), []byte(cur.id)); err != nil {
		return err
	}
	return tx.txn.Set(k.tenantKey(cur.tenant, cur.id), []byte{})
}

// deleteRecord deletes the record and its name and tenant index entries.
func (tx *Tx) deleteRecord(k kind, old identity) error {
	err := tx.deleteIfValue(k.nameKey(old.tenant, old.name), old.id)
	if err == nil {
		err = tx.txn.Delete(k.tenantKey(old.tenant, old.id))
	}
	if err == nil {
		err = tx.txn.Delete(k.recordKey(old.id))
	}
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", k.noun, old.id, err)
	}
	return nil
}
