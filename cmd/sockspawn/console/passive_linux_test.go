package console

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/units"
)

// openPTY returns a pty master and a peer (slave) fd for it.
func openPTY(t *testing.T) (master, peer *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	return m, openPeer(t, m)
}

func openPeer(t *testing.T, m *os.File) *os.File {
	t.Helper()
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		t.Fatalf("TIOCGPTPEER: %v", errno)
	}
	p := os.NewFile(fd, "pty peer")
	// Raw, so that the line discipline passes bytes through unchanged.
	tio, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ICANON | unix.ECHO
	if err := unix.IoctlSetTermios(int(fd), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return p
}

// startPassive starts a passive console on a new pty, and returns it with
// a second peer of the pty to write to, as the container would.
func startPassive(t *testing.T) (*Relay, *os.File) {
	t.Helper()
	master, peer := openPTY(t)
	writer := openPeer(t, master)
	r, err := Start(units.ConsolePassive, master, peer, nil, nil, func() {})
	if err != nil {
		writer.Close()
		t.Fatal(err)
	}
	return r, writer
}

// pending is how many bytes the container wrote that no one read yet.
func pending(t *testing.T, d *passiveDrain) int {
	t.Helper()
	n, err := unix.IoctlGetInt(d.fd, unix.TIOCINQ)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A passive console drops the container's output in batches: a trickle
// waits for the next drain, and close ends a drain that is waiting.
func TestPassiveConsoleBatches(t *testing.T) {
	defer func(d time.Duration) { passiveInterval = d }(passiveInterval)
	passiveInterval = time.Hour

	r, writer := startPassive(t)
	defer writer.Close()
	// The first line is read at once; the next waits for the interval.
	if _, err := writer.Write([]byte("first line\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first line to be read", func() bool { return pending(t, r.drain) == 0 })
	time.Sleep(100 * time.Millisecond) // the drain has seen the end of it
	line := []byte("a line that waits\n")
	if _, err := writer.Write(line); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := pending(t, r.drain); n != len(line) {
		t.Errorf("%d bytes pending after a second line, want %d: a trickle should wait for the next drain", n, len(line))
	}
	if polled(t, r.drain.fd, r.drain.ep) {
		t.Errorf("the passive console (fd %d) is in Go's poller, which wakes on every write to it", r.drain.fd)
	}
	closeWithin(t, r, writer, 5*time.Second)
}

// polled reports whether fd is watched by an epoll instance of this
// process (Go's poller has one) other than the one numbered own.
func polled(t *testing.T, fd, own int) bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); l != "anon_inode:[eventpoll]" || e.Name() == strconv.Itoa(own) {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "tfd:" && f[1] == strconv.Itoa(fd) {
				return true
			}
		}
	}
	return false
}

// A flood of output is read as fast as it comes: a container writing much
// never waits on its passive console. 4 MiB, a thousand times what the
// pty passes on at once, would take a minute at one read per interval.
func TestPassiveConsoleFlood(t *testing.T) {
	r, writer := startPassive(t)
	defer writer.Close()
	flood := bytes.Repeat([]byte("x"), 4<<20)
	wrote := make(chan error, 1)
	go func() {
		_, err := writer.Write(flood)
		wrote <- err
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a 4 MiB write to a passive console did not finish within 10 s")
	}
	closeWithin(t, r, writer, 5*time.Second)
}

func closeWithin(t *testing.T, r *Relay, writer *os.File, limit time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		writer.Close()
		r.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("close did not return within %v", limit)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
