package activation

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// The sock_diag messages the idleness probe sends and reads (linux
// sock_diag.h, inet_diag.h, unix_diag.h). Requests are built and replies
// parsed here as plain bytes, so that both are tested without a kernel;
// idleprobe_linux.go sends them.

// Socket states as sock_diag reports them (the kernel's TCP_* values, which
// AF_UNIX sockets reuse).
const (
	diagEstablished = 1
	diagSynRecv     = 3
	diagFinWait1    = 4
	diagFinWait2    = 5
	diagTimeWait    = 6
	diagClose       = 7
	diagCloseWait   = 8
	diagLastAck     = 9
	diagListen      = 10
	diagClosing     = 11
)

// Sizes of the fixed parts (inet_diag_req_v2, inet_diag_msg, unix_diag_req,
// unix_diag_msg).
const (
	inetDiagReqLen = 56
	inetDiagMsgLen = 72
	unixDiagReqLen = 24
	unixDiagMsgLen = 16
)

// unix_diag attributes and the bits that ask for them.
const (
	unixDiagName     = 0
	unixDiagRQLen    = 4
	unixDiagShowName = 1 << unixDiagName
	unixDiagShowRQ   = 1 << unixDiagRQLen
)

// inetDiagStates are the TCP states the probe asks for: every state a
// connection can be in while it counts (see SocketLoad), and the
// listeners themselves; not TIME_WAIT or CLOSE, which no one holds.
const inetDiagStates = 1<<diagEstablished | 1<<diagSynRecv | 1<<diagFinWait1 | 1<<diagFinWait2 |
	1<<diagCloseWait | 1<<diagLastAck | 1<<diagListen | 1<<diagClosing

// DiagSocket is one socket as sock_diag reports it.
type DiagSocket struct {
	Family uint8          // AF_INET, AF_INET6 or AF_UNIX
	Type   uint8          // AF_UNIX only: SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
	State  uint8          // TCP_* state
	Local  netip.AddrPort // AF_INET, AF_INET6: the local address
	Name   string         // AF_UNIX: the bound name as the kernel has it ("" if unbound)
	Inode  uint32         // 0 for a socket no process holds (orphaned, or not yet accepted)
	Queue  uint32         // a listener's accept queue; a datagram socket's receive queue in bytes
}

// inetDiagRequest is an inet_diag_req_v2 dumping the sockets of family and
// protocol (IPPROTO_TCP or IPPROTO_UDP) in the given states.
func inetDiagRequest(family, protocol uint8, states uint32) []byte {
	b := make([]byte, inetDiagReqLen)
	b[0], b[1] = family, protocol
	binary.NativeEndian.PutUint32(b[4:], states)
	return b
}

// unixDiagRequest is a unix_diag_req dumping every AF_UNIX socket with its
// name and queue lengths.
func unixDiagRequest() []byte {
	b := make([]byte, unixDiagReqLen)
	b[0] = 1 // AF_UNIX
	binary.NativeEndian.PutUint32(b[4:], ^uint32(0))
	binary.NativeEndian.PutUint32(b[12:], unixDiagShowName|unixDiagShowRQ)
	return b
}

var errDiagShort = errors.New("sock_diag reply too short")

// ParseInetDiag parses one inet_diag_msg (the payload of a netlink
// message; attributes after it are ignored).
func ParseInetDiag(b []byte) (DiagSocket, error) {
	if len(b) < inetDiagMsgLen {
		return DiagSocket{}, fmt.Errorf("inet_diag_msg: %w (%d bytes)", errDiagShort, len(b))
	}
	s := DiagSocket{Family: b[0], State: b[1]}
	port := binary.BigEndian.Uint16(b[4:6])
	switch s.Family {
	case 2: // AF_INET
		s.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[8:12])), port)
	case 10: // AF_INET6
		s.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), port)
	default:
		return DiagSocket{}, fmt.Errorf("inet_diag_msg: address family %d", s.Family)
	}
	s.Queue = binary.NativeEndian.Uint32(b[56:60]) // idiag_rqueue
	s.Inode = binary.NativeEndian.Uint32(b[68:72])
	return s, nil
}

// ParseUnixDiag parses one unix_diag_msg with its attributes.
func ParseUnixDiag(b []byte) (DiagSocket, error) {
	if len(b) < unixDiagMsgLen {
		return DiagSocket{}, fmt.Errorf("unix_diag_msg: %w (%d bytes)", errDiagShort, len(b))
	}
	s := DiagSocket{Family: b[0], Type: b[1], State: b[2], Inode: binary.NativeEndian.Uint32(b[4:8])}
	if s.Family != 1 {
		return DiagSocket{}, fmt.Errorf("unix_diag_msg: address family %d", s.Family)
	}
	for a := b[unixDiagMsgLen:]; len(a) > 0; {
		if len(a) < 4 {
			return DiagSocket{}, fmt.Errorf("unix_diag attribute: %w", errDiagShort)
		}
		n, typ := int(binary.NativeEndian.Uint16(a[0:2])), binary.NativeEndian.Uint16(a[2:4])&0x3fff
		if n < 4 || n > len(a) {
			return DiagSocket{}, fmt.Errorf("unix_diag attribute %d: length %d of %d bytes left", typ, n, len(a))
		}
		v := a[4:n]
		switch typ {
		case unixDiagName:
			s.Name = string(v)
		case unixDiagRQLen:
			if len(v) < 8 {
				return DiagSocket{}, fmt.Errorf("unix_diag RQLEN attribute: %w", errDiagShort)
			}
			s.Queue = binary.NativeEndian.Uint32(v[0:4])
		}
		next := (n + 3) &^ 3
		if next > len(a) {
			next = len(a)
		}
		a = a[next:]
	}
	return s, nil
}

// SocketLoad is what keeps one listening socket busy.
type SocketLoad struct {
	// Found is false when sock_diag did not report the socket at all.
	Found bool
	// Connections is the number of connections to the socket that a
	// process holds: accepted and not yet closed by whoever accepted it.
	// A connection the peer has closed (CLOSE_WAIT) still counts until it
	// is closed here too; one closed here and lingering in the kernel
	// (FIN_WAIT, orphaned) does not.
	Connections int
	// Queued is the number of connections waiting to be accepted (or
	// still in their handshake), or for a datagram socket the bytes
	// waiting to be read.
	Queued int
}

// Busy says whether the load keeps the machine awake.
func (l SocketLoad) Busy() bool { return l.Connections > 0 || l.Queued > 0 }

// LoadOf finds the listening socket with the given inode among socks (one
// dump of its network namespace, family and protocol) and counts what
// keeps it busy. Connections are matched to the listener by its local
// address, as the kernel gives accepted sockets the listener's address:
// for TCP the port and address (any address for a wildcard listener) in
// the same family; for AF_UNIX the bound name and socket type.
func LoadOf(inode uint32, socks []DiagSocket) SocketLoad {
	var l *DiagSocket
	for i := range socks {
		if socks[i].Inode == inode && inode != 0 {
			l = &socks[i]
			break
		}
	}
	if l == nil {
		return SocketLoad{}
	}
	load := SocketLoad{Found: true, Queued: int(l.Queue)}
	if l.State != diagListen {
		return load // a datagram socket: its queue is all there is
	}
	for i := range socks {
		s := &socks[i]
		if s == l || !connectedTo(s, l) {
			continue
		}
		switch {
		case s.Family != 1 && s.State == diagSynRecv:
			load.Queued++ // a handshake under way: the next accept
		case s.Inode != 0 && heldState(s.State):
			load.Connections++
		}
	}
	return load
}

// connectedTo says whether s has the local address of the listener l.
func connectedTo(s, l *DiagSocket) bool {
	if s.Family != l.Family {
		return false
	}
	if s.Family == 1 {
		return s.Type == l.Type && s.Name != "" && s.Name == l.Name
	}
	if s.Local.Port() != l.Local.Port() {
		return false
	}
	return l.Local.Addr().IsUnspecified() || s.Local.Addr() == l.Local.Addr()
}

// heldState says whether a connection in this state is open on our side.
func heldState(state uint8) bool {
	switch state {
	case diagEstablished, diagCloseWait, diagFinWait1, diagFinWait2, diagLastAck, diagClosing:
		return true
	}
	return false
}
