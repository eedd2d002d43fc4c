package payload

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// ContainerMachineID is the machine ID systemd in the container will use:
// the one in the image's /etc/machine-id when it holds one (read inside the
// image, so that a symlink there cannot point at a host file), else the
// one it initializes from $container_uuid. A volatile root has no /etc of
// its own.
func ContainerMachineID(image string, volatile systemd.Volatile, uuid string) string {
	if volatile != systemd.VolatileYes {
		if id := readMachineIDIn(image); id != "" {
			return id
		}
	}
	return MachineID(uuid)
}

// HostMachineID is the host's /etc/machine-id, or "" if it has none.
func HostMachineID() string {
	b, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		return ""
	}
	return parseMachineID(b)
}

func readMachineIDIn(image string) string {
	f, err := openIn(image, "/etc/machine-id", unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 64))
	return parseMachineID(b)
}

// parseMachineID returns the ID in the contents of a machine-id file, or
// "" for an empty, "uninitialized" or malformed one.
func parseMachineID(b []byte) string {
	id := strings.TrimSpace(string(b))
	if !validMachineID(id) {
		return ""
	}
	return id
}

// InspectJournal reads what PlanJournal needs to know of the host for the
// machine ID id.
func InspectJournal(id string) HostJournal {
	h := HostJournal{HostID: HostMachineID()}
	if st, err := os.Stat(JournalDir); err == nil && st.IsDir() {
		h.HasJournalDir = true
	}
	p := path.Join(JournalDir, id)
	st, err := os.Lstat(p)
	switch {
	case err != nil:
		h.Entry = JournalMissing
	case st.Mode()&fs.ModeSymlink != 0:
		h.Entry = JournalSymlink
		h.LinkTarget, _ = os.Readlink(p)
	case st.IsDir():
		h.Entry = JournalDirectory
		entries, err := os.ReadDir(p)
		h.Empty = err == nil && len(entries) == 0
	default:
		h.Entry = JournalOther
	}
	return h
}

// ApplyJournal makes the host side of a: the directory (host mode) or the
// symlink (guest mode). owner, when not nil, is the host UID and GID that
// root in the container has (-U): a directory made for host mode is given
// to it, so that journald inside can write there. undo removes what
// ApplyJournal made, for a container that never started.
func ApplyJournal(a JournalAction, owner *[2]int) (undo func(), err error) {
	undo = func() {}
	if !a.Linked() {
		return undo, nil
	}
	if a.Replace {
		st, err := os.Lstat(a.HostPath)
		switch {
		case err != nil:
		case st.IsDir():
			// Only ever an empty one (PlanJournal): rmdir, never rm -r.
			if err := unix.Rmdir(a.HostPath); err != nil {
				return undo, fmt.Errorf("--link-journal: remove empty directory %s: %w", a.HostPath, err)
			}
		default:
			if err := os.Remove(a.HostPath); err != nil {
				return undo, fmt.Errorf("--link-journal: remove stale link %s: %w", a.HostPath, err)
			}
		}
	}
	switch {
	case a.Mkdir:
		err := unix.Mkdir(a.HostPath, 0o755)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return undo, fmt.Errorf("--link-journal: make %s: %w", a.HostPath, err)
		}
		if err == nil {
			undo = func() { _ = unix.Rmdir(a.HostPath) } // only while still empty
		}
	case a.Symlink != "":
		if err := os.Symlink(a.Symlink, a.HostPath); err != nil {
			return undo, fmt.Errorf("--link-journal: link %s to %s: %w", a.HostPath, a.Symlink, err)
		}
		undo = func() { _ = os.Remove(a.HostPath) }
	}
	if a.Bind && owner != nil {
		if err := unix.Lchown(a.HostPath, owner[0], owner[1]); err != nil {
			undo()
			return func() {}, fmt.Errorf("--link-journal: give %s to the container's root: %w", a.HostPath, err)
		}
	}
	return undo, nil
}
