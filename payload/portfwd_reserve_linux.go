package payload

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// PortReservation holds the host ports a machine forwards: bound, never
// listening, so that no program on the host and no other machine can take
// them while the machine runs. Traffic never reaches these sockets: the
// DNAT rules send it on before any socket is looked up.
//
// The IPv6 TCP socket of each port does listen: the DNAT rules leave
// alone what the host sends from ::1 (IPv6 has no route_localnet to let
// it leave), so [::1]:PORT reaches it, and the machine's Forwarder relays
// those connections to the container (Loopback6).
type PortReservation struct {
	fds []int
	// Loopback6 holds, by host port, the listening IPv6 TCP sockets.
	Loopback6 map[uint16]*net.TCPListener
}

// ReservePorts binds each port on the host's wildcard addresses, IPv4
// and IPv6 (where the host has IPv6). A port that is taken is refused,
// naming the machine that forwards it if one does, and nothing is held.
func ReservePorts(ports []PortForward) (*PortReservation, error) {
	r := &PortReservation{Loopback6: map[uint16]*net.TCPListener{}}
	for _, p := range ports {
		typ := unix.SOCK_STREAM
		if p.Proto == "udp" {
			typ = unix.SOCK_DGRAM
		}
		for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
			fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
			if family == unix.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT) {
				continue // a host without IPv6
			}
			if err != nil {
				r.Release()
				return nil, fmt.Errorf("reserve host port %s: %w", p, os.NewSyscallError("socket", err))
			}
			r.fds = append(r.fds, fd)
			var sa unix.Sockaddr = &unix.SockaddrInet4{Port: int(p.Host)}
			if family == unix.AF_INET6 {
				if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
					r.Release()
					return nil, fmt.Errorf("reserve host port %s: %w", p, os.NewSyscallError("setsockopt(IPV6_V6ONLY)", err))
				}
				sa = &unix.SockaddrInet6{Port: int(p.Host)}
			}
			if err := unix.Bind(fd, sa); err != nil {
				r.Release()
				if errors.Is(err, unix.EADDRINUSE) {
					if m := ForwardedBy(p); m != "" {
						return nil, fmt.Errorf("host port %s is already forwarded to machine %s", p, m)
					}
					return nil, fmt.Errorf("host port %s is in use on the host (see ss -lnp sport = :%d)", p, p.Host)
				}
				return nil, fmt.Errorf("reserve host port %s: %w", p, os.NewSyscallError("bind", err))
			}
			if family == unix.AF_INET6 && typ == unix.SOCK_STREAM {
				if err := r.listen6(fd, p); err != nil {
					r.Release()
					return nil, err
				}
			}
		}
	}
	return r, nil
}

// listen6 makes the IPv6 TCP socket fd of port p listen, as Loopback6.
func (r *PortReservation) listen6(fd int, p PortForward) error {
	if err := unix.Listen(fd, 128); err != nil {
		return fmt.Errorf("reserve host port %s: %w", p, os.NewSyscallError("listen", err))
	}
	// The listener works on a dup; fd (the last of r.fds) goes with f.
	r.fds = r.fds[:len(r.fds)-1]
	f := os.NewFile(uintptr(fd), fmt.Sprintf("[::]:%d", p.Host))
	l, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("reserve host port %s: %w", p, err)
	}
	r.Loopback6[p.Host] = l.(*net.TCPListener)
	return nil
}

// Release lets the ports go.
func (r *PortReservation) Release() {
	if r == nil {
		return
	}
	for _, l := range r.Loopback6 {
		l.Close()
	}
	for _, fd := range r.fds {
		unix.Close(fd)
	}
	r.fds, r.Loopback6 = nil, nil
}
