package activation

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Inherited is the set of listening fds the supervisor received from its own
// service manager, in the order of $LISTEN_FDNAMES. Files[i] has the name
// Names[i] and was fd ListenFDsStart+i when the supervisor started.
type Inherited struct {
	Files []*os.File // close-on-exec; Files[i].Name() is Names[i]
	Names []string   // from $LISTEN_FDNAMES, or "unknown" each
	// Named is whether $LISTEN_FDNAMES was set at all: a supervisor that
	// passes the fds on should pass the names only then, unchanged, so the
	// payload sees exactly what its service manager sent.
	Named bool
}

// Inherit takes over the fds passed by the sd_listen_fds protocol. lookup
// reads the environment (os.LookupEnv, or a map in tests); Inherit does not
// change the environment: call UnsetListenEnv so that no child sees
// variables that are not meant for it.
//
// Each fd must be a socket, unless allowNonSocket is set (a socket unit may
// also pass FIFOs, character devices or message queues). Inherit checks every
// fd before taking any of them, so on error it has neither wrapped nor closed
// anything. On success each fd is close-on-exec (the supervisor hands them to
// the container explicitly, through ExtraFiles) and wrapped in an *os.File
// named after its fd name. When the fds are not meant for this process
// (LISTEN_PID unset or another pid), Inherit returns an empty Inherited.
func Inherit(lookup func(string) (string, bool), allowNonSocket bool) (Inherited, error) {
	pid, _ := lookup(EnvListenPID)
	count, _ := lookup(EnvListenFDs)
	fdNames, _ := lookup(EnvListenFDNames)
	n, names, err := ParseListenEnv(pid, count, fdNames, os.Getpid())
	if err != nil {
		return Inherited{}, fmt.Errorf("inherit listening fds: %w", err)
	}
	for i := 0; i < n; i++ {
		fd := ListenFDsStart + i
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return Inherited{}, fmt.Errorf("inherit listening fd %d (%q): %w", fd, names[i], os.NewSyscallError("fstat", err))
		}
		if kind := st.Mode & unix.S_IFMT; kind != unix.S_IFSOCK && !allowNonSocket {
			return Inherited{}, fmt.Errorf("inherit listening fd %d (%q): is a %s, not a socket", fd, names[i], fileKind(kind))
		}
	}
	in := Inherited{Names: names, Named: fdNames != ""}
	for i := 0; i < n; i++ {
		fd := ListenFDsStart + i
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil {
			_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC)
		}
		if err != nil {
			// Those already wrapped stay valid and close-on-exec; hand them
			// back so the caller can close them.
			in.Names = names[:i]
			return in, fmt.Errorf("inherit listening fd %d (%q): %w", fd, names[i], os.NewSyscallError("fcntl(F_SETFD, FD_CLOEXEC)", err))
		}
		in.Files = append(in.Files, os.NewFile(uintptr(fd), names[i]))
	}
	return in, nil
}

// UnsetListenEnv removes $LISTEN_PID, $LISTEN_FDS and $LISTEN_FDNAMES from
// the environment of this process.
func UnsetListenEnv() {
	for _, k := range []string{EnvListenPID, EnvListenFDs, EnvListenFDNames} {
		_ = os.Unsetenv(k) // fails only for an invalid name
	}
}

// fileKind names a file type from the S_IFMT bits of a mode.
func fileKind(kind uint32) string {
	switch kind {
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFREG:
		return "regular file"
	default:
		return fmt.Sprintf("file of type %#o", kind)
	}
}
