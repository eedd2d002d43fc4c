package idlewatch

import (
	"fmt"
	"testing"
)

const procLocks = `1: FLOCK  ADVISORY  WRITE 5595 fe:00:753743 0 EOF
2: FLOCK  ADVISORY  WRITE 4868 00:32:133 0 EOF
2: -> FLOCK  ADVISORY  WRITE 4999 00:32:133 0 EOF
3: POSIX  ADVISORY  WRITE 777 00:32:900 0 EOF
4: OFDLCK ADVISORY  READ  -1 00:32:901 0 EOF
5: FLOCK  ADVISORY  WRITE 4242 103:05:133 0 EOF
`

func TestLockHolder(t *testing.T) {
	for _, c := range []struct {
		major, minor uint32
		ino          uint64
		want         int
	}{
		{0xfe, 0, 753743, 5595},
		{0, 0x32, 133, 4868}, // the holder, not the waiter
		{0x103, 5, 133, 4242},
		{0, 0x32, 900, 0}, // a POSIX lock is not the supervisor's flock
		{0, 0x32, 134, 0},
		{0xfe, 1, 753743, 0},
	} {
		if got := LockHolder(procLocks, c.major, c.minor, c.ino); got != c.want {
			t.Errorf("LockHolder(%x:%x:%d) = %d, want %d", c.major, c.minor, c.ino, got, c.want)
		}
	}
}

func FuzzLockHolder(f *testing.F) {
	f.Add(procLocks, uint32(0xfe), uint32(0), uint64(753743))
	f.Add("1: FLOCK ADVISORY WRITE -5 0:0:0 0 EOF", uint32(0), uint32(0), uint64(0))
	f.Fuzz(func(t *testing.T, text string, major, minor uint32, ino uint64) {
		pid := LockHolder(text, major, minor, ino)
		if pid < 0 {
			t.Fatalf("negative pid %d", pid)
		}
		// A line written for the answer is found.
		line := fmt.Sprintf("9: FLOCK  ADVISORY  WRITE 42 %02x:%02x:%d 0 EOF\n", major, minor, ino)
		if got := LockHolder(line, major, minor, ino); got != 42 {
			t.Fatalf("LockHolder of its own line = %d", got)
		}
	})
}
