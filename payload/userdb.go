package payload

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Where the container finds the host users bound in (--bind-user):
// their JSON user and group records for nss-systemd, and their homes
// (Container Interface, /run/host points 10 and 11).
const (
	UserDBDir   = RunHostDir + "/userdb"
	HostHomeDir = RunHostDir + "/home"
)

// BoundUserFirstID is the container UID (and GID) of the first user bound
// in: systemd reserves 60514 to 60577 for users that systemd-nspawn's
// --bind-user maps into containers, so they collide with no user of the
// image.
const (
	BoundUserFirstID = 60514
	BoundUserMax     = 64
)

// HostUser is a user of the host, as its user database has it.
type HostUser struct {
	Name     string
	UID, GID uint32
	RealName string // the GECOS field's first part
	Home     string
	Shell    string
	// HashedPassword is the user's hash from the host's shadow file, or
	// empty: it goes to NAME.user-privileged, readable by root only, so
	// that the user can log in inside with their password.
	HashedPassword string
}

// BoundUser is a host user as the container sees it: its own UID and GID
// in the container's range, its home below /run/host/home.
type BoundUser struct {
	HostUser
	UID, GID uint32 // inside the container
	// Outer are the UID and GID that UID and GID are on the host,
	// through the container's user namespace (its range's base + UID).
	OuterUID, OuterGID uint32
}

// Home is where the container sees the user's home.
func (b BoundUser) Home() string { return path.Join(HostHomeDir, b.Name) }

// PlanBoundUsers gives each host user its container UID and GID. Binding a
// user needs the container's own user range: the home is shown through an
// idmapped mount that turns the user's host UID into one of that range,
// which only a private range can hold (without one, the user's host UID
// would be the container's, and could be anyone's there). root is never
// bound.
func PlanBoundUsers(users []HostUser, userns *IDMap) ([]BoundUser, error) {
	if len(users) == 0 {
		return nil, nil
	}
	if userns == nil {
		return nil, fmt.Errorf("--bind-user=%s needs a private user range (-U): the user's files are mapped to a UID of the container's own range, and without one there is none", users[0].Name)
	}
	if len(users) > BoundUserMax {
		return nil, fmt.Errorf("--bind-user: at most %d users", BoundUserMax)
	}
	if last := uint64(BoundUserFirstID + len(users)); last > uint64(userns.Size) {
		return nil, fmt.Errorf("--bind-user: the container's user range has %d UIDs; bound users need UIDs up to %d (use -U or --private-users=UID:65536)", userns.Size, last-1)
	}
	seen := map[string]bool{}
	var out []BoundUser
	for i, u := range users {
		if u.UID == 0 || u.Name == "root" {
			return nil, fmt.Errorf("--bind-user=%s: refusing to bind root into a container", u.Name)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("--bind-user=%s given twice", u.Name)
		}
		seen[u.Name] = true
		if !path.IsAbs(u.Home) || path.Clean(u.Home) == "/" {
			return nil, fmt.Errorf("--bind-user=%s: home directory %q is not a directory of its own", u.Name, u.Home)
		}
		id := uint32(BoundUserFirstID + i)
		out = append(out, BoundUser{HostUser: u, UID: id, GID: id, OuterUID: userns.Base + id, OuterGID: userns.Base + id})
	}
	return out, nil
}

// userRecord is the JSON user record nss-systemd reads (systemd's
// USER_RECORD specification), with what a bound user needs.
type userRecord struct {
	UserName      string `json:"userName"`
	UID           uint32 `json:"uid"`
	GID           uint32 `json:"gid"`
	RealName      string `json:"realName,omitempty"`
	HomeDirectory string `json:"homeDirectory"`
	Shell         string `json:"shell,omitempty"`
	Disposition   string `json:"disposition"`
	Service       string `json:"service"`
}

// PrivilegedSuffix names the companion file of a user record that holds
// its privileged part; only root may read it.
const PrivilegedSuffix = ".user-privileged"

type privilegedRecord struct {
	Privileged privileged `json:"privileged"`
}

type privileged struct {
	HashedPassword []string `json:"hashedPassword"`
}

type groupRecord struct {
	GroupName   string `json:"groupName"`
	GID         uint32 `json:"gid"`
	Disposition string `json:"disposition"`
	Service     string `json:"service"`
}

// UserDBFiles are the drop-ins of /run/host/userdb for the bound users:
// NAME.user and NAME.group, and UID.user and GID.group linking to them,
// the two names nss-systemd looks records up by. Each user gets a group
// of its own name as its primary group.
func UserDBFiles(users []BoundUser) ([]File, []Symlink) {
	var files []File
	var links []Symlink
	for _, u := range users {
		ur, _ := json.Marshal(userRecord{
			UserName: u.Name, UID: u.UID, GID: u.GID, RealName: u.RealName,
			HomeDirectory: u.Home(), Shell: u.Shell, Disposition: "regular", Service: ManagerName,
		})
		gr, _ := json.Marshal(groupRecord{GroupName: u.Name, GID: u.GID, Disposition: "regular", Service: ManagerName})
		uid := strconv.FormatUint(uint64(u.UID), 10)
		files = append(files,
			File{Name: u.Name + ".user", Data: append(ur, '\n')},
			File{Name: u.Name + ".group", Data: append(gr, '\n')})
		links = append(links,
			Symlink{Path: uid + ".user", Target: u.Name + ".user"},
			Symlink{Path: strconv.FormatUint(uint64(u.GID), 10) + ".group", Target: u.Name + ".group"})
		if u.HashedPassword != "" {
			pr, _ := json.Marshal(privilegedRecord{Privileged: privileged{HashedPassword: []string{u.HashedPassword}}})
			files = append(files, File{Name: u.Name + PrivilegedSuffix, Data: append(pr, '\n')})
			links = append(links, Symlink{Path: uid + PrivilegedSuffix, Target: u.Name + PrivilegedSuffix})
		}
	}
	return files, links
}

// LookupShadow returns name's password hash from shadow(5) text, or "".
func LookupShadow(shadow []byte, name string) string {
	for _, l := range strings.Split(string(shadow), "\n") {
		f := strings.Split(strings.TrimRight(l, "\r"), ":")
		if len(f) >= 2 && f[0] == name {
			return f[1]
		}
	}
	return ""
}

// LookupPasswd finds name in passwd(5) text.
func LookupPasswd(passwd []byte, name string) (HostUser, bool) {
	for _, l := range strings.Split(string(passwd), "\n") {
		u, ok := parsePasswdLine(l)
		if ok && u.Name == name {
			return u, true
		}
	}
	return HostUser{}, false
}

// parsePasswdLine parses one line of passwd(5): name:password:UID:GID:GECOS:home:shell.
func parsePasswdLine(l string) (HostUser, bool) {
	f := strings.Split(strings.TrimRight(l, "\r"), ":")
	if len(f) != 7 || f[0] == "" || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
		return HostUser{}, false
	}
	uid, err1 := strconv.ParseUint(f[2], 10, 32)
	gid, err2 := strconv.ParseUint(f[3], 10, 32)
	if err1 != nil || err2 != nil {
		return HostUser{}, false
	}
	real, _, _ := strings.Cut(f[4], ",")
	return HostUser{Name: f[0], UID: uint32(uid), GID: uint32(gid), RealName: real, Home: f[5], Shell: f[6]}, true
}

// userHomeMounts binds each bound user's home at /run/host/home/NAME,
// through an idmapped mount (made by the supervisor) that shows the
// user's host UID and GID as the ones the container gives the user.
func userHomeMounts(o Options) []Mount {
	var ms []Mount
	for _, u := range o.BindUsers {
		ms = append(ms, Mount{Target: u.Home(), Source: u.HostUser.Home, SourceIn: SourceUserHome, Recursive: true,
			HomeMap: &HomeMap{HostUID: u.HostUser.UID, HostGID: u.HostUser.GID, UID: u.OuterUID, GID: u.OuterGID}})
	}
	return ms
}

// HomeMap is how a bound user's home is idmapped: HostUID and HostGID on
// disk show as UID and GID (as the host numbers the container's range).
type HomeMap struct {
	HostUID uint32 `json:"host_uid"`
	HostGID uint32 `json:"host_gid"`
	UID     uint32 `json:"uid"`
	GID     uint32 `json:"gid"`
}

// newRunHostWithUsers is NewRunHost with the bound users' records.
func newRunHostWithUsers(o Options) RunHost {
	rh := NewRunHost(o.UUID, o.OSRelease, o.Credentials)
	rh.UserDB, rh.UserDBLinks = UserDBFiles(o.BindUsers)
	return rh
}
