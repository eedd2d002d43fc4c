package activation

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// OpenListen creates, binds and (for stream and seqpacket sockets) listens on the
// socket, the way a systemd socket unit does with its defaults: backlog
// SOMAXCONN, SO_REUSEADDR on inet sockets, the port-only form listening on
// IPv6 and IPv4 at once (or IPv4 alone when the kernel has no IPv6), and a
// socket file of mode 0666 whose parent directories are created (0755). A
// stale socket file at the path is removed; any other kind of file there is
// an error. The fd is close-on-exec and blocking, and the returned file is
// named after s.Name.
func OpenListen(s systemd.Listen) (*os.File, error) {
	fd, err := openListen(s)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s, err)
	}
	return os.NewFile(uintptr(fd), s.Name), nil
}

func openListen(s systemd.Listen) (int, error) {
	family, sa, err := listenSockaddr(s)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Socket(family, s.Type|unix.SOCK_CLOEXEC, 0)
	if err == unix.EAFNOSUPPORT && family == unix.AF_INET6 && strings.HasPrefix(s.Address, "[::]:") {
		sa4 := &unix.SockaddrInet4{Port: sa.(*unix.SockaddrInet6).Port}
		family, sa = unix.AF_INET, sa4
		fd, err = unix.Socket(family, s.Type|unix.SOCK_CLOEXEC, 0)
	}
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := bindListen(s, fd, family, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if s.Type != unix.SOCK_DGRAM {
		if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
			unix.Close(fd)
			return -1, os.NewSyscallError("listen", err)
		}
	}
	return fd, nil
}

// listenSockaddr converts the canonical address to a socket address.
func listenSockaddr(s systemd.Listen) (int, unix.Sockaddr, error) {
	switch s.Family {
	case unix.AF_UNIX:
		return unix.AF_UNIX, &unix.SockaddrUnix{Name: s.Address}, nil
	case unix.AF_INET, unix.AF_INET6:
		ap, err := netip.ParseAddrPort(s.Address)
		if err != nil {
			return 0, nil, fmt.Errorf("address: %w", err)
		}
		if s.Family == unix.AF_INET {
			return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}, nil
		}
		return unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}, nil
	}
	return 0, nil, fmt.Errorf("unsupported address family %d", s.Family)
}

// bindListen sets the socket options of a socket unit's defaults and binds fd.
func bindListen(s systemd.Listen, fd, family int, sa unix.Sockaddr) error {
	switch family {
	case unix.AF_INET, unix.AF_INET6:
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return os.NewSyscallError("setsockopt(SO_REUSEADDR)", err)
		}
		if family == unix.AF_INET6 && strings.HasPrefix(s.Address, "[::]:") {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
				return os.NewSyscallError("setsockopt(IPV6_V6ONLY)", err)
			}
		}
		if err := unix.Bind(fd, sa); err != nil {
			return os.NewSyscallError("bind", err)
		}
		return nil
	}
	path := s.Address
	if path[0] == '@' {
		if err := unix.Bind(fd, sa); err != nil {
			return os.NewSyscallError("bind", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := removeStaleSocket(path); err != nil {
		return err
	}
	if err := unix.Bind(fd, sa); err != nil {
		return &os.PathError{Op: "bind", Path: path, Err: err}
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, path, 0o666, 0); err != nil {
		return &os.PathError{Op: "chmod", Path: path, Err: err}
	}
	return nil
}

// removeStaleSocket removes the socket file left at path by an earlier run.
// It refuses to remove anything else.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	return os.Remove(path)
}

// ErrStopped is returned by WaitReadable when its stop channel closed first.
var ErrStopped = errors.New("wait for a connection: stopped")

// WaitReadable blocks until one of the listening sockets is readable (a
// connection or datagram is pending) or stop is closed, in which case it
// returns ErrStopped. It sleeps in poll(2) and accepts nothing, so the
// pending connection is left for the container's init ("boot on first
// connection"). The files must stay open until WaitReadable returns.
func WaitReadable(files []*os.File, stop <-chan struct{}) error {
	if len(files) == 0 {
		return errors.New("wait for a connection: no listening sockets")
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("wait for a connection: %w", os.NewSyscallError("eventfd", err))
	}
	defer unix.Close(wake)

	pfds := make([]unix.PollFd, 0, len(files)+1)
	for _, f := range files {
		fd, err := rawFD(f)
		if err != nil {
			return fmt.Errorf("wait for a connection on %s: %w", f.Name(), err)
		}
		pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	pfds = append(pfds, unix.PollFd{Fd: int32(wake), Events: unix.POLLIN})

	// The waker must be gone before the deferred close of wake above, or it
	// could write to whatever fd takes wake's number next.
	done, waker := make(chan struct{}), make(chan struct{})
	defer func() { close(done); <-waker }()
	go func() {
		defer close(waker)
		select {
		case <-stop:
			one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
			_, _ = unix.Write(wake, one) // cannot fail: the counter is far from full
		case <-done:
		}
	}()
	defer runtime.KeepAlive(files)
	for {
		_, err := unix.Poll(pfds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for a connection: %w", os.NewSyscallError("poll", err))
		}
		for i, p := range pfds[:len(files)] {
			if p.Revents&unix.POLLNVAL != 0 {
				return fmt.Errorf("wait for a connection on %s: fd %d is not open", files[i].Name(), p.Fd)
			}
			if p.Revents != 0 {
				return nil
			}
		}
		if pfds[len(files)].Revents != 0 {
			return ErrStopped
		}
	}
}

// rawFD returns the fd of f without Fd's side effect of making it blocking.
func rawFD(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return -1, err
	}
	return fd, nil
}
