package idlewatch

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// arrivals tells of a connection or datagram pending on any of the
// listening sockets. Each socket is in an epoll set as one-shot and level
// triggered: once armed, it fires once if anything is pending or arrives,
// and stays quiet until armed again. The watcher arms them before each
// sample, so that a busy machine costs it at most one wake-up per sample
// interval, and a frozen one none until a connection comes. Nothing is
// accepted or read: the container does that.
type arrivals struct {
	epfd int
	stop int // eventfd that ends the reader
	fds  []int
	// guest are the container's own listening sockets, watched while
	// it is frozen (watchGuest); only the reader's epoll set shares them.
	guest []int
	C     chan struct{}
	done  chan struct{}
}

func newArrivals(files []*os.File) (*arrivals, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	a := &arrivals{epfd: epfd, stop: -1, C: make(chan struct{}, 1), done: make(chan struct{})}
	if a.stop, err = unix.Eventfd(0, unix.EFD_CLOEXEC); err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(a.stop)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, a.stop, &ev); err != nil {
		a.closeFDs()
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	for _, f := range files {
		// A duplicate of our own: the files may be closed while this
		// runs, and their numbers reused.
		fd, err := dupFile(f)
		if err != nil {
			a.closeFDs()
			return nil, fmt.Errorf("watch %s: %w", f.Name(), os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", err))
		}
		a.fds = append(a.fds, fd)
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(fd)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			a.closeFDs()
			return nil, fmt.Errorf("watch %s: %w", f.Name(), os.NewSyscallError("epoll_ctl", err))
		}
	}
	go a.run()
	return a, nil
}

// arm re-arms every socket.
func (a *arrivals) arm() error {
	for _, fd := range a.fds {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(fd)}
		if err := unix.EpollCtl(a.epfd, unix.EPOLL_CTL_MOD, fd, &ev); err != nil {
			return os.NewSyscallError("epoll_ctl", err)
		}
	}
	return nil
}

// run waits in epoll_wait, with no timeout, and passes each arrival on.
func (a *arrivals) run() {
	defer close(a.done)
	evs := make([]unix.EpollEvent, 64)
	for {
		n, err := unix.EpollWait(a.epfd, evs, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range evs[:n] {
			if int(ev.Fd) == a.stop {
				return
			}
			select {
			case a.C <- struct{}{}:
			default: // one pending arrival says as much as several
			}
		}
	}
}

// close stops the reader and closes the duplicates.
func (a *arrivals) close() {
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	_, _ = unix.Write(a.stop, one)
	<-a.done
	a.closeFDs()
}

func (a *arrivals) closeFDs() {
	a.dropGuest()
	for _, fd := range a.fds {
		unix.Close(fd)
	}
	if a.stop >= 0 {
		unix.Close(a.stop)
	}
	unix.Close(a.epfd)
}

// dupFile duplicates f's fd without f.Fd(), which would make the socket
// blocking for every holder, the container's init included.
func dupFile(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(u uintptr) {
		fd, dupErr = unix.FcntlInt(u, unix.F_DUPFD_CLOEXEC, 3)
	}); err != nil {
		return -1, err
	}
	return fd, dupErr
}

// watchGuest adds, while the container is frozen, the listening sockets
// its init holds besides the handed ones (those of its own socket units:
// D-Bus, /run/systemd/private, an sshd.socket, ...): a connection to any
// of them, such as machinectl shell's or systemctl -M's, wakes the
// container as one to the handed sockets does. They are taken with
// pidfd_getfd; dropGuest removes them at the thaw. Errors leave the set
// as it was: the handed sockets still wake the container; the first
// failure to take a socket is returned, to be told once.
func (a *arrivals) watchGuest(init int) error {
	pidfd, err := unix.PidfdOpen(init, 0)
	if err != nil {
		return os.NewSyscallError("pidfd_open", err)
	}
	defer unix.Close(pidfd)
	own := map[uint64]bool{}
	for _, fd := range a.fds {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			own[st.Ino] = true
		}
	}
	dir := "/proc/" + itoa(init) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var first error
	for _, e := range entries {
		l, err := os.Readlink(dir + "/" + e.Name())
		if err != nil || len(l) < 8 || l[:8] != "socket:[" {
			continue
		}
		target, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, target, 0)
		if err != nil {
			if first == nil {
				first = os.NewSyscallError("pidfd_getfd", err)
			}
			continue
		}
		var st unix.Stat_t
		listening, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
		if listening != 1 || unix.Fstat(fd, &st) != nil || own[st.Ino] {
			unix.Close(fd)
			continue
		}
		own[st.Ino] = true
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(fd)}
		if unix.EpollCtl(a.epfd, unix.EPOLL_CTL_ADD, fd, &ev) != nil {
			unix.Close(fd)
			continue
		}
		a.guest = append(a.guest, fd)
	}
	return first
}

// dropGuest removes what watchGuest added.
func (a *arrivals) dropGuest() {
	for _, fd := range a.guest {
		_ = unix.EpollCtl(a.epfd, unix.EPOLL_CTL_DEL, fd, nil)
		unix.Close(fd)
	}
	a.guest = nil
}
