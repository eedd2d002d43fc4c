package payload

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PortReservation holds the host ports a machine forwards: bound, never
// listening, so that no program on the host and no other machine can take
// them while the machine runs. Traffic never reaches these sockets: the
// DNAT rules send it on before any socket is looked up.
type PortReservation struct {
	fds []int
}

// ReservePorts binds each port on the host's wildcard addresses, IPv4
// and IPv6 (where the host has IPv6). A port that is taken is refused,
// naming the machine that forwards it if one does, and nothing is held.
func ReservePorts(ports []PortForward) (*PortReservation, error) {
	r := &PortReservation{}
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
		}
	}
	return r, nil
}

// Release lets the ports go.
func (r *PortReservation) Release() {
	if r == nil {
		return
	}
	for _, fd := range r.fds {
		unix.Close(fd)
	}
	r.fds = nil
}
