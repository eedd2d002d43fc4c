package units

import (
	"fmt"
	"sort"
	"strings"
)

// Capabilities maps the name of every Linux capability to its number
// (linux/capability.h).
var Capabilities = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// ParseCapabilities parses a --capability= / --drop-capability= value: a
// comma- or space-separated list of capability names, with or without
// the CAP_ prefix, in any case; "all" names every capability. The result
// is canonical ("CAP_SYS_ADMIN"), sorted and without repeats.
func ParseCapabilities(s string) ([]string, error) {
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if strings.EqualFold(w, "all") {
			for name := range Capabilities {
				seen[name] = true
			}
			continue
		}
		name := strings.ToUpper(w)
		if !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		if _, ok := Capabilities[name]; !ok {
			return nil, &ValueError{Value: s, Err: fmt.Errorf("unknown capability %q", w)}
		}
		seen[name] = true
	}
	if len(seen) == 0 {
		return nil, &ValueError{Value: s, Err: fmt.Errorf("no capability named")}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// CapabilityNumbers maps canonical names to their numbers.
func CapabilityNumbers(names []string) []int {
	out := make([]int, 0, len(names))
	for _, n := range names {
		if c, ok := Capabilities[n]; ok {
			out = append(out, c)
		}
	}
	return out
}
