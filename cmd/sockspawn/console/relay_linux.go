package console

import (
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/units"
)

// Relay holds the master of the container's /dev/console for the
// container's whole life and relays it to the supervisor's stdio as the
// --console mode says. It also holds a peer fd, so reading the master never
// sees a hangup while the container has the console closed (systemd opens
// it only to write).
type Relay struct {
	master  *os.File
	peer    *os.File
	restore func()
	out     sync.WaitGroup
	spool   *Spool        // between the master and stdout
	drain   *passiveDrain // with --console=passive, instead of master
}

// Start relays the container's console, master (nil: the container has
// none) with its peer, as mode says: to stdout, and from stdin when
// interactive; kill stops the container at once (the escape key).
func Start(mode units.Console, master, peer *os.File, stdin, stdout *os.File, kill func()) (*Relay, error) {
	if master == nil {
		return &Relay{}, nil
	}
	if mode != units.ConsoleInteractive && mode != units.ConsoleReadOnly {
		d, err := startPassiveDrain(master)
		if err != nil {
			return nil, err
		}
		return &Relay{peer: peer, restore: func() {}, drain: d}, nil
	}
	m, err := pollable(master)
	if err != nil {
		return nil, err
	}
	// The master is read as fast as the container writes: a slow reader
	// of our stdout costs console output, never the container's time.
	r := &Relay{master: m, peer: peer, restore: func() {}, spool: NewSpool(stdout, DefaultLimit)}
	r.out.Add(1)
	go func() {
		defer r.out.Done()
		_, _ = io.Copy(r.spool, r.master)
	}()
	if mode == units.ConsoleInteractive {
		if restore, err := RawTerminal(stdin); err == nil {
			r.restore = restore
		}
		if IsTerminal(stdin) {
			r.Resize(stdin)
		}
		go r.copyInput(stdin, kill)
	}
	return r, nil
}

// pollable returns a non-blocking duplicate of f, so that reads go through
// Go's poller: an idle console costs no wake-ups.
func pollable(f *os.File) (*os.File, error) {
	fd, err := nonblockingDup(f)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "/dev/console"), nil
}

// nonblockingDup moves f to a close-on-exec, non-blocking duplicate of its
// fd, numbered 3 or above, and closes f.
func nonblockingDup(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	var nfd int
	var derr error
	if err := rc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 3) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", derr)
	}
	f.Close()
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, os.NewSyscallError("fcntl(O_NONBLOCK)", err)
	}
	return nfd, nil
}

func (r *Relay) copyInput(stdin *os.File, kill func()) {
	buf := make([]byte, 4096)
	var d detacher // on an interactive console, ^]^]^] stops the container at once, as in systemd-nspawn
	for {
		n, err := stdin.Read(buf)
		if d.feed(buf[:n], time.Now()) {
			kill()
			return
		}
		if n > 0 {
			if _, werr := r.master.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Resize copies the terminal size of stdin to the console.
func (r *Relay) Resize(stdin *os.File) {
	if r.master == nil {
		return
	}
	ws, err := unix.IoctlGetWinsize(int(stdin.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	rc, err := r.master.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) })
}

// Close flushes what the container wrote last, restores the terminal and
// releases the console.
func (r *Relay) Close() {
	if r.drain != nil {
		// Nothing to flush: what is left is dropped with the console.
		r.peer.Close()
		r.drain.close()
		return
	}
	if r.master == nil {
		return
	}
	if r.peer != nil {
		r.peer.Close()
	}
	// Whatever is still buffered is read until the master runs dry.
	_ = r.master.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	r.out.Wait()
	r.master.Close()
	// Then written out, unless our stdout's reader has stopped reading.
	r.spool.Close(time.Second)
	r.restore()
}
