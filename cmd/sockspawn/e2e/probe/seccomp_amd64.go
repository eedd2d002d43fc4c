//go:build linux && amd64

package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// archCalls are the refused calls that exist only on x86-64.
func archCalls(keep *[][]byte) []sysCall {
	ldt := make([]byte, 16)
	*keep = append(*keep, ldt)
	return []sysCall{
		{Name: "iopl", Nr: unix.SYS_IOPL, Args: [6]uintptr{4}},                                                                  // level 4: EINVAL
		{Name: "ioperm", Nr: unix.SYS_IOPERM, Args: [6]uintptr{0, 0, 0}},                                                        // no ports: EINVAL
		{Name: "modify_ldt", Nr: unix.SYS_MODIFY_LDT, Args: [6]uintptr{0, uintptr(unsafe.Pointer(&ldt[0])), uintptr(len(ldt))}}, // read
		{Name: "_sysctl", Nr: unix.SYS__SYSCTL},
	}
}

// compatCalls are the refused calls made through int 0x80, the i386 ABI
// every x86-64 process can use; the filter must refuse them there too.
// Numbers from the kernel's arch/x86/entry/syscalls/syscall_32.tbl.
// Pointers are 32 bits: only 0 and 1 (both invalid) are passed.
func compatCalls() []sysCall {
	calls := []sysCall{
		{Name: "getpid", Nr: 20}, // not refused: shows int 0x80 works at all
		{Name: "kexec_load", Nr: 283, Args: [6]uintptr{0, tooManySegs, 0, 0}},
		{Name: "init_module", Nr: 128},
		{Name: "finit_module", Nr: 350, Args: [6]uintptr{badFD32}},
		{Name: "delete_module", Nr: 129},
		{Name: "swapon", Nr: 87},
		{Name: "swapoff", Nr: 115},
		{Name: "open_by_handle_at", Nr: 342, Args: [6]uintptr{badFD32}},
		{Name: "iopl", Nr: 110, Args: [6]uintptr{4}},
		{Name: "ioperm", Nr: 101},
		{Name: "acct", Nr: 51, Args: [6]uintptr{1}}, // never NULL: acct(NULL) turns accounting off
		{Name: "lookup_dcookie", Nr: 253},
		{Name: "quotactl", Nr: 131, Args: [6]uintptr{qGetInfo}},
		{Name: "quotactl_fd", Nr: 443, Args: [6]uintptr{badFD32, qGetInfo}},
		{Name: "add_key", Nr: 286},
		{Name: "keyctl", Nr: 288, Args: [6]uintptr{invalidCmd}},
		{Name: "request_key", Nr: 287},
		{Name: "bpf", Nr: 357, Args: [6]uintptr{invalidBPF}},
		{Name: "perf_event_open", Nr: 336, Args: [6]uintptr{0, 0, badFD32, badFD32}},
		{Name: "syslog", Nr: 103, Args: [6]uintptr{syslogSize}},
		{Name: "settimeofday", Nr: 79},
		{Name: "clock_settime", Nr: 264, Args: [6]uintptr{clockMono, 1}},
		{Name: "clock_settime64", Nr: 404, Args: [6]uintptr{clockMono, 1}},
		{Name: "clock_adjtime", Nr: 343, Args: [6]uintptr{clockRealtim, 1}},
		{Name: "clock_adjtime64", Nr: 405, Args: [6]uintptr{clockRealtim, 1}},
		{Name: "adjtimex", Nr: 124, Args: [6]uintptr{1}},
		{Name: "stime", Nr: 25, Args: [6]uintptr{1}},
		{Name: "fanotify_init", Nr: 338, Args: [6]uintptr{badFlags}},
		{Name: "fanotify_mark", Nr: 339, Args: [6]uintptr{badFD32}},
		{Name: "nfsservctl", Nr: 169},
		{Name: "_sysctl", Nr: 149, Args: [6]uintptr{1}},
		{Name: "modify_ldt", Nr: 123}, // read 0 bytes
		{Name: "vm86", Nr: 166},
		{Name: "vm86old", Nr: 113, Args: [6]uintptr{1}},
	}
	for i := range calls {
		calls[i].ABI = "i386"
	}
	return calls
}

// int80 makes a system call through int 0x80 (see int80_amd64.s).
func int80(nr uintptr, a [6]uintptr) (uintptr, unix.Errno) {
	r := rawInt80(nr, a[0], a[1], a[2], a[3], a[4])
	// The i386 ABI returns -errno in eax.
	if v := int32(uint32(r)); v < 0 && v > -4096 {
		return 0, unix.Errno(-v)
	}
	return r, 0
}

func rawInt80(nr, a1, a2, a3, a4, a5 uintptr) uintptr
