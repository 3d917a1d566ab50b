package store

import (
	"fmt"
	"testing"
)

// BenchmarkPutContainer measures one Update that inserts a container, on
// disk with synced writes, so it includes one fsync per operation.
func BenchmarkPutContainer(b *testing.B) {
	s := openDisk(b, b.TempDir(), Options{})
	putPods(b, s, newPod("p1", "acme", "web", 0))

	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := newContainer(fmt.Sprintf("c%08d", i), "p1", "acme", fmt.Sprintf("app%d", i), i)
		update(b, s, func(tx *Tx) error { return tx.PutContainer(c) })
	}
}

func BenchmarkGetPod(b *testing.B) {
	s := openDisk(b, b.TempDir(), Options{})
	putManyPods(b, s, 500)

	b.ReportAllocs()
	for b.Loop() {
		view(b, s, func(tx *Tx) error {
			_, err := tx.GetPod("pod00250")
			return err
		})
	}
}

func BenchmarkListPods(b *testing.B) {
	s := openDisk(b, b.TempDir(), Options{})
	putManyPods(b, s, 500)

	b.ReportAllocs()
	for b.Loop() {
		view(b, s, func(tx *Tx) error {
			pods, err := tx.ListPods()
			if err == nil && len(pods) != 500 {
				err = fmt.Errorf("ListPods returned %d pods, want 500", len(pods))
			}
			return err
		})
	}
}

// BenchmarkPodContainers reads the 10 containers of one pod out of 100 pods
// with 10 containers each.
func BenchmarkPodContainers(b *testing.B) {
	s := openDisk(b, b.TempDir(), Options{})
	putManyPods(b, s, 100)
	for p := range 100 {
		update(b, s, func(tx *Tx) error {
			for c := range 10 {
				id := fmt.Sprintf("pod%05d-c%02d", p, c)
				podID := fmt.Sprintf("pod%05d", p)
				if err := tx.PutContainer(newContainer(id, podID, "acme", id, c)); err != nil {
					return err
				}
			}
			return nil
		})
	}

	b.ReportAllocs()
	for b.Loop() {
		view(b, s, func(tx *Tx) error {
			containers, err := tx.PodContainers("pod00050")
			if err == nil && len(containers) != 10 {
				err = fmt.Errorf("PodContainers returned %d containers, want 10", len(containers))
			}
			return err
		})
	}
}

// putManyPods inserts n pods with IDs pod00000, pod00001, ... in one
// transaction.
func putManyPods(b *testing.B, s *Store, n int) {
	b.Helper()
	update(b, s, func(tx *Tx) error {
		for i := range n {
			id := fmt.Sprintf("pod%05d", i)
			if err := tx.PutPod(newPod(id, "acme", "name-"+id, i)); err != nil {
				return err
			}
		}
		return nil
	})
}
