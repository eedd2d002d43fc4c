package payload

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// openConsole allocates a pty in the container's own devpts instance and
// bind-mounts its peer on /dev/console. It returns the master, which the
// supervisor holds for the container's whole life, and an open peer.
func openConsole(root string) (master, peer *os.File, err error) {
	master, err = openIn(root, "/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			master.Close()
		}
	}()
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		return nil, nil, os.NewSyscallError("ioctl(TIOCSPTLCK)", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		return nil, nil, os.NewSyscallError("ioctl(TIOCGPTN)", err)
	}
	pfd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return nil, nil, os.NewSyscallError("ioctl(TIOCGPTPEER)", errno)
	}
	peer = os.NewFile(pfd, fmt.Sprintf("/dev/pts/%d", n))
	if err := createFileIn(root, "/dev/console", 0o600); err != nil {
		peer.Close()
		return nil, nil, err
	}
	if err := doMount(&Plan{Root: root}, Mount{Target: "/dev/console", Source: fmt.Sprintf("/dev/pts/%d", n), SourceIn: SourceRoot, File: true}); err != nil {
		peer.Close()
		return nil, nil, err
	}
	return master, peer, nil
}

// attachConsole makes the console peer the stage's stdio and controlling
// terminal; the payload inherits both.
func attachConsole(peer *os.File) error {
	fd := int(peer.Fd())
	for i := 0; i < 3; i++ {
		if err := unix.Dup3(fd, i, 0); err != nil {
			return os.NewSyscallError("dup3", err)
		}
	}
	peer.Close()
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return os.NewSyscallError("ioctl(TIOCSCTTY)", err)
	}
	return nil
}
