package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fuzzOutside is a directory outside every fuzz destination that seed
// archives point symlinks and hardlinks at. It must stay empty.
var fuzzOutside = filepath.Join(os.TempDir(), "podplug-fuzz-outside")

// maxFuzzFileBytes bounds the data one fuzz input may write, so that a
// mutated header claiming a huge (sparse) file cannot fill the disk.
const maxFuzzFileBytes = 16 << 20

func FuzzExtract(f *testing.F) {
	requireRoot(f)
	seeds := [][]tarEntry{
		{dir("d/"), file("d/f", "data"), symlink("d/l", "f"), hardlink("d/h", "d/f")},
		{file("../../escape", "x")},
		{file("/abs/escape", "x")},
		{symlink("a", fuzzOutside), file("a/pwned", "x")},
		{symlink("up", "../../../.."), file("up/pwned", "x"), dir("up/d/")},
		{symlink("a", fuzzOutside), hardlink("h", "a/target")},
		{hardlink("h", "../../outside")},
		{symlink("x", fuzzOutside+"/file"), file("x", "replaced")},
		{file("etc/gone", "x"), file("etc/.wh.gone", ""), file("etc/.wh..wh..opq", "")},
		{{name: "dev/null", typ: tar.TypeChar, major: 1, minor: 3, mode: 0o666},
			{name: "fifo", typ: tar.TypeFifo}},
		{{name: "f", body: "x", pax: map[string]string{"SCHILY.xattr.user.a": "b"}}},
	}
	for _, seed := range seeds {
		data := makeTar(f, seed...)
		f.Add(data)
		f.Add(gzipBytes(f, data))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if dataBytes(data) > maxFuzzFileBytes {
			t.Skip("input writes more than the fuzz limit")
		}
		if err := os.MkdirAll(fuzzOutside, 0o755); err != nil {
			t.Fatal(err)
		}
		base, dest := sandbox(t)

		// Any error is fine; only what lands on disk matters here.
		Extract(context.Background(), bytes.NewReader(data), dest)

		checkOnlyInside(t, base, dest)
		if names := dirNames(t, fuzzOutside); len(names) != 0 {
			t.Fatalf("extraction wrote %q into %s", names, fuzzOutside)
		}
	})
}

// dataBytes returns the sum of the sizes that the headers of the archive
// in data declare, as far as they can be read.
func dataBytes(data []byte) int64 {
	stream, err := decompress(bytes.NewReader(data))
	if err != nil {
		return 0
	}
	defer stream.Close()
	tr := tar.NewReader(stream)
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) || err != nil {
			return total
		}
		if hdr.Size > 0 {
			total += hdr.Size
		}
		if total < 0 || total > maxFuzzFileBytes {
			return maxFuzzFileBytes + 1
		}
	}
}
