package idlewatch

import (
	"os"

	"golang.org/x/sys/unix"
)

// BusyFile is the file in the container's /run/host whose lock holds the
// machine awake: `flock --shared /run/host/busy COMMAND` inside keeps it
// from its idle action while COMMAND runs. The lock goes with the last
// process holding it, whatever way it ends.
const BusyFile = "busy"

// busyHold tests the lock on the container's /run/host/busy.
type busyHold struct{ f *os.File }

// openBusyHold opens /run/host/busy through the container's root as the
// init (pid) sees it.
func openBusyHold(pid int) (*busyHold, error) {
	f, err := os.OpenFile("/proc/"+itoa(pid)+"/root/run/host/"+BusyFile, os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	return &busyHold{f}, nil
}

// held says whether anyone inside holds the lock. It tries to take the
// lock exclusively, without waiting, and gives it back at once: someone
// inside waiting for a shared lock waits that long, a few microseconds.
func (b *busyHold) held() bool {
	if b == nil {
		return false
	}
	rc, err := b.f.SyscallConn()
	if err != nil {
		return false
	}
	held := false
	_ = rc.Control(func(fd uintptr) {
		err := unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			_ = unix.Flock(int(fd), unix.LOCK_UN)
			return
		}
		held = err == unix.EWOULDBLOCK
	})
	return held
}

func (b *busyHold) close() {
	if b != nil {
		b.f.Close()
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
