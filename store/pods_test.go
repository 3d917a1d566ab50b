package store

import (
	"testing"

	"github.com/podplug/podplug/engine/model"
)

func testPodRoundTrip(t *testing.T, s *Store) {
	want := newPod("a1b2c3", "acme", "web", 0)
	want.Labels = map[string]string{"app": "shop"}
	want.Hostname = "web"
	want.Infra = true
	want.InfraID = "infra1"
	want.Share = []string{model.NamespaceNet, model.NamespaceIPC}
	want.CPUs = 1.5
	want.MemoryBytes = 256 << 20
	want.CgroupParent = "podplug.slice"
	putPods(t, s, want)

	view(t, s, func(tx *Tx) error {
		got, err := tx.GetPod("a1b2c3")
		if err != nil {
			return err
		}
		wantEqual(t, "pod", got, want)
		return nil
	})
}

// lookupCase is one reference resolved in one tenant, shared by the pod and
// container lookup tests.
type lookupCase struct {
	name    string
	tenant  string
	ref     string
	wantID  string
	wantErr error
}

// lookupRecords are the (id, tenant, name) triples the lookup cases run on.
var lookupRecords = [][3]string{
	{"a1b2c3", "acme", "web"},
	{"a1ffff", "acme", "db"},
	{"b00000", "acme", "a1"}, // a name that is also a prefix of two IDs
	{"d0", "acme", "short"},
	{"d0d0", "acme", "long"},
	{"c0ffee", "other", "web"},
}

var lookupCases = []lookupCase{
	{name: "name", tenant: "acme", ref: "web", wantID: "a1b2c3"},
	{name: "same name other tenant", tenant: "other", ref: "web", wantID: "c0ffee"},
	{name: "exact ID", tenant: "acme", ref: "a1ffff", wantID: "a1ffff"},
	{name: "unique prefix", tenant: "acme", ref: "a1b", wantID: "a1b2c3"},
	{name: "one character prefix", tenant: "acme", ref: "b", wantID: "b00000"},
	{name: "name before prefix", tenant: "acme", ref: "a1", wantID: "b00000"},
	{name: "exact ID before prefix", tenant: "acme", ref: "d0", wantID: "d0"},
	{name: "longer prefix", tenant: "acme", ref: "d0d", wantID: "d0d0"},
	{name: "ambiguous prefix", tenant: "acme", ref: "a", wantErr: ErrAmbiguous},
	{name: "unknown name", tenant: "acme", ref: "cache", wantErr: ErrNotFound},
	{name: "empty ref", tenant: "acme", ref: "", wantErr: ErrNotFound},
	{name: "other tenant ID", tenant: "acme", ref: "c0ffee", wantErr: ErrNotFound},
	{name: "other tenant prefix", tenant: "acme", ref: "c0", wantErr: ErrNotFound},
	{name: "unknown tenant", tenant: "nobody", ref: "web", wantErr: ErrNotFound},
}

// lookupFunc resolves ref in tenant and returns the ID found.
type lookupFunc func(tx *Tx, tenant, ref string) (string, error)

func runLookupCases(t *testing.T, s *Store, lookup lookupFunc) {
	t.Helper()
	for _, c := range lookupCases {
		t.Run(c.name, func(t *testing.T) {
			var id string
			err := s.View(func(tx *Tx) error {
				var err error
				id, err = lookup(tx, c.tenant, c.ref)
				return err
			})
			if c.wantErr != nil {
				wantErrorIs(t, err, c.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "ID", id, c.wantID)
		})
	}
}

func testPodLookup(t *testing.T, s *Store) {
	for i, r := range lookupRecords {
		putPods(t, s, newPod(r[0], r[1], r[2], i))
	}
	runLookupCases(t, s, func(tx *Tx, tenant, ref string) (string, error) {
		p, err := tx.LookupPod(tenant, ref)
		if err != nil {
			return "", err
		}
		return p.ID, nil
	})
}

func testContainerLookup(t *testing.T, s *Store) {
	for i, r := range lookupRecords {
		putContainers(t, s, newContainer(r[0], "pod-"+r[1], r[1], r[2], i))
	}
	runLookupCases(t, s, func(tx *Tx, tenant, ref string) (string, error) {
		c, err := tx.LookupContainer(tenant, ref)
		if err != nil {
			return "", err
		}
		return c.ID, nil
	})
}

func testPodNameInUse(t *testing.T, s *Store) {
	putPods(t, s, newPod("a1", "acme", "web", 0))

	err := s.Update(func(tx *Tx) error { return tx.PutPod(newPod("b2", "acme", "web", 1)) })
	wantErrorIs(t, err, ErrNameInUse)

	// Another tenant may use the name, and the owner may put its pod again.
	putPods(t, s, newPod("c3", "other", "web", 2))
	putPods(t, s, newPod("a1", "acme", "web", 0))

	view(t, s, func(tx *Tx) error {
		_, err := tx.GetPod("b2")
		wantErrorIs(t, err, ErrNotFound)
		return nil
	})
}

func testPodRename(t *testing.T, s *Store) {
	putPods(t, s, newPod("a1", "acme", "web", 0))
	putPods(t, s, newPod("a1", "acme", "shop", 0))
	putPods(t, s, newPod("b2", "acme", "web", 1)) // the old name is free again

	view(t, s, func(tx *Tx) error {
		p, err := tx.LookupPod("acme", "shop")
		if err != nil {
			return err
		}
		wantEqual(t, "ID for new name", p.ID, "a1")

		p, err = tx.LookupPod("acme", "web")
		if err != nil {
			return err
		}
		wantEqual(t, "ID for old name", p.ID, "b2")
		return nil
	})
}

func testPodTenantChange(t *testing.T, s *Store) {
	putPods(t, s, newPod("a1", "acme", "web", 0))
	putPods(t, s, newPod("a1", "other", "web", 0))

	view(t, s, func(tx *Tx) error {
		_, err := tx.LookupPod("acme", "web")
		wantErrorIs(t, err, ErrNotFound)
		_, err = tx.LookupPod("acme", "a1")
		wantErrorIs(t, err, ErrNotFound)

		p, err := tx.LookupPod("other", "a1")
		if err != nil {
			return err
		}
		wantEqual(t, "tenant", p.Owner.Tenant, "other")
		return nil
	})
	putPods(t, s, newPod("b2", "acme", "web", 1))
}

func testPodDelete(t *testing.T, s *Store) {
	putPods(t, s, newPod("a1", "acme", "web", 0))
	update(t, s, func(tx *Tx) error { return tx.DeletePod("a1") })

	view(t, s, func(tx *Tx) error {
		_, err := tx.GetPod("a1")
		wantErrorIs(t, err, ErrNotFound)
		_, err = tx.LookupPod("acme", "web")
		wantErrorIs(t, err, ErrNotFound)
		_, err = tx.LookupPod("acme", "a")
		wantErrorIs(t, err, ErrNotFound)
		return nil
	})

	err := s.Update(func(tx *Tx) error { return tx.DeletePod("a1") })
	wantErrorIs(t, err, ErrNotFound)
	putPods(t, s, newPod("b2", "acme", "web", 1))
}

func testPodInvalid(t *testing.T, s *Store) {
	cases := []struct {
		name string
		pod  *model.Pod
	}{
		{"empty ID", newPod("", "acme", "web", 0)},
		{"empty name", newPod("a1", "acme", "", 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(func(tx *Tx) error { return tx.PutPod(c.pod) })
			wantErrorIs(t, err, ErrInvalid)
		})
	}
}

func testListPodsOrder(t *testing.T, s *Store) {
	putPods(t, s,
		newPod("c3", "acme", "late", 5),
		newPod("b2", "other", "tie-b", 1),
		newPod("a1", "acme", "tie-a", 1),
		newPod("d4", "acme", "early", 0),
	)

	view(t, s, func(tx *Tx) error {
		pods, err := tx.ListPods()
		if err != nil {
			return err
		}
		wantEqual(t, "pod IDs", podIDs(pods), []string{"d4", "a1", "b2", "c3"})
		return nil
	})
}

func testLookupMessages(t *testing.T, s *Store) {
	putPods(t, s, newPod("a1", "acme", "web", 0), newPod("a2", "acme", "db", 1))
	putContainers(t, s, newContainer("c1", "a1", "acme", "db", 0))

	cases := []struct {
		name string
		run  func(tx *Tx) error
		want string
	}{
		{"pod not found", func(tx *Tx) error {
			_, err := tx.LookupPod("acme", "cache")
			return err
		}, `pod "cache": not found`},
		{"pod name in use", func(tx *Tx) error {
			return tx.PutPod(newPod("b1", "acme", "web", 2))
		}, `pod name "web": name in use`},
		{"container name in use", func(tx *Tx) error {
			return tx.PutContainer(newContainer("c2", "a1", "acme", "db", 1))
		}, `container name "db": name in use`},
		{"ambiguous", func(tx *Tx) error {
			_, err := tx.LookupPod("acme", "a")
			return err
		}, `pod "a": ambiguous ID prefix: matches a1, a2 and possibly more, so use a longer prefix`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(c.run)
			if err == nil {
				t.Fatal("error = nil")
			}
			wantEqual(t, "message", err.Error(), c.want)
		})
	}
}

// testTenantWithSlash checks that length-prefixed keys keep tenant "a/b" with
// name "c" apart from tenant "a" with name "b/c".
func testTenantWithSlash(t *testing.T, s *Store) {
	putPods(t, s, newPod("p1", "a/b", "c", 0), newPod("p2", "a", "b/c", 1))

	view(t, s, func(tx *Tx) error {
		p, err := tx.LookupPod("a/b", "c")
		if err != nil {
			return err
		}
		wantEqual(t, "ID in tenant a/b", p.ID, "p1")

		p, err = tx.LookupPod("a", "b/c")
		if err != nil {
			return err
		}
		wantEqual(t, "ID in tenant a", p.ID, "p2")

		_, err = tx.LookupPod("a", "p1")
		wantErrorIs(t, err, ErrNotFound)
		return nil
	})
}
