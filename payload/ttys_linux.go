package payload

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// openTTYs allocates the extra ttys (names from TTYNames) in the
// container's devpts and returns their masters, which the supervisor holds
// for the container's life: a pty whose master is closed disappears. Each
// must get the number TTYNames promised the init.
func openTTYs(root string, names []string) ([]*os.File, error) {
	var masters []*os.File
	for _, name := range names {
		m, err := openIn(root, "/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY)
		if err != nil {
			closeAll(masters)
			return nil, err
		}
		masters = append(masters, m)
		fd := int(m.Fd())
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			closeAll(masters)
			return nil, os.NewSyscallError("ioctl(TIOCSPTLCK)", err)
		}
		n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
		if err != nil {
			closeAll(masters)
			return nil, os.NewSyscallError("ioctl(TIOCGPTN)", err)
		}
		if got := fmt.Sprintf("pts/%d", n); got != name {
			closeAll(masters)
			return nil, fmt.Errorf("allocated %s where $container_ttys names %s", got, name)
		}
	}
	return masters, nil
}

// TTYName is the name ("pts/N") of a tty master's peer.
func TTYName(master *os.File) (string, error) {
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		return "", os.NewSyscallError("ioctl(TIOCGPTN)", err)
	}
	return fmt.Sprintf("pts/%d", n), nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// ttyList is for errors: "pts/1, pts/2".
func ttyList(names []string) string { return strings.Join(names, ", ") }
