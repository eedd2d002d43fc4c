package activation

import (
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxRelayFDs is SCM_MAX_FD, the most fds one datagram can carry. The relay
// makes room for all of them so that the kernel never truncates the control
// data and every fd reaches us to be closed.
const maxRelayFDs = 253

// Relay reads the sd_notify datagrams the container's init sends to its
// $NOTIFY_SOCKET and delivers those that pass every check on Messages.
//
// A datagram is dropped, and counted in Stats, when it carries fds
// (SCM_RIGHTS: every one is closed on arrival), was truncated or is larger
// than MaxNotifySize, has no SCM_CREDENTIALS, comes from a pid that accept
// refuses, or fails ParseNotify.
type Relay struct {
	conn   *net.UnixConn
	accept func(pid int32) bool
	msgs   chan Message
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when the reader has returned
	debug  atomic.Pointer[func(format string, args ...any)]
	counts [dropReasons]atomic.Uint64

	closeOnce sync.Once
	closeErr  error
	mu        sync.Mutex
	err       error // what stopped the reader, if not Close
}

// NewRelay starts relaying the datagrams that arrive on sock, an AF_UNIX
// SOCK_DGRAM socket already bound to the container's notify path. It turns
// SO_PASSCRED on, so each datagram carries its sender's credentials, and
// reads through the Go poller, so an idle relay costs no wake-ups. The relay
// works on its own duplicate of sock: the caller may close sock afterwards.
//
// accept is asked about each sender's pid, as seen from the supervisor's pid
// namespace; the supervisor accepts only the container's init, as nspawn
// does. A nil accept accepts every sender that has credentials.
//
// If the socket cannot be used, Messages is closed at once and Err says why.
func NewRelay(sock *os.File, accept func(pid int32) bool) *Relay {
	r := &Relay{
		accept: accept,
		msgs:   make(chan Message, 16),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	rc, err := r.setup(sock)
	if err != nil {
		r.err = fmt.Errorf("notify relay on %s: %w", sock.Name(), err)
		close(r.msgs)
		close(r.exited)
		return r
	}
	go r.run(rc)
	return r
}

// setup checks the socket, turns SO_PASSCRED on and takes a duplicate of it
// into the Go poller.
func (r *Relay) setup(sock *os.File) (syscall.RawConn, error) {
	src, err := sock.SyscallConn()
	if err != nil {
		return nil, err
	}
	var opErr error
	err = src.Control(func(fd uintptr) {
		var domain, typ int
		if domain, opErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN); opErr != nil {
			opErr = os.NewSyscallError("getsockopt(SO_DOMAIN)", opErr)
			return
		}
		if typ, opErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE); opErr != nil {
			opErr = os.NewSyscallError("getsockopt(SO_TYPE)", opErr)
			return
		}
		if domain != unix.AF_UNIX || typ != unix.SOCK_DGRAM {
			opErr = fmt.Errorf("not an AF_UNIX datagram socket (domain %d, type %d)", domain, typ)
			return
		}
		if opErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1); opErr != nil {
			opErr = os.NewSyscallError("setsockopt(SO_PASSCRED)", opErr)
		}
	})
	if err == nil {
		err = opErr
	}
	if err != nil {
		return nil, err
	}
	c, err := net.FileConn(sock)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("not an AF_UNIX socket but %T", c)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		return nil, err
	}
	r.conn = uc
	return rc, nil
}

// SetDebug sets a function that is told about every dropped datagram, such
// as log.Printf; nil turns the reports off.
func (r *Relay) SetDebug(debug func(format string, args ...any)) {
	if debug == nil {
		r.debug.Store(nil)
		return
	}
	r.debug.Store(&debug)
}

// Messages returns the channel of accepted messages. It is closed when the
// relay stops, after Close or on a read error (see Err).
func (r *Relay) Messages() <-chan Message {
	return r.msgs
}

// Err returns what stopped the relay: nil while it runs and after Close.
func (r *Relay) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close stops the relay, closes its socket and waits for its reader to
// return. Calling it again returns the first result.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		close(r.done)
		if r.conn != nil {
			if err := r.conn.Close(); err != nil {
				r.closeErr = fmt.Errorf("close notify relay: %w", err)
			}
		}
		<-r.exited
	})
	return r.closeErr
}

// run is the reader goroutine.
func (r *Relay) run(rc syscall.RawConn) {
	defer close(r.exited)
	defer close(r.msgs)
	buf := make([]byte, MaxNotifySize+1)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*maxRelayFDs))
	for {
		var n, oobn, flags int
		var recvErr error
		err := rc.Read(func(fd uintptr) bool {
			for {
				n, oobn, flags, _, recvErr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
				if recvErr != unix.EINTR {
					return recvErr != unix.EAGAIN
				}
			}
		})
		if err == nil && recvErr != nil {
			closeRights(oob[:oobn])
			err = os.NewSyscallError("recvmsg", recvErr)
		}
		if err != nil {
			select {
			case <-r.done:
			default:
				r.mu.Lock()
				r.err = fmt.Errorf("notify relay: %w", err)
				r.mu.Unlock()
			}
			return
		}
		m, reason, detail := inspectDatagram(buf[:n], oob[:oobn], flags, r.accept)
		if reason != dropNone {
			r.counts[reason].Add(1)
			if debug := r.debug.Load(); debug != nil {
				(*debug)("notify relay: dropped a datagram: %s", detail)
			}
			continue
		}
		r.counts[dropNone].Add(1)
		select {
		case r.msgs <- m:
		case <-r.done:
			return
		}
	}
}

// dropReason says why the relay dropped a datagram; dropNone counts those
// it accepted.
type dropReason int

const (
	dropNone dropReason = iota
	dropFDs
	dropTruncated
	dropNoCredentials
	dropRejected
	dropMalformed
	dropReasons // the number of reasons
)

// Stats counts the datagrams a Relay has read.
type Stats struct {
	Accepted      uint64 // delivered on Messages
	Dropped       uint64 // the sum of the counts below
	WithFDs       uint64 // carried SCM_RIGHTS
	Truncated     uint64 // larger than MaxNotifySize, or control data cut short
	NoCredentials uint64 // no SCM_CREDENTIALS
	Rejected      uint64 // sender pid refused by accept
	Malformed     uint64 // refused by ParseNotify
}

// Stats returns the relay's counters so far.
func (r *Relay) Stats() Stats {
	s := Stats{
		Accepted:      r.counts[dropNone].Load(),
		WithFDs:       r.counts[dropFDs].Load(),
		Truncated:     r.counts[dropTruncated].Load(),
		NoCredentials: r.counts[dropNoCredentials].Load(),
		Rejected:      r.counts[dropRejected].Load(),
		Malformed:     r.counts[dropMalformed].Load(),
	}
	s.Dropped = s.WithFDs + s.Truncated + s.NoCredentials + s.Rejected + s.Malformed
	return s
}

// inspectDatagram decides about one received datagram, given its payload,
// control data and recvmsg flags. It closes every fd the datagram carried,
// whatever it decides. detail describes a drop.
func inspectDatagram(data, oob []byte, flags int, accept func(pid int32) bool) (Message, dropReason, string) {
	nfds := closeRights(oob)
	if nfds > 0 {
		return Message{}, dropFDs, fmt.Sprintf("it carried %d fds (closed)", nfds)
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || len(data) > MaxNotifySize {
		return Message{}, dropTruncated, fmt.Sprintf("larger than %d bytes or truncated (flags %#x)", MaxNotifySize, flags)
	}
	cred := credentialsOf(oob)
	if cred == nil {
		return Message{}, dropNoCredentials, "no SCM_CREDENTIALS"
	}
	if accept != nil && !accept(cred.Pid) {
		return Message{}, dropRejected, fmt.Sprintf("sender pid %d (uid %d) is not accepted", cred.Pid, cred.Uid)
	}
	m, err := ParseNotify(data)
	if err != nil {
		return Message{}, dropMalformed, fmt.Sprintf("from pid %d: %v", cred.Pid, err)
	}
	return m, dropNone, ""
}

// closeRights closes every fd passed in SCM_RIGHTS messages of oob and
// returns how many there were.
func closeRights(oob []byte) int {
	if len(oob) == 0 {
		return 0
	}
	msgs := controlMessages(oob)
	n := 0
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		fds, _ := unix.ParseUnixRights(&msgs[i])
		for _, fd := range fds {
			unix.Close(fd)
			n++
		}
	}
	return n
}

// credentialsOf returns the SCM_CREDENTIALS of oob, or nil.
func credentialsOf(oob []byte) *unix.Ucred {
	msgs := controlMessages(oob)
	for i := range msgs {
		if msgs[i].Header.Level == unix.SOL_SOCKET && msgs[i].Header.Type == unix.SCM_CREDENTIALS {
			if cred, err := unix.ParseUnixCredentials(&msgs[i]); err == nil {
				return cred
			}
		}
	}
	return nil
}

// controlMessages parses oob into control messages. Unlike
// unix.ParseSocketControlMessage it keeps the well-formed messages before a
// malformed one, so that no fd they carry escapes closeRights.
func controlMessages(oob []byte) []unix.SocketControlMessage {
	var msgs []unix.SocketControlMessage
	for len(oob) >= unix.CmsgLen(0) {
		hdr, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			break
		}
		msgs = append(msgs, unix.SocketControlMessage{Header: hdr, Data: data})
		oob = rest
	}
	return msgs
}
