package idlewatch

import (
	"os"

	"golang.org/x/sys/unix"
)

// holdSYNs attaches a socket filter that drops every packet to each TCP
// listener among fds, and returns what detaches them again.
//
// It closes the poweroff race: between the idle decision and the moment
// the container's systemd closes its listening sockets, systemd drains
// what arrives on them (a socket unit being stopped accepts and closes
// pending connections). With the filter, a client's SYN in that window is
// dropped, not answered, and the client sends it again (after 1 s, 3 s,
// ...), by which time the filter is gone and the socket queues it for
// the next boot. A filter is a property of the socket, shared by every
// fd of it, so the container's copies are covered too.
func holdSYNs(fds []int) (release func()) {
	var held []int
	drop := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	prog := unix.SockFprog{Len: 1, Filter: &drop[0]}
	for _, fd := range fds {
		proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
		if err != nil || proto != unix.IPPROTO_TCP {
			continue
		}
		if unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog) == nil {
			held = append(held, fd)
		}
	}
	return func() {
		for _, fd := range held {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_FILTER, 0); err != nil && err != unix.ENOENT {
				os.Stderr.WriteString("sockspawn: idle: detach the SYN filter: " + err.Error() + "\n")
			}
		}
	}
}
