package api

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"

	"github.com/podplug/podplug/engine/model"
	"github.com/podplug/podplug/engine/userns"
)

// DefaultTenantsFile is the operator's file mapping users and groups to tenants.
const DefaultTenantsFile = "/etc/podplug/tenants.yaml"

// Tenants is the operator's file: who may connect, who is an admin, and
// which users and groups form each tenant.
//
//	rootIsAdmin: true        # default true
//	socketGroups: [podplug]  # groups whose members may use the socket
//	admins: {users: [ops], groups: [podplug-admin]}
//	tenants:
//	  - name: blue
//	    users: [alice]
//	    groups: [blue]
//	    ids: {start: 1000000, size: 65536}   # host ids for user namespaces
type Tenants struct {
	RootIsAdmin  *bool         `json:"rootIsAdmin,omitempty"`
	SocketGroups []string      `json:"socketGroups,omitempty"`
	Admins       Members       `json:"admins,omitempty"`
	Tenants      []TenantEntry `json:"tenants,omitempty"`
}

// Members names users and groups, by name or number.
type Members struct {
	Users  []string `json:"users,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// TenantEntry is one tenant of the operator's file.
type TenantEntry struct {
	Name    string   `json:"name"`
	Members          // users and groups of the tenant
	IDs     *IDRange `json:"ids,omitempty"`
}

// IDRange is a range of host uids and gids allotted to a tenant; its
// containers run in a user namespace mapped onto it.
type IDRange struct {
	Start uint32 `json:"start"`
	Size  uint32 `json:"size"`
}

// LoadTenants reads the operator's file. A missing file returns nil and no
// error: then only root may connect.
func LoadTenants(path string) (*Tenants, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read tenants file: %w", err)
	}
	var t Tenants
	if err := yaml.UnmarshalStrict(data, &t); err != nil {
		return nil, fmt.Errorf("tenants file %s: %w", path, err)
	}
	if err := t.validate(); err != nil {
		return nil, fmt.Errorf("tenants file %s: %w", path, err)
	}
	return &t, nil
}

func (t *Tenants) validate() error {
	seen := map[string]bool{}
	for i, tn := range t.Tenants {
		if tn.Name == "" || strings.ContainsAny(tn.Name, "/ \t") {
			return fmt.Errorf("tenant %d: name %q: use letters, digits, _ . -", i+1, tn.Name)
		}
		if seen[tn.Name] {
			return fmt.Errorf("tenant %s is listed twice", tn.Name)
		}
		seen[tn.Name] = true
		if err := tn.IDs.validate(); err != nil {
			return fmt.Errorf("tenant %s: %w", tn.Name, err)
		}
	}
	return t.checkOverlaps()
}

// validate checks a tenant's ids; nil means none and is valid.
func (r *IDRange) validate() error {
	switch {
	case r == nil:
		return nil
	case r.Size < userns.BlockSize:
		return fmt.Errorf("ids.size %d: give at least %d", r.Size, userns.BlockSize)
	case r.Start == 0:
		return errors.New("ids.start 0 would map root in containers to root on the host: " +
			"give a start above the host's own users, such as 100000")
	case uint64(r.Start)+uint64(r.Size) > 1<<32:
		return fmt.Errorf("ids %d+%d end beyond the largest id, %d", r.Start, r.Size, uint32(1<<32-1))
	}
	return nil
}

// checkOverlaps rejects two tenants whose ids overlap, because their
// containers would share host ids.
func (t *Tenants) checkOverlaps() error {
	for i, a := range t.Tenants {
		for _, b := range t.Tenants[i+1:] {
			if a.IDs != nil && b.IDs != nil && a.IDs.idMap().Overlaps(b.IDs.idMap()) {
				return fmt.Errorf("tenants %s and %s have overlapping ids (%s and %s): give each "+
					"its own range", a.Name, b.Name, a.IDs, b.IDs)
			}
		}
	}
	return nil
}

// idMap returns the map onto r: the same host uids and gids.
func (r IDRange) idMap() model.IDMap {
	return model.IDMap{HostUID: r.Start, HostGID: r.Start, Size: r.Size}
}

// String returns r as FIRST-LAST.
func (r IDRange) String() string {
	return fmt.Sprintf("%d-%d", r.Start, uint64(r.Start)+uint64(r.Size)-1)
}

// Subject is a client as the daemon identified it.
type Subject struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	PID    int32    `json:"pid"`
	User   string   `json:"user"`
	Groups []string `json:"groups"`
	Tenant string   `json:"tenant"`
	Admin  bool     `json:"admin"`
	// IDs is the tenant's host id range for user namespaces, if any.
	IDs *IDRange `json:"ids,omitempty"`
}

// Owner is the owner record for objects the subject creates.
func (s Subject) Owner() model.Owner { return model.Owner{UID: s.UID, Tenant: s.Tenant} }

// resolveSubject maps kernel credentials to a subject: groups come from
// /proc/PID/status of the connecting process, names from the user and
// group databases.
func resolveSubject(cred *unix.Ucred, t *Tenants) Subject {
	s := Subject{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid, User: strconv.Itoa(int(cred.Uid))}
	if u, err := user.LookupId(s.User); err == nil {
		s.User = u.Username
	}
	s.Groups = peerGroups(cred)
	if cred.Uid == 0 && (t == nil || t.RootIsAdmin == nil || *t.RootIsAdmin) {
		s.Admin = true
	}
	if t == nil {
		return s
	}
	if t.Admins.match(s) {
		s.Admin = true
	}
	for _, tn := range t.Tenants {
		if tn.Members.match(s) {
			s.Tenant, s.IDs = tn.Name, tn.IDs
			return s
		}
	}
	if !s.Admin {
		// An unmapped user allowed on the socket is a tenant of its own.
		s.Tenant = "user-" + s.User
	}
	return s
}

func (m Members) match(s Subject) bool {
	uid := strconv.Itoa(int(s.UID))
	for _, u := range m.Users {
		if u == s.User || u == uid {
			return true
		}
	}
	for _, g := range m.Groups {
		if slices.Contains(s.Groups, g) {
			return true
		}
	}
	return false
}

// peerGroups returns the names (or numbers, for unnamed groups) of the
// peer's primary and supplementary groups, as the kernel reports them for
// the connecting process.
func peerGroups(cred *unix.Ucred) []string {
	gids := []string{strconv.Itoa(int(cred.Gid))}
	if cred.Pid < 0 {
		if u, err := user.LookupId(strconv.Itoa(int(cred.Uid))); err == nil {
			if ids, err := u.GroupIds(); err == nil {
				gids = append(gids, ids...)
			}
		}
	} else if f, err := os.Open(fmt.Sprintf("/proc/%d/status", cred.Pid)); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Groups:"); ok {
				gids = append(gids, strings.Fields(rest)...)
			}
		}
		f.Close()
	}
	var names []string
	for _, gid := range gids {
		name := gid
		if g, err := user.LookupGroupId(gid); err == nil {
			name = g.Name
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// allowedOnSocket reports whether a peer may use the socket: root always;
// with a tenants file, members of its socket groups, admins and tenants.
func allowedOnSocket(s Subject, t *Tenants) bool {
	if s.UID == 0 {
		return true
	}
	if t == nil {
		return false
	}
	if s.Admin {
		return true
	}
	for _, g := range t.SocketGroups {
		if slices.Contains(s.Groups, g) {
			return true
		}
	}
	for _, tn := range t.Tenants {
		if tn.Members.match(s) {
			return true
		}
	}
	return false
}

// guardedListener closes connections from peers that may not use the
// socket before any request is read.
type guardedListener struct {
	net.Listener
	tenants func() *Tenants
	reject  func(cred *unix.Ucred)
}

func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cred, err := peerCred(conn)
		if err == nil && allowedOnSocket(resolveSubject(cred, l.tenants()), l.tenants()) {
			return conn, nil
		}
		if l.reject != nil && cred != nil {
			l.reject(cred)
		}
		conn.Close()
	}
}

func peerCred(conn net.Conn) (*unix.Ucred, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil, errors.New("not a unix connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil {
		return nil, err
	}
	return cred, credErr
}
