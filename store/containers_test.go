package store

import (
	"testing"
)

func testContainerNameInUse(t *testing.T, s *Store) {
	putContainers(t, s, newContainer("c1", "p1", "acme", "db", 0))

	err := s.Update(func(tx *Tx) error {
		return tx.PutContainer(newContainer("c2", "p2", "acme", "db", 1))
	})
	wantErrorIs(t, err, ErrNameInUse)

	putContainers(t, s, newContainer("c3", "p3", "other", "db", 2))
}

func testContainerNamesSeparate(t *testing.T, s *Store) {
	putPods(t, s, newPod("p1", "acme", "web", 0))
	putContainers(t, s, newContainer("c1", "p1", "acme", "web", 0))

	view(t, s, func(tx *Tx) error {
		p, err := tx.LookupPod("acme", "web")
		if err != nil {
			return err
		}
		wantEqual(t, "pod ID", p.ID, "p1")

		c, err := tx.LookupContainer("acme", "web")
		if err != nil {
			return err
		}
		wantEqual(t, "container ID", c.ID, "c1")
		return nil
	})
}

func testContainerRenameDelete(t *testing.T, s *Store) {
	c := newContainer("c1", "p1", "acme", "db", 0)
	putContainers(t, s, c)
	c.Name = "cache"
	putContainers(t, s, c)

	view(t, s, func(tx *Tx) error {
		_, err := tx.LookupContainer("acme", "db")
		wantErrorIs(t, err, ErrNotFound)
		got, err := tx.LookupContainer("acme", "cache")
		if err != nil {
			return err
		}
		wantEqual(t, "container", got, c)
		return nil
	})

	update(t, s, func(tx *Tx) error { return tx.DeleteContainer("c1") })
	view(t, s, func(tx *Tx) error {
		_, err := tx.LookupContainer("acme", "cache")
		wantErrorIs(t, err, ErrNotFound)
		containers, err := tx.PodContainers("p1")
		if err != nil {
			return err
		}
		wantEqual(t, "containers of p1", len(containers), 0)
		return nil
	})

	err := s.Update(func(tx *Tx) error { return tx.DeleteContainer("c1") })
	wantErrorIs(t, err, ErrNotFound)
}

func testListContainersOrder(t *testing.T, s *Store) {
	putContainers(t, s,
		newContainer("c3", "p1", "acme", "late", 5),
		newContainer("c2", "p2", "other", "tie-b", 1),
		newContainer("c1", "p1", "acme", "tie-a", 1),
	)

	view(t, s, func(tx *Tx) error {
		containers, err := tx.ListContainers()
		if err != nil {
			return err
		}
		wantEqual(t, "container IDs", containerIDs(containers), []string{"c1", "c2", "c3"})
		return nil
	})
}

func testPodContainersOrder(t *testing.T, s *Store) {
	putPods(t, s, newPod("p1", "acme", "web", 0), newPod("p2", "acme", "db", 0))
	// Insertion order differs from creation order on purpose.
	putContainers(t, s,
		newContainer("c3", "p1", "acme", "app", 3),
		newContainer("c2b", "p1", "acme", "init-b", 2),
		newContainer("x1", "p2", "acme", "other", 0),
		newContainer("c2a", "p1", "acme", "init-a", 2),
		newContainer("c1", "p1", "acme", "infra", 1),
	)

	view(t, s, func(tx *Tx) error {
		containers, err := tx.PodContainers("p1")
		if err != nil {
			return err
		}
		wantEqual(t, "container IDs", containerIDs(containers),
			[]string{"c1", "c2a", "c2b", "c3"})
		return nil
	})
}

func testPodContainersMoves(t *testing.T, s *Store) {
	c := newContainer("c1", "p1", "acme", "app", 0)
	putContainers(t, s, c)
	c.PodID = "p2"
	putContainers(t, s, c)

	view(t, s, func(tx *Tx) error {
		old, err := tx.PodContainers("p1")
		if err != nil {
			return err
		}
		wantEqual(t, "containers of p1", containerIDs(old), []string{})

		cur, err := tx.PodContainers("p2")
		if err != nil {
			return err
		}
		wantEqual(t, "containers of p2", containerIDs(cur), []string{"c1"})
		return nil
	})
}

// testPodContainersPrefixID checks that the pod index scan for pod "ab" does
// not reach pod "abc".
func testPodContainersPrefixID(t *testing.T, s *Store) {
	putContainers(t, s,
		newContainer("c1", "ab", "acme", "one", 0),
		newContainer("c2", "abc", "acme", "two", 1),
	)

	view(t, s, func(tx *Tx) error {
		containers, err := tx.PodContainers("ab")
		if err != nil {
			return err
		}
		wantEqual(t, "containers of ab", containerIDs(containers), []string{"c1"})
		return nil
	})
}
