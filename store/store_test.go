package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/podplug/podplug/engine/model"
)

// backend opens a fresh, empty store of one kind.
type backend struct {
	name string
	open func(t testing.TB, opts Options) *Store
}

var backends = []backend{
	{name: "memory", open: openMemory},
	{name: "disk", open: func(t testing.TB, opts Options) *Store {
		return openDisk(t, t.TempDir(), opts)
	}},
}

func openMemory(t testing.TB, opts Options) *Store {
	t.Helper()
	opts.InMemory = true
	s, err := Open("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeStore(t, s) })
	return s
}

func openDisk(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeStore(t, s) })
	return s
}

func closeStore(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

// conformanceCases is the store's contract. TestConformance runs every case
// against every backend, each with a new store.
var conformanceCases = []struct {
	name string
	run  func(t *testing.T, s *Store)
}{
	{"pod round trip", testPodRoundTrip},
	{"pod lookup", testPodLookup},
	{"container lookup", testContainerLookup},
	{"pod name in use", testPodNameInUse},
	{"pod rename", testPodRename},
	{"pod tenant change", testPodTenantChange},
	{"pod delete", testPodDelete},
	{"pod invalid", testPodInvalid},
	{"list pods order", testListPodsOrder},
	{"lookup error messages", testLookupMessages},
	{"tenant with slash", testTenantWithSlash},
	{"container name in use", testContainerNameInUse},
	{"container names separate", testContainerNamesSeparate},
	{"container rename and delete", testContainerRenameDelete},
	{"list containers order", testListContainersOrder},
	{"pod containers order", testPodContainersOrder},
	{"pod containers moves", testPodContainersMoves},
	{"pod containers prefix ID", testPodContainersPrefixID},
	{"image lookup", testImageLookup},
	{"image name moves", testImageNameMoves},
	{"image name dropped", testImageNameDropped},
	{"image delete", testImageDelete},
	{"image invalid", testImageInvalid},
	{"list images order", testListImagesOrder},
	{"event seq order", testEventSeqOrder},
	{"event time", testEventTime},
	{"event read-only", testEventReadOnly},
	{"event rolled back", testEventRolledBack},
	{"events stop on error", testEventsStopOnError},
	{"plugin kv", testPluginKV},
	{"plugin kv scoped", testPluginKVScoped},
	{"plugin kv invalid", testPluginKVInvalid},
	{"update error rolls back", testUpdateRollsBack},
	{"concurrent counter", testConcurrentCounter},
	{"disjoint writes no conflict", testDisjointWritesNoConflict},
	{"closed store", testClosedStore},
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range conformanceCases {
				t.Run(c.name, func(t *testing.T) {
					c.run(t, b.open(t, Options{}))
				})
			}
		})
	}
}

// baseTime plus a fixture's minute offset is the fixture's CreatedAt.
var baseTime = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return baseTime.Add(time.Duration(n) * time.Minute) }

func newPod(id, tenant, name string, createdMinute int) *model.Pod {
	return &model.Pod{
		ID:         id,
		Name:       name,
		Owner:      model.Owner{UID: 1000, Tenant: tenant},
		ExitPolicy: model.ExitPolicyContinue,
		Network:    model.NetworkNone,
		CreatedAt:  minute(createdMinute),
	}
}

func newContainer(id, podID, tenant, name string, createdMinute int) *model.Container {
	return &model.Container{
		ID:        id,
		Name:      name,
		PodID:     podID,
		Owner:     model.Owner{UID: 1000, Tenant: tenant},
		Command:   []string{"sleep", "60"},
		Restart:   model.RestartPolicy{Name: model.RestartNo},
		CreatedAt: minute(createdMinute),
		Status:    model.ContainerStatus{State: model.StateCreated},
	}
}

func newImage(hex string, createdMinute int, names ...string) *model.Image {
	return &model.Image{
		ID:        "sha256:" + hex,
		Names:     names,
		Layers:    []string{"sha256:" + hex + "00"},
		Size:      1 << 20,
		CreatedAt: minute(createdMinute),
	}
}

func update(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func view(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.View(fn); err != nil {
		t.Fatal(err)
	}
}

func putPods(t testing.TB, s *Store, pods ...*model.Pod) {
	t.Helper()
	update(t, s, func(tx *Tx) error {
		for _, p := range pods {
			if err := tx.PutPod(p); err != nil {
				return err
			}
		}
		return nil
	})
}

func putContainers(t testing.TB, s *Store, containers ...*model.Container) {
	t.Helper()
	update(t, s, func(tx *Tx) error {
		for _, c := range containers {
			if err := tx.PutContainer(c); err != nil {
				return err
			}
		}
		return nil
	})
}

func putImages(t testing.TB, s *Store, images ...*model.Image) {
	t.Helper()
	update(t, s, func(tx *Tx) error {
		for _, img := range images {
			if err := tx.PutImage(img); err != nil {
				return err
			}
		}
		return nil
	})
}

func wantErrorIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one wrapping %q", err, target)
	}
}

func wantEqual[T any](t *testing.T, label string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", label, got, want)
	}
}

func podIDs(pods []*model.Pod) []string {
	ids := make([]string, 0, len(pods))
	for _, p := range pods {
		ids = append(ids, p.ID)
	}
	return ids
}

func containerIDs(containers []*model.Container) []string {
	ids := make([]string, 0, len(containers))
	for _, c := range containers {
		ids = append(ids, c.ID)
	}
	return ids
}

func testUpdateRollsBack(t *testing.T, s *Store) {
	errStop := errors.New("stop")
	err := s.Update(func(tx *Tx) error {
		if err := tx.PutPod(newPod("a1", "acme", "web", 0)); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Update error = %v, want the function's error unchanged", err)
	}

	err = s.View(func(tx *Tx) error {
		_, err := tx.GetPod("a1")
		return err
	})
	wantErrorIs(t, err, ErrNotFound)
}

func testClosedStore(t *testing.T, s *Store) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close error = %v, want nil", err)
	}

	err := s.Update(func(tx *Tx) error { return nil })
	if err == nil {
		t.Error("Update on a closed store returned nil")
	}
	err = s.View(func(tx *Tx) error { return nil })
	if err == nil {
		t.Error("View on a closed store returned nil")
	}
}
