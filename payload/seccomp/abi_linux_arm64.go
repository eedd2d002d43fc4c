package seccomp

import "golang.org/x/sys/unix"

// abis returns the ABIs an arm64 process can enter the kernel with:
// AArch64 and, on CPUs with AArch32, 32-bit ARM EABI.
func abis() []abi {
	return []abi{
		{
			name:  "arm64",
			audit: unix.AUDIT_ARCH_AARCH64,
			nr:    nativeNumbers(nil),
		},
		{
			name:  "arm",
			audit: unix.AUDIT_ARCH_ARM,
			// x/sys/unix defines only the numbers of the GOARCH being
			// built, so the ARM EABI ones are written out: the kernel's
			// arch/arm/tools/syscall.tbl, the same values as x/sys's
			// zsysnum_linux_arm.go (TestNumbersMatchXSys compares).
			nr: map[string]int{
				"kexec_load":        347,
				"kexec_file_load":   401,
				"init_module":       128,
				"finit_module":      379,
				"delete_module":     129,
				"swapon":            87,
				"swapoff":           115,
				"open_by_handle_at": 371,
				"pciconfig_iobase":  271,
				"pciconfig_read":    272,
				"pciconfig_write":   273,
				"acct":              51,
				"lookup_dcookie":    249,
				"quotactl":          131,
				"quotactl_fd":       443,
				"add_key":           309,
				"keyctl":            311,
				"request_key":       310,
				"bpf":               386,
				"perf_event_open":   364,
				"syslog":            103,
				"settimeofday":      79,
				"clock_settime":     262,
				"clock_settime64":   404,
				"clock_adjtime":     372,
				"clock_adjtime64":   405,
				"adjtimex":          124,
				"fanotify_init":     367,
				"fanotify_mark":     368,
				"nfsservctl":        169,
				"_sysctl":           149,
			},
		},
	}
}
