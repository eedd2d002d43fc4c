package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// BindFunc attaches tree (a detached mount, open_tree) at req.Target in
// the container.
type BindFunc func(tree *os.File, req Request) error

// Server is a machine's control socket, served on goroutines of its own.
type Server struct {
	ln   *net.UnixListener
	bind BindFunc

	mu     sync.Mutex
	ttys   []tty
	conns  map[*net.UnixConn]bool
	closed bool
	wg     sync.WaitGroup
}

type tty struct {
	name   string
	master *os.File
	held   bool
}

// Listen serves machine's control socket: ttys are the masters of its
// extra ttys (the caller keeps them open while the server runs), bind
// carries out live binds. A socket a killed supervisor left is replaced:
// the caller holds the machine's lock.
func Listen(machine string, ttys []*os.File, names []string, bind BindFunc) (*Server, error) {
	if err := os.MkdirAll(Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", Dir, err)
	}
	p := Path(machine)
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove leftover control socket: %w", err)
	}
	old := unix.Umask(0o177) // the socket is root's alone from the start
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: p, Net: "unixpacket"})
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	s := &Server{ln: ln, bind: bind, conns: map[*net.UnixConn]bool{}}
	for i, m := range ttys {
		s.ttys = append(s.ttys, tty{name: names[i], master: m})
	}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Close stops serving, ends every connection (a `sockspawn login` sees its
// tty go) and removes the socket. It returns once no request is being
// handled. Safe on nil.
func (s *Server) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close() // unlinks the socket
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

func (s *Server) handle(c *net.UnixConn) {
	if err := peerIsRoot(c); err != nil {
		reply(c, Reply{Error: err.Error()}, -1)
		return
	}
	req, fd, err := readRequest(c)
	if fd != nil {
		defer fd.Close()
	}
	if err != nil {
		reply(c, Reply{Error: err.Error()}, -1)
		return
	}
	switch req.Op {
	case OpTTY:
		s.handleTTY(c, req)
	case OpBind:
		if fd == nil {
			reply(c, Reply{Error: "bind: no mount sent with the request"}, -1)
			return
		}
		if s.bind == nil {
			reply(c, Reply{Error: "bind: not supported by this machine"}, -1)
			return
		}
		if err := s.bind(fd, req); err != nil {
			reply(c, Reply{Error: err.Error()}, -1)
			return
		}
		reply(c, Reply{}, -1)
	}
}

// handleTTY hands over a tty's master and holds the tty for the client
// until its connection ends.
func (s *Server) handleTTY(c *net.UnixConn, req Request) {
	i, err := s.take(req.TTY)
	if err != nil {
		reply(c, Reply{Error: err.Error()}, -1)
		return
	}
	defer func() {
		s.mu.Lock()
		s.ttys[i].held = false
		s.mu.Unlock()
	}()
	if err := reply(c, Reply{TTY: s.ttys[i].name}, int(s.ttys[i].master.Fd())); err != nil {
		return
	}
	// The client says nothing more: a read returns when it hangs up.
	buf := make([]byte, 1)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// take picks the tty named (or the first free one) and marks it held.
func (s *Server) take(name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ttys) == 0 {
		return 0, errors.New("the machine has no extra ttys (start it with --ttys=N or TTYs=N)")
	}
	var names []string
	for i, t := range s.ttys {
		names = append(names, t.name)
		if (name == "" && !t.held) || t.name == name {
			if t.held {
				return 0, fmt.Errorf("%s is in use by another login", name)
			}
			s.ttys[i].held = true
			return i, nil
		}
	}
	if name == "" {
		return 0, fmt.Errorf("all ttys of the machine are in use (%v)", names)
	}
	return 0, fmt.Errorf("the machine has no tty %s (it has %v)", name, names)
}

// peerIsRoot refuses a client whose UID is neither 0 nor the
// supervisor's own: the socket's mode says the same, this is belt and
// braces.
func peerIsRoot(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return os.NewSyscallError("getsockopt(SO_PEERCRED)", cerr)
	}
	if cred.Uid != 0 && int(cred.Uid) != os.Geteuid() {
		return fmt.Errorf("permission denied: only root may control a machine (you are UID %d)", cred.Uid)
	}
	return nil
}

func readRequest(c *net.UnixConn) (Request, *os.File, error) {
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return Request{}, nil, fmt.Errorf("read request: %w", err)
	}
	fds, err := parseRights(oob[:oobn])
	var f *os.File
	if len(fds) > 0 {
		f = os.NewFile(uintptr(fds[0]), "sent fd")
		for _, extra := range fds[1:] {
			unix.Close(extra)
		}
	}
	if err != nil {
		return Request{}, f, err
	}
	r, err := decodeRequest(buf[:n])
	return r, f, err
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, os.NewSyscallError("parse control message", err)
	}
	var fds []int
	for _, m := range msgs {
		r, err := unix.ParseUnixRights(&m)
		if err == nil {
			for _, fd := range r {
				unix.CloseOnExec(fd)
			}
			fds = append(fds, r...)
		}
	}
	return fds, nil
}

// reply sends r, and fd unless it is negative.
func reply(c *net.UnixConn, r Reply, fd int) error {
	b, _ := json.Marshal(r)
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	_, _, err := c.WriteMsgUnix(b, oob, nil)
	return err
}
