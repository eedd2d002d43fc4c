package activation

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// inetMsg builds an inet_diag_msg as the kernel sends it.
func inetMsg(family, state uint8, local netip.AddrPort, rqueue, inode uint32) []byte {
	b := make([]byte, inetDiagMsgLen+8) // an attribute's worth of bytes after it, ignored
	b[0], b[1] = family, state
	binary.BigEndian.PutUint16(b[4:], local.Port())
	a := local.Addr().As16()
	if family == 2 {
		a4 := local.Addr().As4()
		copy(b[8:], a4[:])
	} else {
		copy(b[8:], a[:])
	}
	binary.NativeEndian.PutUint32(b[56:], rqueue)
	binary.NativeEndian.PutUint32(b[60:], 4096) // wqueue: the backlog, for a listener
	binary.NativeEndian.PutUint32(b[68:], inode)
	return b
}

// unixMsg builds a unix_diag_msg with a name and an RQLEN attribute.
func unixMsg(typ, state uint8, inode uint32, name string, rq uint32) []byte {
	b := make([]byte, unixDiagMsgLen)
	b[0], b[1], b[2] = 1, typ, state
	binary.NativeEndian.PutUint32(b[4:], inode)
	attr := func(typ uint16, v []byte) {
		h := make([]byte, 4)
		binary.NativeEndian.PutUint16(h, uint16(4+len(v)))
		binary.NativeEndian.PutUint16(h[2:], typ)
		b = append(b, h...)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	if name != "" {
		attr(unixDiagName, []byte(name))
	}
	q := make([]byte, 8)
	binary.NativeEndian.PutUint32(q, rq)
	attr(unixDiagRQLen, q)
	return b
}

func TestParseInetDiag(t *testing.T) {
	for _, c := range []struct {
		name string
		msg  []byte
		want DiagSocket
	}{
		{"v4 listener", inetMsg(2, diagListen, netip.MustParseAddrPort("127.0.0.1:8080"), 3, 77),
			DiagSocket{Family: 2, State: diagListen, Local: netip.MustParseAddrPort("127.0.0.1:8080"), Queue: 3, Inode: 77}},
		{"v6 connection", inetMsg(10, diagEstablished, netip.MustParseAddrPort("[::ffff:127.0.0.1]:80"), 0, 5),
			DiagSocket{Family: 10, State: diagEstablished, Local: netip.MustParseAddrPort("[::ffff:127.0.0.1]:80"), Inode: 5}},
	} {
		got, err := ParseInetDiag(c.msg)
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	if _, err := ParseInetDiag(make([]byte, inetDiagMsgLen-1)); err == nil {
		t.Error("a short inet_diag_msg parsed")
	}
	if _, err := ParseInetDiag(inetMsg(1, 0, netip.MustParseAddrPort("1.2.3.4:5"), 0, 0)); err == nil {
		t.Error("an inet_diag_msg of family AF_UNIX parsed")
	}
}

func TestParseUnixDiag(t *testing.T) {
	got, err := ParseUnixDiag(unixMsg(1, diagListen, 9, "/run/web.sock\x00", 2))
	want := DiagSocket{Family: 1, Type: 1, State: diagListen, Inode: 9, Name: "/run/web.sock\x00", Queue: 2}
	if err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
	// An abstract name (leading NUL) of a length that needs padding.
	got, err = ParseUnixDiag(unixMsg(5, diagEstablished, 10, "\x00ab", 0))
	if err != nil || got.Name != "\x00ab" || got.Type != 5 {
		t.Errorf("abstract name: got %+v, %v", got, err)
	}
	long := unixMsg(1, diagListen, 9, "/x", 0)
	binary.NativeEndian.PutUint16(long[unixDiagMsgLen:], 200) // an attribute longer than the message
	inet := unixMsg(1, diagListen, 9, "", 0)
	inet[0] = 2
	tiny := append(unixMsg(1, diagListen, 9, "", 0)[:unixDiagMsgLen], 2, 0, 0, 0) // length 2 < its header
	for name, msg := range map[string][]byte{
		"short":          make([]byte, unixDiagMsgLen-1),
		"long attribute": long,
		"cut attribute":  append(unixMsg(1, diagListen, 9, "", 0), 1, 2),
		"short RQLEN":    unixMsg(1, diagListen, 9, "", 0)[:unixDiagMsgLen+4+4],
		"not AF_UNIX":    inet,
		"tiny attribute": tiny,
	} {
		if _, err := ParseUnixDiag(msg); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestLoadOf(t *testing.T) {
	ap := netip.MustParseAddrPort
	lis4 := DiagSocket{Family: 2, State: diagListen, Local: ap("127.0.0.1:80"), Inode: 100}
	any4 := DiagSocket{Family: 2, State: diagListen, Local: ap("0.0.0.0:80"), Inode: 100}
	any6 := DiagSocket{Family: 10, State: diagListen, Local: ap("[::]:80"), Inode: 100}
	conn := func(family uint8, state uint8, local string, inode uint32) DiagSocket {
		return DiagSocket{Family: family, State: state, Local: ap(local), Inode: inode}
	}
	ulis := DiagSocket{Family: 1, Type: 1, State: diagListen, Name: "/run/a\x00", Inode: 200}
	uconn := func(typ uint8, name string, inode uint32) DiagSocket {
		return DiagSocket{Family: 1, Type: typ, State: diagEstablished, Name: name, Inode: inode}
	}
	for _, c := range []struct {
		name  string
		inode uint32
		socks []DiagSocket
		want  SocketLoad
	}{
		{"missing", 100, nil, SocketLoad{}},
		{"inode 0 never matches", 0, []DiagSocket{conn(2, diagEstablished, "127.0.0.1:80", 0)}, SocketLoad{}},
		{"idle listener", 100, []DiagSocket{lis4}, SocketLoad{Found: true}},
		{"accept queue", 100, []DiagSocket{withQueue(lis4, 2)}, SocketLoad{Found: true, Queued: 2}},
		{"handshake under way", 100, []DiagSocket{lis4, conn(2, diagSynRecv, "127.0.0.1:80", 0)}, SocketLoad{Found: true, Queued: 1}},
		{"held connection", 100, []DiagSocket{lis4, conn(2, diagEstablished, "127.0.0.1:80", 5)}, SocketLoad{Found: true, Connections: 1}},
		{"peer closed, still held", 100, []DiagSocket{lis4, conn(2, diagCloseWait, "127.0.0.1:80", 5)}, SocketLoad{Found: true, Connections: 1}},
		{"closed here, orphaned", 100, []DiagSocket{lis4, conn(2, diagFinWait2, "127.0.0.1:80", 0)}, SocketLoad{Found: true}},
		{"accepted by no one yet (in the queue)", 100, []DiagSocket{withQueue(lis4, 1), conn(2, diagEstablished, "127.0.0.1:80", 0)}, SocketLoad{Found: true, Queued: 1}},
		{"other port", 100, []DiagSocket{lis4, conn(2, diagEstablished, "127.0.0.1:81", 5)}, SocketLoad{Found: true}},
		{"other address", 100, []DiagSocket{lis4, conn(2, diagEstablished, "127.0.0.2:80", 5)}, SocketLoad{Found: true}},
		{"wildcard listener", 100, []DiagSocket{any4, conn(2, diagEstablished, "10.0.0.1:80", 5), conn(2, diagEstablished, "127.0.0.1:80", 6)}, SocketLoad{Found: true, Connections: 2}},
		{"dual-stack listener, v4-mapped connection", 100, []DiagSocket{any6, conn(10, diagEstablished, "[::ffff:127.0.0.1]:80", 5)}, SocketLoad{Found: true, Connections: 1}},
		{"v4 listener ignores v6 sockets", 100, []DiagSocket{any4, conn(10, diagEstablished, "[::1]:80", 5)}, SocketLoad{Found: true}},
		{"the client end is not ours", 100, []DiagSocket{lis4, conn(2, diagEstablished, "127.0.0.1:45000", 7)}, SocketLoad{Found: true}},
		{"unix listener", 200, []DiagSocket{ulis}, SocketLoad{Found: true}},
		{"unix queue", 200, []DiagSocket{withQueue(ulis, 1)}, SocketLoad{Found: true, Queued: 1}},
		{"unix connection", 200, []DiagSocket{ulis, uconn(1, "/run/a\x00", 9), uconn(1, "", 10)}, SocketLoad{Found: true, Connections: 1}},
		{"unix connection of another type", 200, []DiagSocket{ulis, uconn(5, "/run/a\x00", 9)}, SocketLoad{Found: true}},
		{"unix connection to another name", 200, []DiagSocket{ulis, uconn(1, "/run/b\x00", 9)}, SocketLoad{Found: true}},
		{"datagram socket: its queue", 300, []DiagSocket{{Family: 2, State: diagClose, Local: ap("0.0.0.0:53"), Inode: 300, Queue: 64}}, SocketLoad{Found: true, Queued: 64}},
	} {
		got := LoadOf(c.inode, c.socks)
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
		if got.Busy() != (c.want.Connections > 0 || c.want.Queued > 0) {
			t.Errorf("%s: Busy() = %v", c.name, got.Busy())
		}
	}
}

func withQueue(s DiagSocket, q uint32) DiagSocket {
	s.Queue = q
	return s
}

func TestDiagRequests(t *testing.T) {
	r := inetDiagRequest(10, 6, inetDiagStates)
	if len(r) != inetDiagReqLen || r[0] != 10 || r[1] != 6 || binary.NativeEndian.Uint32(r[4:]) != inetDiagStates {
		t.Errorf("inet request: % x", r)
	}
	if inetDiagStates&(1<<diagTimeWait|1<<diagClose) != 0 || inetDiagStates&(1<<diagListen) == 0 {
		t.Errorf("inet states %#x: want listeners and held states, not TIME_WAIT or CLOSE", inetDiagStates)
	}
	u := unixDiagRequest()
	if len(u) != unixDiagReqLen || u[0] != 1 || binary.NativeEndian.Uint32(u[12:]) != unixDiagShowName|unixDiagShowRQ {
		t.Errorf("unix request: % x", u)
	}
}

// FuzzParseDiag: neither parser panics, and what parses round-trips
// through the test's own encoder.
func FuzzParseDiag(f *testing.F) {
	f.Add(inetMsg(2, diagListen, netip.MustParseAddrPort("127.0.0.1:80"), 1, 2))
	f.Add(unixMsg(1, diagListen, 9, "/run/web.sock\x00", 2))
	f.Add(unixMsg(5, diagEstablished, 9, "\x00abstract", 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := ParseInetDiag(b); err == nil {
			again, err := ParseInetDiag(inetMsg(s.Family, s.State, s.Local, s.Queue, s.Inode))
			if err != nil || again != s {
				t.Errorf("inet round trip: %+v -> %+v, %v", s, again, err)
			}
		}
		if s, err := ParseUnixDiag(b); err == nil && s.Name != "" {
			again, err := ParseUnixDiag(unixMsg(s.Type, s.State, s.Inode, s.Name, s.Queue))
			if err != nil || again != s {
				t.Errorf("unix round trip: %+v -> %+v, %v", s, again, err)
			}
		}
	})
}
