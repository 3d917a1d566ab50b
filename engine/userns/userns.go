// Package userns allots host id ranges for user namespaces. It reads the
// subordinate id ranges of a user from files in the format of /etc/subuid
// and /etc/subgid (subuid(5)) and picks blocks of them that overlap no
// range already in use.
package userns

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/podplug/podplug/engine/model"
)

// BlockSize is the number of ids in an allotted block: the whole 16-bit id
// space, so that every id an image commonly uses, up to nobody (65534), is
// mapped.
const BlockSize = 65536

// ErrNoRanges is returned by Allocate when the subordinate id files list no
// range of at least BlockSize ids for the user.
var ErrNoRanges = errors.New("no subordinate id range")

// ErrExhausted is returned by Allocate when every block of the user's
// subordinate ranges is in use.
var ErrExhausted = errors.New("subordinate id ranges exhausted")

// Range is a run of Size host ids starting at Start.
type Range struct {
	Start uint32
	Size  uint32
}

// ReadSubIDs returns the ranges that the subuid(5)-format file at path
// lists for user, in file order. Entries are matched by name only, not by
// uid. A missing file returns no ranges and no error. A malformed line of
// user is an error; malformed lines of other users are skipped, as
// shadow-utils skips them.
func ReadSubIDs(path, user string) ([]Range, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var ranges []Range
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		name, rest, ok := strings.Cut(text, ":")
		if !ok || name != user {
			continue
		}
		r, err := parseRange(rest)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		ranges = append(ranges, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ranges, nil
}

// parseRange parses "START:COUNT".
func parseRange(s string) (Range, error) {
	startText, sizeText, ok := strings.Cut(s, ":")
	if !ok {
		return Range{}, fmt.Errorf("entry %q: use NAME:START:COUNT", s)
	}
	start, err := strconv.ParseUint(startText, 10, 32)
	if err != nil {
		return Range{}, fmt.Errorf("start %q: %w", startText, err)
	}
	size, err := strconv.ParseUint(sizeText, 10, 32)
	if err != nil {
		return Range{}, fmt.Errorf("count %q: %w", sizeText, err)
	}
	if start+size > 1<<32 {
		return Range{}, fmt.Errorf("range %d:%d ends beyond the largest id", start, size)
	}
	return Range{Start: uint32(start), Size: uint32(size)}, nil
}

// blocks splits ranges into whole blocks of BlockSize ids and returns the
// start of each, in order. Ids at the end of a range that fill no whole
// block are not used.
func blocks(ranges []Range) []uint32 {
	var starts []uint32
	for _, r := range ranges {
		for offset := uint64(0); offset+BlockSize <= uint64(r.Size); offset += BlockSize {
			starts = append(starts, uint32(uint64(r.Start)+offset))
		}
	}
	return starts
}

// Allocate returns the first block of BlockSize uids and gids that overlaps
// no map in taken. The n-th block of uids pairs with the n-th block of gids,
// so the host uid and gid of a block differ when the two files list
// different ranges. It returns an error wrapping ErrNoRanges when uids or
// gids hold no whole block, and one wrapping ErrExhausted when every block
// is taken.
func Allocate(uids, gids []Range, taken []model.IDMap) (model.IDMap, error) {
	uidBlocks, gidBlocks := blocks(uids), blocks(gids)
	n := min(len(uidBlocks), len(gidBlocks))
	if n == 0 {
		return model.IDMap{}, ErrNoRanges
	}
	for i := range n {
		m := model.IDMap{HostUID: uidBlocks[i], HostGID: gidBlocks[i], Size: BlockSize}
		if !overlapsAny(m, taken) {
			return m, nil
		}
	}
	return model.IDMap{}, fmt.Errorf("all %d blocks of %d ids are in use: %w", n, BlockSize, ErrExhausted)
}

func overlapsAny(m model.IDMap, taken []model.IDMap) bool {
	for _, t := range taken {
		if m.Overlaps(t) {
			return true
		}
	}
	return false
}
