package console

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// passiveInterval is how long the output of a passive console may pile
// up before it is read and dropped. Nothing shows it, and reading each
// line as it comes would wake the supervisor dozens of times while the
// container boots or shuts down, on the CPUs its systemd needs then.
var passiveInterval = 50 * time.Millisecond

// passiveBacklog is what one drain must read for the next to follow at
// once. The pty's line discipline passes on at most 4 KiB at a time; a
// drain that finds half of that has a container writing faster than a
// trickle, which must not wait on its console.
const passiveBacklog = 2048

// passiveDrain drops what the container writes to a passive console
// (--console=passive): nothing shows it, but a pty nobody reads fills up,
// and then blocks the container's writes (systemd-nspawn reads none, and
// risks that).
//
// Go's poller would wake on every write to the pty, read or not, and a
// goroutine blocked in poll(2) keeps the runtime's monitor thread polling
// for 10 ms each time it blocks anew. So the pty is in an epoll set of
// its own, armed for one event at a time (EPOLLONESHOT), and only that
// set is in Go's poller: while a drain waits out passiveInterval, writes
// wake nobody.
type passiveDrain struct {
	fd   int      // the pty master, non-blocking
	ep   int      // the epoll set watching fd
	set  *os.File // ep, in Go's poller (its Fd would make it blocking)
	done chan struct{}
	end  chan struct{} // closed when run returns
}

func startPassiveDrain(master *os.File) (*passiveDrain, error) {
	fd, err := nonblockingDup(master)
	if err != nil {
		return nil, err
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err == nil {
		err = armOnce(ep, unix.EPOLL_CTL_ADD, fd)
		if err == nil {
			err = unix.SetNonblock(ep, true) // so that Go's poller takes it
		}
	}
	if err != nil {
		unix.Close(fd)
		if ep >= 0 {
			unix.Close(ep)
		}
		return nil, os.NewSyscallError("console epoll set", err)
	}
	d := &passiveDrain{fd: fd, ep: ep, set: os.NewFile(uintptr(ep), "console epoll"), done: make(chan struct{}), end: make(chan struct{})}
	go d.run()
	return d, nil
}

// armOnce adds (op EPOLL_CTL_ADD) or re-arms (EPOLL_CTL_MOD) fd in the
// epoll set ep for the next time it is readable, once.
func armOnce(ep, op, fd int) error {
	return unix.EpollCtl(ep, op, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(fd)})
}

// run waits for output, reads all there is, and, unless that was a
// backlog, lets the next output wait for passiveInterval. It returns when
// close is called, or when no one has the console open any more.
func (d *passiveDrain) run() {
	defer close(d.end)
	rc, err := d.set.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, 4096)
	events := make([]unix.EpollEvent, 1)
	// One timer for every wait: a new one each time allocated, and ran
	// code that an idle supervisor otherwise never maps again.
	pause := time.NewTimer(passiveInterval)
	pause.Stop()
	defer pause.Stop()
	for {
		// Parked in Go's poller until the set is readable: the pty had
		// output since it was armed.
		err := rc.Read(func(ep uintptr) bool {
			n, err := unix.EpollWait(int(ep), events, 0)
			return n > 0 || (err != nil && err != unix.EINTR)
		})
		if err != nil {
			return // closed
		}
		read := 0
		for {
			n, err := unix.Read(d.fd, buf)
			if n > 0 {
				read += n
				continue
			}
			if err == unix.EINTR {
				continue
			}
			if err != unix.EAGAIN {
				return // EIO: no one has the console open any more
			}
			break
		}
		if read < passiveBacklog {
			pause.Reset(passiveInterval)
			select {
			case <-d.done:
				return
			case <-pause.C:
			}
		}
		if err := armOnce(d.ep, unix.EPOLL_CTL_MOD, d.fd); err != nil {
			return
		}
	}
}

// close stops the drain and closes the console.
func (d *passiveDrain) close() {
	close(d.done)
	_ = d.set.SetReadDeadline(time.Now()) // ends a wait in the poller
	<-d.end
	d.set.Close()
	unix.Close(d.fd)
}
