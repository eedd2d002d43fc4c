package machine

import (
	"fmt"
	"os"

	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// passwdFile is the host's user database --bind-user reads (users only
// NSS modules know, LDAP or systemd-homed ones, are not found: sockspawn
// has no cgo to ask them).
var passwdFile, shadowFile = "/etc/passwd", "/etc/shadow"

// lookupBindUsers finds the --bind-user users on the host and checks
// that binding them can work, before anything is created: each exists,
// is not root, has a home directory, and the container has a private
// user range (users says whether it will).
func lookupBindUsers(names []string, users units.UserRange) ([]payload.HostUser, error) {
	if len(names) == 0 {
		return nil, nil
	}
	passwd, err := os.ReadFile(passwdFile)
	if err != nil {
		return nil, fmt.Errorf("--bind-user: read the host's users: %w", err)
	}
	shadow, _ := os.ReadFile(shadowFile) // without it, the users log in without a password only where PAM allows
	var out []payload.HostUser
	for _, n := range names {
		u, ok := payload.LookupPasswd(passwd, n)
		if !ok {
			return nil, fmt.Errorf("--bind-user=%s: no such user on the host (in %s)", n, passwdFile)
		}
		st, err := os.Stat(u.Home)
		if err != nil {
			return nil, fmt.Errorf("--bind-user=%s: home directory: %w", n, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--bind-user=%s: home %s is not a directory", n, u.Home)
		}
		u.HashedPassword = payload.LookupShadow(shadow, n)
		out = append(out, u)
	}
	var provisional *payload.IDMap
	if users.Enabled {
		provisional = &payload.IDMap{Base: users.Base, Size: users.Size}
	}
	if _, err := payload.PlanBoundUsers(out, provisional); err != nil {
		return nil, err
	}
	return out, nil
}
