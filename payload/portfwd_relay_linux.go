package payload

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// loopbackRelay relays the TCP connections the host makes to [::1]:PORT
// to the container: nftables cannot forward them (what comes from ::1 may
// not leave the host), so the supervisor carries them itself, on the
// listening sockets of the port reservation. IPv4 loopback and every
// other address go through the DNAT rules, in the kernel.
type loopbackRelay struct {
	mu      sync.Mutex
	targets ForwardTargets
	conns   map[net.Conn]bool
	stop    bool
	loops   sync.WaitGroup // the accept loops
	copies  sync.WaitGroup // the relayed connections
}

// start accepts on each listener (host port -> listener) and relays to
// the container port of ports.
func (r *loopbackRelay) start(listeners map[uint16]*net.TCPListener, ports []PortForward) {
	r.conns = map[net.Conn]bool{}
	for _, p := range ports {
		l := listeners[p.Host]
		if p.Proto != "tcp" || l == nil {
			continue
		}
		_ = l.SetDeadline(time.Time{})
		r.loops.Add(1)
		go r.accept(l, p.Container)
	}
}

func (r *loopbackRelay) setTargets(t ForwardTargets) {
	r.mu.Lock()
	r.targets = t
	r.mu.Unlock()
}

func (r *loopbackRelay) accept(l *net.TCPListener, port uint16) {
	defer r.loops.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: try again
			continue
		}
		r.mu.Lock()
		target := r.targets.V6
		if !target.IsValid() {
			target = r.targets.V4
		}
		if r.stop || !target.IsValid() {
			r.mu.Unlock()
			c.Close()
			continue
		}
		r.conns[c] = true
		r.copies.Add(1)
		r.mu.Unlock()
		go r.relay(c, netip.AddrPortFrom(target, port))
	}
}

// relay copies between c and a connection to target, both ways, passing
// on each side's end of writing.
func (r *loopbackRelay) relay(c net.Conn, target netip.AddrPort) {
	defer r.copies.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	up, err := net.DialTimeout("tcp", target.String(), 10*time.Second)
	if err != nil {
		return
	}
	r.mu.Lock()
	if r.stop {
		r.mu.Unlock()
		up.Close()
		return
	}
	r.conns[up] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.conns, up)
		r.mu.Unlock()
		up.Close()
	}()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, c)
		_ = up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(c, up)
	_ = c.(*net.TCPConn).CloseWrite()
	<-done
}

// halt stops accepting, leaving the listeners open for a later boot,
// and ends the relayed connections.
func (r *loopbackRelay) halt(listeners map[uint16]*net.TCPListener) {
	r.mu.Lock()
	r.stop = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	for _, l := range listeners {
		_ = l.SetDeadline(time.Now())
	}
	r.loops.Wait()
	r.copies.Wait()
}
