package idlewatch

import (
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// holdLimit is how long a SYN hold lasts at most, should the supervisor
// die before it takes it away: longer than a clean shutdown may take
// (container@.service's TimeoutStopSec= is 2min).
const holdLimit = 3 * time.Minute

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
//
// The filter is an eBPF program that lets everything through again once
// holdLimit has passed (CLOCK_MONOTONIC), so that a supervisor killed in
// the middle (SIGKILL) cannot leave systemd's socket dropping every
// connection for good. Where eBPF cannot be loaded, a classic filter
// drops without a limit.
func holdSYNs(fds []int) (release func()) {
	var held []int
	prog := expiringDropAll(holdLimit)
	if prog != nil {
		defer prog.Close() // the sockets keep their reference
	}
	drop := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	classic := unix.SockFprog{Len: 1, Filter: &drop[0]}
	for _, fd := range fds {
		proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
		if err != nil || proto != unix.IPPROTO_TCP {
			continue
		}
		if prog != nil && attachBPF(fd, prog.FD()) == nil {
			held = append(held, fd)
			continue
		}
		if unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &classic) == nil {
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

// expiringDropAll loads a socket filter that drops every packet until
// limit from now, and keeps every packet after; nil if it cannot.
func expiringDropAll(limit time.Duration) *ebpf.Program {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return nil
	}
	deadline := ts.Nano() + int64(limit)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "sockspawn_hold",
		Type: ebpf.SocketFilter,
		Instructions: asm.Instructions{
			asm.FnKtimeGetNs.Call(),
			asm.LoadImm(asm.R1, deadline, asm.DWord),
			asm.JGT.Reg(asm.R0, asm.R1, "pass"),
			asm.Mov.Imm(asm.R0, 0), // drop
			asm.Return(),
			asm.Mov.Imm32(asm.R0, -1).WithSymbol("pass"), // keep the whole packet
			asm.Return(),
		},
		License: "Apache-2.0",
	})
	if err != nil {
		return nil
	}
	return prog
}

func attachBPF(fd, prog int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog)
}
