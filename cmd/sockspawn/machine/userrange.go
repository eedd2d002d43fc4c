package machine

import (
	"fmt"

	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// rangeFacts is what the host says about a private user range before a
// start: its own maps, its user database, the ranges running machines
// hold, and the owners of a sample of the image's paths.
type rangeFacts struct {
	UIDMap, GIDMap []byte // /proc/self/uid_map, gid_map
	Passwd, Group  []byte
	Held           []payload.HeldRange
	Image          string
	Owned          []payload.Owned // payload.OwnerSample's, the top first
}

// judgeUserRange returns why r is refused (the option's name goes
// before it), or a warning, or neither. An explicit range must be
// mappable here, share no ID with a running machine's, and hold no user
// or group of the host: the base UID owns the machine's user namespace,
// so a host user there would be root over the machine, and a host user
// anywhere in it shares its processes' and files' IDs. A picked range is
// chosen to avoid all three when it is reserved. Either way, the image
// must be owned within the range's size at its top; a sampled path
// owned outside only warns, since a system boots with a stray file that
// shows as nobody's.
func judgeUserRange(r units.UserRange, f rangeFacts) (refusal, warning string) {
	if !r.Enabled {
		return "", ""
	}
	m := payload.IDMap{Base: r.Base, Size: r.Size}
	if r.Base != 0 {
		for _, pm := range []struct{ kind, file string }{{"UID", "uid_map"}, {"GID", "gid_map"}} {
			text := f.UIDMap
			if pm.kind == "GID" {
				text = f.GIDMap
			}
			if !payload.Mappable(m, text) {
				return fmt.Sprintf("range %s: not every %s %d..%d is mapped in this host's user namespace (/proc/self/%s), so none can be mapped into the machine's",
					m, pm.kind, m.Base, m.End()-1, pm.file), ""
			}
		}
		if h, ok := payload.RangeCollision(m, f.Held); ok {
			return fmt.Sprintf("range %s overlaps %s of running machine %s", m, h.IDMap, h.Machine), ""
		}
		if id, ok := payload.FirstHostID(m, f.Passwd, f.Group); ok {
			return fmt.Sprintf("range %s holds the host's %s, which would share its IDs with the machine's (and own the machine, at the base): choose a range no host user or group uses, or pick", m, id), ""
		}
	}
	o, ok := payload.ForeignOwner(f.Owned, r.Size)
	switch {
	case !ok:
		return "", ""
	case o.Path == f.Owned[0].Path:
		return fmt.Sprintf("%s of image %s is owned by %d:%d on disk, outside the range's %d IDs the image is mapped through: the machine's root would not own it (was the image chowned for another range, as by systemd-nspawn --private-users-ownership=chown?)",
			o.Path, f.Image, o.UID, o.GID, r.Size), ""
	default:
		return "", fmt.Sprintf("%s of image %s is owned by %d:%d on disk, outside the range's %d IDs the image is mapped through: inside it is nobody's, and nothing there can change it",
			o.Path, f.Image, o.UID, o.GID, r.Size)
	}
}
