package seccomp

import "golang.org/x/sys/unix"

// abis returns the ABIs an amd64 process can enter the kernel with:
// x86-64 (with x32 folded in, see abi.x32) and i386 through int 0x80.
func abis() []abi {
	return []abi{
		{
			name:  "amd64",
			audit: unix.AUDIT_ARCH_X86_64,
			x32:   true,
			nr: nativeNumbers(map[string]int{
				"iopl":       unix.SYS_IOPL,
				"ioperm":     unix.SYS_IOPERM,
				"_sysctl":    unix.SYS__SYSCTL,
				"modify_ldt": unix.SYS_MODIFY_LDT,
			}),
		},
		{
			name:  "386",
			audit: unix.AUDIT_ARCH_I386,
			// x/sys/unix defines only the numbers of the GOARCH being
			// built, so the i386 ones are written out: the kernel's
			// arch/x86/entry/syscalls/syscall_32.tbl, the same values as
			// x/sys's zsysnum_linux_386.go (TestNumbersMatchXSys compares).
			// i386 has no kexec_file_load.
			nr: map[string]int{
				"kexec_load":        283,
				"init_module":       128,
				"finit_module":      350,
				"delete_module":     129,
				"swapon":            87,
				"swapoff":           115,
				"open_by_handle_at": 342,
				"iopl":              110,
				"ioperm":            101,
				"acct":              51,
				"lookup_dcookie":    253,
				"quotactl":          131,
				"quotactl_fd":       443,
				"add_key":           286,
				"keyctl":            288,
				"request_key":       287,
				"bpf":               357,
				"perf_event_open":   336,
				"syslog":            103,
				"settimeofday":      79,
				"clock_settime":     264,
				"clock_settime64":   404,
				"clock_adjtime":     343,
				"clock_adjtime64":   405,
				"adjtimex":          124,
				"stime":             25,
				"fanotify_init":     338,
				"fanotify_mark":     339,
				"nfsservctl":        169,
				"_sysctl":           149,
				"modify_ldt":        123,
				"vm86":              166,
				"vm86old":           113,
			},
		},
	}
}
