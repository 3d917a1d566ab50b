package kube

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrepareHostPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	tests := []struct {
		name    string
		path    HostPath
		wantErr string
		// isDir is the expected kind of the path afterwards, when it
		// should exist.
		isDir *bool
	}{
		{name: "existing directory, no type", path: HostPath{Path: dir}, isDir: ptr(true)},
		{name: "existing file, no type", path: HostPath{Path: file}, isDir: ptr(false)},
		{name: "missing, no type", path: HostPath{Path: filepath.Join(dir, "none")},
			wantErr: "does not exist: create it first"},
		{name: "directory created", path: HostPath{Path: filepath.Join(dir, "a/b"),
			Type: "DirectoryOrCreate"},
			isDir: ptr(true)},
		{name: "file created", path: HostPath{Path: filepath.Join(dir, "c/f"), Type: "FileOrCreate"},
			isDir: ptr(false)},
		{name: "directory expected", path: HostPath{Path: file, Type: "Directory"},
			wantErr: "is not of type Directory"},
		{name: "directory or create on a file", path: HostPath{Path: file, Type: "DirectoryOrCreate"},
			wantErr: "is not of type DirectoryOrCreate"},
		{name: "file expected", path: HostPath{Path: dir, Type: "File"}, wantErr: "is not of type File"},
		{name: "socket", path: HostPath{Path: sock, Type: "Socket"}},
		{name: "socket expected", path: HostPath{Path: file, Type: "Socket"},
			wantErr: "is not of type Socket"},
		{name: "character device", path: HostPath{Path: "/dev/null", Type: "CharDevice"}},
		{name: "block device expected", path: HostPath{Path: "/dev/null", Type: "BlockDevice"},
			wantErr: "is not of type BlockDevice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := PrepareHostPaths([]HostPath{tt.path})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("PrepareHostPaths(%v) = %v, expected an error containing %q",
						tt.path, err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %q does not wrap ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PrepareHostPaths(%v) = %v", tt.path, err)
			}
			if tt.isDir == nil {
				return
			}
			info, err := os.Stat(tt.path.Path)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "is directory", info.IsDir(), *tt.isDir)
		})
	}
}
