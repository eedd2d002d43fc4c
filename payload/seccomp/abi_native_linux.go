//go:build linux && (amd64 || arm64)

package seccomp

import (
	"maps"

	"golang.org/x/sys/unix"
)

// nativeNumbers is the native ABI's table: the numbers x/sys/unix gives,
// for the GOARCH being built, of the refused calls that both 64-bit ABIs
// this package knows (x86-64 and AArch64) have, plus extra, the calls
// only the one being built has.
func nativeNumbers(extra map[string]int) map[string]int {
	nr := map[string]int{
		"kexec_load":        unix.SYS_KEXEC_LOAD,
		"kexec_file_load":   unix.SYS_KEXEC_FILE_LOAD,
		"init_module":       unix.SYS_INIT_MODULE,
		"finit_module":      unix.SYS_FINIT_MODULE,
		"delete_module":     unix.SYS_DELETE_MODULE,
		"swapon":            unix.SYS_SWAPON,
		"swapoff":           unix.SYS_SWAPOFF,
		"open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT,
		"acct":              unix.SYS_ACCT,
		"lookup_dcookie":    unix.SYS_LOOKUP_DCOOKIE,
		"quotactl":          unix.SYS_QUOTACTL,
		"quotactl_fd":       unix.SYS_QUOTACTL_FD,
		"add_key":           unix.SYS_ADD_KEY,
		"keyctl":            unix.SYS_KEYCTL,
		"request_key":       unix.SYS_REQUEST_KEY,
		"bpf":               unix.SYS_BPF,
		"perf_event_open":   unix.SYS_PERF_EVENT_OPEN,
		"syslog":            unix.SYS_SYSLOG,
		"settimeofday":      unix.SYS_SETTIMEOFDAY,
		"clock_settime":     unix.SYS_CLOCK_SETTIME,
		"clock_adjtime":     unix.SYS_CLOCK_ADJTIME,
		"adjtimex":          unix.SYS_ADJTIMEX,
		"fanotify_init":     unix.SYS_FANOTIFY_INIT,
		"fanotify_mark":     unix.SYS_FANOTIFY_MARK,
		"nfsservctl":        unix.SYS_NFSSERVCTL,
	}
	maps.Copy(nr, extra)
	return nr
}
