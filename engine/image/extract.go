package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/klauspost/compress/zstd"
)

// ExtractResult describes the archive that Extract unpacked.
type ExtractResult struct {
	// Digest is the sha256 of the uncompressed tar stream, "sha256:<hex>".
	// For a layer this is its OCI diff ID.
	Digest string
	// Size is the length of the uncompressed tar stream in bytes.
	Size int64
}

// blockSize is the tar record unit. A tar archive ends with two blocks of
// zeros.
const blockSize = 512

// Extract unpacks the tar archive read from r into the existing directory
// dest and returns the digest and size of the uncompressed stream. The
// archive may be plain, gzip- or zstd-compressed, which Extract detects
// from the first bytes.
//
// Entry names are cleaned and resolved inside dest: an absolute name, or a
// name or hardlink target that leaves dest through "..", fails with
// ErrUnsafePath. Symlinks already extracted are followed when they are
// parents of a later entry, but always inside dest, as the container will
// see them: an entry "a/passwd" after a symlink "a -> /etc" lands in
// dest/etc/passwd. The last component of a name is never followed: an
// existing file, symlink or device of that name is replaced. Symlink targets
// are stored unchanged. Missing parent directories are created with mode
// 0755 (less the umask).
//
// Files get the archive's mode (setuid, setgid and sticky bits included),
// owner, times and extended attributes from SCHILY.xattr PAX records.
// Attributes in a namespace that the file system does not support are
// skipped, and trusted.overlay.* attributes fail with ErrInvalidArchive.
// OCI whiteouts become overlay whiteouts: ".wh.NAME" turns into a character
// device 0:0 named NAME and ".wh..wh..opq" marks its directory opaque.
//
// A truncated or corrupt archive fails with ErrInvalidArchive. Extract
// checks ctx between entries. On error, dest contains whatever was extracted
// so far, and the caller removes it. No other process may write below dest
// while Extract runs, because mode changes assume that a name Extract has
// just created has not been replaced.
func Extract(ctx context.Context, r io.Reader, dest string) (ExtractResult, error) {
	stream, err := decompress(r)
	if err != nil {
		return ExtractResult{}, err
	}
	defer stream.Close()
	hr := newHashingReader(stream)

	root, err := openRoot(dest)
	if err != nil {
		return ExtractResult{}, err
	}
	defer root.close()

	e := &extractor{root: root}
	if err := e.extractAll(ctx, tar.NewReader(hr)); err != nil {
		return ExtractResult{}, err
	}
	if err := finishStream(hr); err != nil {
		return ExtractResult{}, err
	}
	if err := e.setDirTimes(); err != nil {
		return ExtractResult{}, err
	}
	return ExtractResult{Digest: hr.digest(), Size: hr.n}, nil
}

// extractAll unpacks every entry of tr, checking ctx before each one.
func (e *extractor) extractAll(ctx context.Context, tr *tar.Reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("extract archive: %w", err)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: read entry header: %w", ErrInvalidArchive, err)
		}
		if err := e.extractEntry(hdr, tr); err != nil {
			return err
		}
	}
}

// finishStream checks that the archive ended with its end-of-archive marker
// and reads the rest of the stream, so that the digest covers the padding
// after the marker and a gzip stream gets its checksum verified.
//
// archive/tar also returns io.EOF when the stream stops exactly at a block
// boundary, which is how a cut-off download looks. The last block read
// before that EOF is a block of zeros only if the marker was there.
// NOTE: an archive cut right after a member whose last 512 bytes are all
// zeros is not detected as truncated.
func finishStream(hr *hashingReader) error {
	if hr.n == 0 {
		return fmt.Errorf("%w: empty stream", ErrInvalidArchive)
	}
	if hr.n < blockSize || !hr.tailIsZero() {
		return fmt.Errorf("%w: truncated: missing end-of-archive marker after %d bytes",
			ErrInvalidArchive, hr.n)
	}
	_, err := io.Copy(io.Discard, hr)
	// gzip.ErrHeader here means bytes after a complete gzip member whose
	// checksum matched, such as zeros that pad a file to a block size.
	// They are not part of the tar stream, and gzip(1) ignores them too.
	if err != nil && !errors.Is(err, gzip.ErrHeader) {
		return fmt.Errorf("%w: read end of stream: %w", ErrInvalidArchive, err)
	}
	return nil
}

// Magic numbers of the compression formats Extract recognizes.
var (
	gzipMagic  = []byte{0x1f, 0x8b}
	bzip2Magic = []byte("BZh")
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress returns the uncompressed tar stream of r. It reads gzip and
// zstd and passes plain tar through. Other compressions fail with
// ErrInvalidArchive and name the format, instead of failing later on a
// garbled tar header. Closing the stream releases the decoder; it does not
// close r.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(len(xzMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: read header: %w", ErrInvalidArchive, err)
	}

	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrInvalidArchive, err)
		}
		return zr, nil
	case bytes.HasPrefix(head, zstdMagic):
		return newZstdReader(br)
	case bytes.HasPrefix(head, bzip2Magic):
		return nil, fmt.Errorf("%w: bzip2 compression is not supported", ErrInvalidArchive)
	case bytes.HasPrefix(head, xzMagic):
		return nil, fmt.Errorf("%w: xz compression is not supported", ErrInvalidArchive)
	}
	return io.NopCloser(br), nil
}

// maxZstdWindow bounds the memory a zstd frame may ask the decoder for. It
// is the default decompression limit of zstd(1) (128 MiB in the zstd 1.5.4
// manual), which frames written without --long or -M stay under.
const maxZstdWindow = 128 << 20

// zstdReader is a zstd stream whose Close releases the decoder.
type zstdReader struct {
	*zstd.Decoder
}

func (z zstdReader) Close() error {
	z.Decoder.Close()
	return nil
}

// newZstdReader decodes r on the calling goroutine, without the decoder's
// background workers, so that an abandoned stream leaks nothing.
func newZstdReader(r io.Reader) (io.ReadCloser, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(maxZstdWindow))
	if err != nil {
		return nil, fmt.Errorf("%w: zstd: %w", ErrInvalidArchive, err)
	}
	return zstdReader{zr}, nil
}

// hashingReader hashes and counts everything read through it and keeps the
// last block read, for the end-of-archive check.
type hashingReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	tail [blockSize]byte
}

func newHashingReader(r io.Reader) *hashingReader {
	return &hashingReader{r: r, h: sha256.New()}
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	if n > 0 {
		hr.h.Write(p[:n])
		hr.n += int64(n)
		hr.keepTail(p[:n])
	}
	return n, err
}

// keepTail makes tail end with b.
func (hr *hashingReader) keepTail(b []byte) {
	if len(b) >= blockSize {
		copy(hr.tail[:], b[len(b)-blockSize:])
		return
	}
	copy(hr.tail[:], hr.tail[len(b):])
	copy(hr.tail[blockSize-len(b):], b)
}

func (hr *hashingReader) tailIsZero() bool {
	for _, b := range hr.tail {
		if b != 0 {
			return false
		}
	}
	return true
}

func (hr *hashingReader) digest() string {
	return "sha256:" + hex.EncodeToString(hr.h.Sum(nil))
}
