package spec

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// ResolveUser turns a container's user (name or uid, optionally with
// ":group" or ":gid") into ids, reading /etc/passwd and /etc/group inside
// rootfs without following links out of it. An empty user is root. A
// numeric uid need not exist in /etc/passwd, as in podman.
func ResolveUser(rootfs, user string) (uid, gid uint32, groups []uint32, err error) {
	if user == "" {
		return 0, 0, nil, nil
	}
	name, group, hasGroup := strings.Cut(user, ":")
	uid, gid, found, err := lookupPasswd(rootfs, name)
	if err != nil {
		return 0, 0, nil, err
	}
	if !found {
		n, perr := strconv.ParseUint(name, 10, 32)
		if perr != nil {
			return 0, 0, nil, fmt.Errorf("user %q not found in the image's /etc/passwd: use a "+
				"uid or a user of the image", name)
		}
		uid, gid = uint32(n), uint32(n)
	}
	if hasGroup {
		gid, err = resolveGroup(rootfs, group)
		if err != nil {
			return 0, 0, nil, err
		}
	}
	return uid, gid, nil, nil
}

func resolveGroup(rootfs, group string) (uint32, error) {
	if n, err := strconv.ParseUint(group, 10, 32); err == nil {
		return uint32(n), nil
	}
	var gid uint32
	found := false
	err := scanColonFile(rootfs, "/etc/group", func(fields []string) bool {
		if len(fields) >= 3 && fields[0] == group {
			if n, err := strconv.ParseUint(fields[2], 10, 32); err == nil {
				gid, found = uint32(n), true
				return true
			}
		}
		return false
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("group %q not found in the image's /etc/group: use a gid or a "+
			"group of the image", group)
	}
	return gid, nil
}

func lookupPasswd(rootfs, name string) (uid, gid uint32, found bool, err error) {
	err = scanColonFile(rootfs, "/etc/passwd", func(fields []string) bool {
		if len(fields) < 4 || (fields[0] != name && fields[2] != name) {
			return false
		}
		u, err1 := strconv.ParseUint(fields[2], 10, 32)
		g, err2 := strconv.ParseUint(fields[3], 10, 32)
		if err1 != nil || err2 != nil {
			return false
		}
		uid, gid, found = uint32(u), uint32(g), true
		return true
	})
	return uid, gid, found, err
}

// scanColonFile calls match on each line's fields until it returns true. A
// missing file is not an error.
func scanColonFile(rootfs, path string, match func([]string) bool) error {
	full, err := securejoin.SecureJoin(rootfs, path)
	if err != nil {
		return fmt.Errorf("resolve %s in the image: %w", path, err)
	}
	f, err := os.Open(full)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s in the image: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if match(strings.Split(sc.Text(), ":")) {
			return nil
		}
	}
	return sc.Err()
}
