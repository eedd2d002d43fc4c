package idlewatch

import (
	"strconv"
	"strings"
)

// LockHolder finds, in the text of /proc/locks, the pid holding a flock
// on the file with the given device (major, minor) and inode; 0 if none.
// Lines read "1: FLOCK  ADVISORY  WRITE 5595 fe:00:753743 0 EOF", the
// device in hex; a waiter's line has "->" after its number and is
// skipped.
func LockHolder(locks string, major, minor uint32, inode uint64) int {
	for _, l := range strings.Split(locks, "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || f[1] != "FLOCK" {
			continue
		}
		id := strings.Split(f[5], ":")
		if len(id) != 3 {
			continue
		}
		maj, err1 := strconv.ParseUint(id[0], 16, 32)
		min, err2 := strconv.ParseUint(id[1], 16, 32)
		ino, err3 := strconv.ParseUint(id[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || uint32(maj) != major || uint32(min) != minor || ino != inode {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil || pid <= 0 {
			continue
		}
		return pid
	}
	return 0
}
