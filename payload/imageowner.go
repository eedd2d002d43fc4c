package payload

import (
	"fmt"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// With a private user range the image is mounted idmapped: what is owned
// by ID n on disk is n's inside, for n below the range's size, and the
// overflow user's (nobody) beyond it, which nothing inside can change.
// An image owned by IDs outside that (say one chowned for another range,
// as systemd-nspawn --private-users-ownership=chown leaves it) boots into
// a tree its root does not own. The check looks at a sample of the paths
// a booted system needs, never a walk of the whole tree.

// OwnerSample returns the paths inside an image whose owners are checked,
// the top of what the container sees of the image first: / or, with
// --volatile=yes, /usr.
func OwnerSample(v systemd.Volatile) []string {
	usr := []string{"/usr", "/usr/bin", "/usr/lib", "/usr/lib/systemd/systemd", "/usr/sbin"}
	if v == systemd.VolatileYes {
		return usr
	}
	return append([]string{"/", "/etc", "/etc/passwd", "/root", "/var", "/var/lib", "/var/log", "/home"}, usr...)
}

// Owned is a path of an image with its owner on disk.
type Owned struct {
	Path     string
	UID, GID uint32
}

// ForeignOwner returns the first of owned whose UID or GID is not below
// size: not mapped by the idmapped mount.
func ForeignOwner(owned []Owned, size uint32) (Owned, bool) {
	for _, o := range owned {
		if o.UID >= size || o.GID >= size {
			return o, true
		}
	}
	return Owned{}, false
}

func (o Owned) String() string {
	return fmt.Sprintf("%s (owned by %d:%d on disk)", o.Path, o.UID, o.GID)
}
