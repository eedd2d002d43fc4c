package seccomp

import "syscall"

// Rule is one refused system call.
type Rule struct {
	// Name is the kernel's name of the call, e.g. "kexec_load".
	Name string
	// Nr is the call's number on each ABI where it exists, keyed by the
	// GOARCH spelling of the ABI: "amd64" and "386" in an amd64 build,
	// "arm64" and "arm" in an arm64 build. The first ABI of ABIs is
	// the native one.
	Nr map[string]int
	// Errno is what the caller gets back instead of the call running.
	Errno syscall.Errno
}

// refused is the deny list, in the order of doc.go, which says why each
// call is here.
var refused = []string{
	"kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module",
	"swapon", "swapoff",
	"open_by_handle_at",
	"iopl", "ioperm", "pciconfig_iobase", "pciconfig_read", "pciconfig_write",
	"acct",
	"lookup_dcookie",
	"quotactl", "quotactl_fd",
	"add_key", "keyctl", "request_key",
	"bpf",
	"perf_event_open",
	"syslog",
	"settimeofday", "clock_settime", "clock_settime64",
	"clock_adjtime", "clock_adjtime64", "adjtimex", "stime",
	"fanotify_init", "fanotify_mark",
	"nfsservctl",
	"_sysctl",
	"modify_ldt", "vm86", "vm86old",
}

// abi is one way into the kernel: an AUDIT_ARCH_* value as seen in
// seccomp_data.arch and the numbers of the refused calls on it.
type abi struct {
	name  string // GOARCH spelling: "amd64", "386", "arm64", "arm"
	audit uint32
	// x32 is set on x86-64: numbers with __X32_SYSCALL_BIT arrive with
	// the x86-64 arch value and are refused as a whole.
	x32 bool
	nr  map[string]int
}

// ABIs returns the names of the ABIs the filter covers in this build,
// native first; nil where this package has no table for the GOARCH.
func ABIs() []string {
	var names []string
	for _, a := range abis() {
		names = append(names, a.name)
	}
	return names
}

// Syscalls returns the refused calls that exist on at least one ABI of
// this build, in a fixed order. Every one of them fails with EPERM.
func Syscalls() []Rule {
	return rulesFor(abis())
}

func rulesFor(tables []abi) []Rule {
	var rules []Rule
	for _, name := range refused {
		nr := map[string]int{}
		for _, a := range tables {
			if n, ok := a.nr[name]; ok {
				nr[a.name] = n
			}
		}
		if len(nr) == 0 {
			continue
		}
		rules = append(rules, Rule{Name: name, Nr: nr, Errno: syscall.EPERM})
	}
	return rules
}
