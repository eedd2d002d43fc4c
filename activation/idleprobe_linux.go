package activation

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// IdleProbe reads, with sock_diag, what keeps the listening sockets handed
// to a container busy: connections a process holds and connections (or
// datagrams) waiting in their queues. Each socket is looked up in the
// network namespace it was bound in, by its inode; the probe keeps one
// sock_diag socket per namespace, made once.
type IdleProbe struct {
	socks []probeSocket
	nets  []*diagNet
}

type probeSocket struct {
	name   string
	inode  uint32
	family int // AF_INET, AF_INET6, AF_UNIX
	proto  int // IPPROTO_TCP or IPPROTO_UDP for inet sockets
	net    *diagNet
}

// diagNet is one network namespace's sock_diag socket.
type diagNet struct {
	ino  uint64
	sock *nl.SocketHandle
}

// NewIdleProbe prepares a probe of the sockets in files (which it does not
// keep). Inet sockets must be TCP or UDP.
func NewIdleProbe(files []*os.File) (*IdleProbe, error) {
	p := &IdleProbe{}
	ownNet, err := nsInode("/proc/thread-self/ns/net")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		s, nsfd, err := describeSocket(f)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("watch %s for idleness: %w", f.Name(), err)
		}
		err = p.attach(&s, nsfd, ownNet)
		if nsfd >= 0 {
			unix.Close(nsfd)
		}
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("watch %s for idleness: %w", f.Name(), err)
		}
		p.socks = append(p.socks, s)
	}
	return p, nil
}

// describeSocket reads what the probe needs of f, and an fd of its network
// namespace (-1 where the kernel does not say: SIOCGSKNS wants
// CAP_NET_ADMIN, and without it the probe looks in its own namespace).
func describeSocket(f *os.File) (probeSocket, int, error) {
	s := probeSocket{name: f.Name()}
	fd, err := rawFD(f)
	if err != nil {
		return s, -1, err
	}
	if s.family, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil {
		return s, -1, os.NewSyscallError("getsockopt(SO_DOMAIN)", err)
	}
	switch s.family {
	case unix.AF_UNIX:
	case unix.AF_INET, unix.AF_INET6:
		if s.proto, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL); err != nil {
			return s, -1, os.NewSyscallError("getsockopt(SO_PROTOCOL)", err)
		}
		if s.proto != unix.IPPROTO_TCP && s.proto != unix.IPPROTO_UDP {
			return s, -1, fmt.Errorf("IP protocol %d: only TCP and UDP sockets can be watched", s.proto)
		}
	default:
		return s, -1, fmt.Errorf("address family %d: only IP and AF_UNIX sockets can be watched", s.family)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return s, -1, os.NewSyscallError("fstat", err)
	}
	s.inode = uint32(st.Ino)
	nsfd, err := unix.IoctlRetInt(fd, unix.SIOCGSKNS)
	if err != nil {
		if err == unix.EPERM {
			return s, -1, nil
		}
		return s, -1, os.NewSyscallError("ioctl(SIOCGSKNS)", err)
	}
	return s, nsfd, nil
}

// attach finds or makes the sock_diag socket of s's namespace.
func (p *IdleProbe) attach(s *probeSocket, nsfd int, ownNet uint64) error {
	ino := ownNet
	if nsfd >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(nsfd, &st); err != nil {
			return os.NewSyscallError("fstat(network namespace)", err)
		}
		ino = st.Ino
	}
	for _, n := range p.nets {
		if n.ino == ino {
			s.net = n
			return nil
		}
	}
	if ino == ownNet {
		nsfd = -1
	}
	sock, err := diagSocketIn(nsfd)
	if err != nil {
		return err
	}
	s.net = &diagNet{ino: ino, sock: &nl.SocketHandle{Socket: sock}}
	p.nets = append(p.nets, s.net)
	return nil
}

// diagSocketIn makes a sock_diag socket in the network namespace nsfd (-1:
// our own). A thread whose way back fails stays locked, so that the
// runtime ends it rather than reuse it in the wrong namespace.
func diagSocketIn(nsfd int) (*nl.NetlinkSocket, error) {
	if nsfd < 0 {
		s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_SOCK_DIAG)
		if err != nil {
			return nil, os.NewSyscallError("socket(NETLINK_SOCK_DIAG)", err)
		}
		return s, nil
	}
	type result struct {
		s   *nl.NetlinkSocket
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: os.NewSyscallError("open /proc/thread-self/ns/net", err)}
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: os.NewSyscallError("setns(socket's network namespace)", err)}
			return
		}
		s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_SOCK_DIAG)
		if err != nil {
			err = os.NewSyscallError("socket(NETLINK_SOCK_DIAG)", err)
		}
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{s, err}
	}()
	r := <-done
	return r.s, r.err
}

// nsInode is the inode of a namespace file.
func nsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return st.Ino, nil
}

// Sample reads the load of every socket, in the order they were given.
// One dump per namespace and kind of socket.
func (p *IdleProbe) Sample() ([]SocketLoad, error) {
	type dumpKey struct {
		net           *diagNet
		family, proto int
	}
	dumps := map[dumpKey][]DiagSocket{}
	out := make([]SocketLoad, len(p.socks))
	for i, s := range p.socks {
		k := dumpKey{s.net, s.family, s.proto}
		socks, ok := dumps[k]
		if !ok {
			var err error
			if socks, err = s.net.dump(s.family, s.proto); err != nil {
				return nil, err
			}
			dumps[k] = socks
		}
		out[i] = LoadOf(s.inode, socks)
		if !out[i].Found {
			return nil, fmt.Errorf("sock_diag: %s (inode %d) is not in its network namespace's sockets", s.name, s.inode)
		}
	}
	return out, nil
}

// dump asks the kernel for the sockets of one family and protocol; a dump
// the kernel reports interrupted (the table changed under it) is retried.
func (n *diagNet) dump(family, proto int) ([]DiagSocket, error) {
	var err error
	for range 5 {
		var socks []DiagSocket
		req := &nl.NetlinkRequest{
			NlMsghdr: unix.NlMsghdr{Type: unix.SOCK_DIAG_BY_FAMILY, Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP},
			Sockets:  map[int]*nl.SocketHandle{unix.NETLINK_SOCK_DIAG: n.sock},
		}
		parse := ParseInetDiag
		states := uint32(inetDiagStates)
		if proto == unix.IPPROTO_UDP {
			states = ^uint32(0)
		}
		if family == unix.AF_UNIX {
			req.AddRawData(unixDiagRequest())
			parse = ParseUnixDiag
		} else {
			req.AddRawData(inetDiagRequest(uint8(family), uint8(proto), states))
		}
		var perr error
		err = req.ExecuteIter(unix.NETLINK_SOCK_DIAG, unix.SOCK_DIAG_BY_FAMILY, func(msg []byte) bool {
			s, e := parse(msg)
			if e != nil {
				perr = e
				return false
			}
			socks = append(socks, s)
			return true
		})
		if err == nil && perr != nil {
			err = perr
		}
		if errors.Is(err, nl.ErrDumpInterrupted) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sock_diag dump (family %d, protocol %d): %w", family, proto, err)
		}
		return socks, nil
	}
	return nil, fmt.Errorf("sock_diag dump (family %d, protocol %d): %w", family, proto, err)
}

// Close closes the sock_diag sockets.
func (p *IdleProbe) Close() {
	if p == nil {
		return
	}
	for _, n := range p.nets {
		n.sock.Close()
	}
	p.nets = nil
}
