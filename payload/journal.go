package payload

import (
	"fmt"
	"path"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// JournalDir is where systemd-journald keeps persistent journals, one
// directory per machine ID, on the host and in the container alike.
const JournalDir = "/var/log/journal"

// The --link-journal= modes, as units.LinkJournal spells them.
const (
	JournalNo       = "no"
	JournalHost     = "host"
	JournalTryHost  = "try-host"
	JournalGuest    = "guest"
	JournalTryGuest = "try-guest"
	JournalAuto     = "auto"
)

// JournalEntry is what the host has at /var/log/journal/ID.
type JournalEntry int

// What HostJournal.Entry can be.
const (
	JournalMissing   JournalEntry = iota // nothing
	JournalDirectory                     // a directory: a host-mode journal
	JournalSymlink                       // a symlink: a guest-mode link
	JournalOther                         // anything else
)

// HostJournal is the part of the host's state --link-journal looks at.
type HostJournal struct {
	HasJournalDir bool         // the host has /var/log/journal (persistent journal)
	HostID        string       // the host's machine ID
	Entry         JournalEntry // what /var/log/journal/ID is on the host
	LinkTarget    string       // for JournalSymlink: where it points
	Empty         bool         // for JournalDirectory: it holds nothing
}

// JournalAction is what --link-journal does for one container. The zero
// value does nothing.
type JournalAction struct {
	HostPath string // /var/log/journal/ID on the host
	Replace  bool   // first remove what is at HostPath: a stale symlink or an empty directory
	Mkdir    bool   // make HostPath a directory (host mode)
	Symlink  string // make HostPath a symlink to this, the image's journal directory (guest mode)
	Bind     bool   // bind HostPath into the container at GuestPath (host mode)
	// GuestPath is /var/log/journal/ID inside the container: the bind's
	// target in host mode, a directory the stage makes in guest mode.
	GuestPath string
}

// Linked reports whether a does anything.
func (a JournalAction) Linked() bool { return a.GuestPath != "" }

// PlanJournal decides what --link-journal=mode does for a container with
// machine ID id, whose image is the host directory image, given the host's
// state h. It follows systemd-nspawn: host keeps the journal on the host
// and binds it in; guest keeps it in the image and links it from the host;
// the try- forms and auto do nothing where those cannot be done, and auto
// only repeats what an earlier host or guest boot left on the host. skip
// explains, for the try- forms and auto, why nothing is done when the
// user should hear of it; it is empty when nothing is to be said.
func PlanJournal(mode string, volatile systemd.Volatile, image, id string, h HostJournal) (a JournalAction, skip string, err error) {
	if mode == "" {
		mode = JournalAuto
	}
	if mode == JournalNo {
		return a, "", nil
	}
	try := mode == JournalTryHost || mode == JournalTryGuest || mode == JournalAuto
	hostPath := path.Join(JournalDir, id)
	guestTarget := path.Join(image, JournalDir, id)
	refuse := func(loud bool, format string, args ...any) (JournalAction, string, error) {
		msg := fmt.Sprintf(format, args...)
		if !try {
			return JournalAction{}, "", fmt.Errorf("--link-journal=%s: %s", mode, msg)
		}
		if !loud {
			msg = ""
		} else {
			msg = fmt.Sprintf("--link-journal=%s: %s; not linking the journal", mode, msg)
		}
		return JournalAction{}, msg, nil
	}
	if !validMachineID(id) {
		return refuse(true, "machine ID %q is not 32 hexadecimal digits", id)
	}
	if id == h.HostID {
		// Quiet for auto: `run -D /` without --volatile is such a case,
		// and auto asked for nothing in particular.
		return refuse(mode != JournalAuto, "the container's machine ID %s is the host's own", id)
	}
	a = JournalAction{HostPath: hostPath, GuestPath: hostPath}
	switch mode {
	case JournalAuto:
		switch {
		case h.Entry == JournalDirectory:
			a.Bind = true
			return a, "", nil
		case h.Entry == JournalSymlink && path.Clean(h.LinkTarget) == guestTarget && volatile == systemd.VolatileNo:
			return a, "", nil
		}
		return JournalAction{}, "", nil
	case JournalHost, JournalTryHost:
		if !h.HasJournalDir {
			return refuse(false, "the host has no %s (its journal is not persistent)", JournalDir)
		}
		switch h.Entry {
		case JournalMissing:
			a.Mkdir = true
		case JournalSymlink:
			a.Replace, a.Mkdir = true, true
		case JournalOther:
			return refuse(true, "%s is neither a directory nor a symlink", hostPath)
		}
		a.Bind = true
		return a, "", nil
	case JournalGuest, JournalTryGuest:
		if volatile != systemd.VolatileNo {
			return refuse(false, "with --volatile=%s the container's /var is not kept", volatile)
		}
		if guestTarget == hostPath {
			return refuse(true, "the image is the host's own root")
		}
		if !h.HasJournalDir {
			return refuse(false, "the host has no %s (its journal is not persistent)", JournalDir)
		}
		switch h.Entry {
		case JournalMissing:
			a.Symlink = guestTarget
		case JournalSymlink:
			if path.Clean(h.LinkTarget) != guestTarget {
				a.Replace, a.Symlink = true, guestTarget
			}
		case JournalDirectory:
			if !h.Empty {
				return refuse(true, "%s is a directory with files in it (a host-mode journal); use --link-journal=host, or move it away", hostPath)
			}
			a.Replace, a.Symlink = true, guestTarget
		default:
			return refuse(true, "%s is neither a directory nor a symlink", hostPath)
		}
		return a, "", nil
	}
	return JournalAction{}, "", fmt.Errorf("unknown --link-journal mode %q", mode)
}

// validMachineID reports whether s is a machine ID as /etc/machine-id
// holds one: 32 lowercase hexadecimal digits, not all zero.
func validMachineID(s string) bool {
	if len(s) != 32 {
		return false
	}
	zero := true
	for _, c := range s {
		switch {
		case c == '0':
		case c >= '1' && c <= '9', c >= 'a' && c <= 'f':
			zero = false
		default:
			return false
		}
	}
	return !zero
}
