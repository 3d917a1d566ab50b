package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/podplug/podplug/engine/model"
)

func podIdentity(p *model.Pod) identity {
	return identity{id: p.ID, tenant: p.Owner.Tenant, name: p.Name}
}

func podOrder(p *model.Pod) (time.Time, string) { return p.CreatedAt, p.ID }

// GetPod returns the pod with the given full ID, in any tenant.
func (tx *Tx) GetPod(id string) (*model.Pod, error) {
	p := new(model.Pod)
	if err := tx.getRecord(podKind, id, p); err != nil {
		return nil, err
	}
	return p, nil
}

// LookupPod finds one of the tenant's pods by ref: an exact name, else an
// exact ID, else an ID prefix of any length that only one of the tenant's
// pods has. Pods of other tenants never match. It returns ErrNotFound or
// ErrAmbiguous when ref does not pick exactly one pod.
func (tx *Tx) LookupPod(tenant, ref string) (*model.Pod, error) {
	id, err := tx.lookupID(podKind, tenant, ref)
	if err != nil {
		return nil, err
	}
	return tx.GetPod(id)
}

// PutPod inserts or updates p and its index entries, including after a rename
// or a change of p.Owner.Tenant. It returns ErrNameInUse when another pod of
// the tenant has p's name, and ErrInvalid when p.ID or p.Name is empty.
func (tx *Tx) PutPod(p *model.Pod) error {
	cur := podIdentity(p)
	if err := podKind.validate(cur); err != nil {
		return err
	}
	old, err := tx.GetPod(p.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}

	var stored *identity
	if old != nil {
		oldIdentity := podIdentity(old)
		stored = &oldIdentity
	}
	return tx.putRecord(podKind, stored, cur, p)
}

// DeletePod deletes the pod and its index entries. It leaves the pod's
// containers alone, so the caller deletes them first. It returns ErrNotFound
// when no pod has the ID.
func (tx *Tx) DeletePod(id string) error {
	old, err := tx.GetPod(id)
	if err != nil {
		return err
	}
	return tx.deleteRecord(podKind, podIdentity(old))
}

// ListPods returns all pods of all tenants, sorted by CreatedAt, then ID.
func (tx *Tx) ListPods() ([]*model.Pod, error) {
	pods, err := listJSON[model.Pod](tx, prefixPod)
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	sortByCreation(pods, podOrder)
	return pods, nil
}
