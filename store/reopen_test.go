package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestReopenKeepsRecords(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir, Options{})
	pod := newPod("a1", "acme", "web", 0)
	ctr := newContainer("c1", "a1", "acme", "app", 1)
	img := newImage(hexA, 2, "busybox:latest")
	putPods(t, s, pod)
	putContainers(t, s, ctr)
	putImages(t, s, img)
	update(t, s, func(tx *Tx) error { return tx.PluginKVPut("quota", "acme", []byte("3")) })
	closeStore(t, s)

	s = openDisk(t, dir, Options{})
	view(t, s, func(tx *Tx) error {
		gotPod, err := tx.LookupPod("acme", "web")
		if err != nil {
			return err
		}
		wantEqual(t, "pod", gotPod, pod)

		gotContainers, err := tx.PodContainers("a1")
		if err != nil {
			return err
		}
		wantEqual(t, "pod containers", containerIDs(gotContainers), []string{"c1"})

		gotImage, err := tx.LookupImage("busybox:latest")
		if err != nil {
			return err
		}
		wantEqual(t, "image", gotImage, img)

		value, err := tx.PluginKVGet("quota", "acme")
		if err != nil {
			return err
		}
		wantEqual(t, "plugin value", string(value), "3")
		return nil
	})
}

func TestReopenEventSeqIncreases(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir, Options{})
	first := newEvent("create", "a1")
	appendEvents(t, s, first)
	closeStore(t, s)

	s = openDisk(t, dir, Options{})
	second := newEvent("start", "a1")
	appendEvents(t, s, second)
	// Close badger without releasing the Seq lease, as a crash would.
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
	s.closed.Do(func() {}) // so that the cleanup's Close does nothing

	s = openDisk(t, dir, Options{})
	third := newEvent("stop", "a1")
	appendEvents(t, s, third)

	seqs := []uint64{first.Seq, second.Seq, third.Seq}
	wantIncreasing(t, seqs)
	wantEqual(t, "stored seqs", eventSeqs(readEvents(t, s, 0)), seqs)
	wantEqual(t, "seq after clean close", second.Seq, first.Seq+1)

	last, err := s.LastEventSeq()
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "LastEventSeq", last, third.Seq)
}

func TestOpenSchemaMismatch(t *testing.T) {
	cases := []struct {
		name    string
		version string
		want    string
	}{
		{"newer version", "2", "a newer podplug wrote this database"},
		{"not a number", "x", "damaged"},
		{"zero", "0", "damaged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openDisk(t, dir, Options{})
			err := s.db.Update(func(txn *badger.Txn) error {
				return txn.Set(keySchema, []byte(c.version))
			})
			if err != nil {
				t.Fatal(err)
			}
			closeStore(t, s)

			s, err = Open(dir, Options{})
			if err == nil {
				closeStore(t, s)
				t.Fatal("Open returned nil error")
			}
			wantErrorIs(t, err, ErrSchema)
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not contain %q and the directory", err, c.want)
			}
		})
	}
}

func TestOpenLockedDirectory(t *testing.T) {
	dir := t.TempDir()
	openDisk(t, dir, Options{})

	s, err := Open(dir, Options{})
	if err == nil {
		closeStore(t, s)
		t.Fatal("second Open returned nil error")
	}
	wantErrorIs(t, err, ErrLocked)
	for _, want := range []string{dir, "another podplug daemon"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestOpenAfterClose(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir, Options{})
	closeStore(t, s)

	s = openDisk(t, dir, Options{})
	if err := s.View(func(tx *Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRegularFileFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	s, err := Open(file, Options{})
	if err == nil {
		closeStore(t, s)
		t.Fatal("Open of a regular file returned nil error")
	}
	if errors.Is(err, ErrLocked) {
		t.Errorf("error = %v, want one that is not ErrLocked", err)
	}
}
