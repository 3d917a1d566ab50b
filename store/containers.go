package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/podplug/podplug/engine/model"
)

func containerIdentity(c *model.Container) identity {
	return identity{id: c.ID, tenant: c.Owner.Tenant, name: c.Name}
}

func containerOrder(c *model.Container) (time.Time, string) { return c.CreatedAt, c.ID }

func podContainerKey(podID, containerID string) []byte {
	return scopedKey(prefixPodContainer, podID, containerID)
}

// GetContainer returns the container with the given full ID, in any tenant.
func (tx *Tx) GetContainer(id string) (*model.Container, error) {
	c := new(model.Container)
	if err := tx.getRecord(containerKind, id, c); err != nil {
		return nil, err
	}
	return c, nil
}

// LookupContainer finds one of the tenant's containers by ref with the rules
// of LookupPod. Container names are separate from pod names.
func (tx *Tx) LookupContainer(tenant, ref string) (*model.Container, error) {
	id, err := tx.lookupID(containerKind, tenant, ref)
	if err != nil {
		return nil, err
	}
	return tx.GetContainer(id)
}

// PutContainer inserts or updates c, its name and tenant index entries and
// its entry in the index of its pod's containers. It returns ErrNameInUse
// when another container of the tenant has c's name, and ErrInvalid when
// c.ID or c.Name is empty. It does not check that c.PodID exists.
func (tx *Tx) PutContainer(c *model.Container) error {
	cur := containerIdentity(c)
	if err := containerKind.validate(cur); err != nil {
		return err
	}
	old, err := tx.GetContainer(c.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}

	var stored *identity
	if old != nil {
		oldIdentity := containerIdentity(old)
		stored = &oldIdentity
	}
	if err := tx.putRecord(containerKind, stored, cur, c); err != nil {
		return err
	}
	if err := tx.putPodContainer(old, c); err != nil {
		return fmt.Errorf("put container %q: %w", c.Name, err)
	}
	return nil
}

// putPodContainer moves c's pod index entry from old's pod to c's pod.
func (tx *Tx) putPodContainer(old, c *model.Container) error {
	if old != nil && old.PodID != "" && old.PodID != c.PodID {
		if err := tx.txn.Delete(podContainerKey(old.PodID, c.ID)); err != nil {
			return err
		}
	}
	if c.PodID == "" {
		return nil
	}
	return tx.txn.Set(podContainerKey(c.PodID, c.ID), []byte{})
}

// DeleteContainer deletes the container and its index entries. It returns
// ErrNotFound when no container has the ID.
func (tx *Tx) DeleteContainer(id string) error {
	old, err := tx.GetContainer(id)
	if err != nil {
		return err
	}
	if old.PodID != "" {
		if err := tx.txn.Delete(podContainerKey(old.PodID, id)); err != nil {
			return fmt.Errorf("delete container %q: %w", id, err)
		}
	}
	return tx.deleteRecord(containerKind, containerIdentity(old))
}

// ListContainers returns all containers of all tenants, sorted by CreatedAt,
// then ID.
func (tx *Tx) ListContainers() ([]*model.Container, error) {
	containers, err := listJSON[model.Container](tx, prefixContainer)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	sortByCreation(containers, containerOrder)
	return containers, nil
}

// PodContainers returns the containers of the pod, found through the pod's
// index entries, sorted by CreatedAt, then ID, which is the order init
// containers run in. A pod without containers, or without a record, gives an
// empty list.
func (tx *Tx) PodContainers(podID string) ([]*model.Container, error) {
	base := scopedKey(prefixPodContainer, podID, "")
	ids := tx.scanKeys(base, "", 0)

	containers := make([]*model.Container, 0, len(ids))
	for _, id := range ids {
		c, err := tx.GetContainer(id)
		if err != nil {
			return nil, fmt.Errorf("containers of pod %q: %w", podID, err)
		}
		containers = append(containers, c)
	}
	sortByCreation(containers, containerOrder)
	return containers, nil
}
