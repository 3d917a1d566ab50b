package userns

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/podplug/podplug/engine/model"
)

func TestReadSubIDs(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []Range
		wantErr bool
	}{
		{name: "one entry", content: "podplug:100000:65536\n",
			want: []Range{{100000, 65536}}},
		{name: "other users skipped",
			content: "alice:100000:65536\npodplug:200000:131072\nbob:oops\n",
			want:    []Range{{200000, 131072}}},
		{name: "several entries in file order",
			content: "podplug:500000:65536\npodplug:300000:65536\n",
			want:    []Range{{500000, 65536}, {300000, 65536}}},
		{name: "no entry", content: "alice:100000:65536\n", want: nil},
		{name: "prefix of another name", content: "podplugger:100000:65536\n", want: nil},
		{name: "malformed entry", content: "podplug:100000\n", wantErr: true},
		{name: "start not a number", content: "podplug:x:65536\n", wantErr: true},
		{name: "past the largest id", content: "podplug:4294967295:2\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "subuid")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadSubIDs(path, "podplug")
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %v and no error, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadSubIDs: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReadSubIDsMissingFile(t *testing.T) {
	got, err := ReadSubIDs(filepath.Join(t.TempDir(), "none"), "podplug")
	if err != nil || got != nil {
		t.Errorf("missing file: got %v, %v, want no ranges and no error", got, err)
	}
}

func block(uid, gid uint32) model.IDMap {
	return model.IDMap{HostUID: uid, HostGID: gid, Size: BlockSize}
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		name       string
		uids, gids []Range
		taken      []model.IDMap
		want       model.IDMap
		wantErr    error
	}{
		{name: "first block", uids: []Range{{100000, 131072}}, gids: []Range{{100000, 131072}},
			want: block(100000, 100000)},
		{name: "next free block", uids: []Range{{100000, 131072}}, gids: []Range{{100000, 131072}},
			taken: []model.IDMap{block(100000, 100000)}, want: block(165536, 165536)},
		{name: "block overlapping configured ids skipped",
			uids: []Range{{100000, 196608}}, gids: []Range{{100000, 196608}},
			taken: []model.IDMap{{HostUID: 170000, HostGID: 170000, Size: 10}},
			want:  block(100000, 100000)},
		{name: "gid overlap alone skips the block",
			uids: []Range{{100000, 131072}}, gids: []Range{{700000, 131072}},
			taken: []model.IDMap{{HostUID: 1, HostGID: 700000, Size: 65536}},
			want:  block(165536, 765536)},
		{name: "uids and gids from different ranges pair by position",
			uids: []Range{{100000, 65536}, {300000, 65536}}, gids: []Range{{900000, 131072}},
			taken: []model.IDMap{block(100000, 900000)}, want: block(300000, 965536)},
		{name: "partial block at the end unused", uids: []Range{{100000, 100000}},
			gids: []Range{{100000, 100000}}, taken: []model.IDMap{block(100000, 100000)},
			wantErr: ErrExhausted},
		{name: "range smaller than a block", uids: []Range{{100000, 1000}},
			gids: []Range{{100000, 1000}}, wantErr: ErrNoRanges},
		{name: "no gids", uids: []Range{{100000, 65536}}, wantErr: ErrNoRanges},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Allocate(tc.uids, tc.gids, tc.taken)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %+v, %v, want error %v", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Allocate: %v", err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
