package payload

// Capability numbers (linux/capability.h) of the capabilities the container
// never gets.
const (
	capSysModule        = 16
	capSysRawio         = 17
	capSysPacct         = 20
	capSysTime          = 25
	capAuditWrite       = 29
	capAuditControl     = 30
	capMacOverride      = 32
	capMacAdmin         = 33
	capSyslog           = 34
	capWakeAlarm        = 35
	capBlockSuspend     = 36
	capAuditRead        = 37
	capPerfmon          = 38
	capBPF              = 39
	capNetAdmin         = 12
	capIpcLock          = 14
	lastKnownCapability = 40
)

// DroppedCapabilities returns the capabilities removed from the
// container's bounding set. The audit capabilities go because the
// Container Interface asks so (the kernel's audit is not virtualized; with
// them systemd would try to use it); the others change host-wide state.
// CAP_IPC_LOCK among them: it lifts RLIMIT_MEMLOCK, so that the container
// could pin any amount of the host's memory out of reach of reclaim (as
// under systemd-nspawn, whose default lacks it, mlock works within the
// limit). CAP_PERFMON and CAP_BPF would let it trace the whole host; the
// system call filter refuses perf_event_open and bpf anyway, and nspawn's
// default lacks both. CAP_SYS_ADMIN and CAP_MKNOD stay, as the interface
// demands. CAP_NET_ADMIN is kept only with a private network namespace.
func DroppedCapabilities(privateNetwork bool) []int {
	caps := []int{
		capAuditControl, capAuditRead, capAuditWrite, capIpcLock,
		capSysModule, capSysRawio, capSysTime, capSyslog,
		capMacAdmin, capMacOverride, capWakeAlarm, capBlockSuspend, capSysPacct,
		capPerfmon, capBPF,
	}
	if !privateNetwork {
		caps = append(caps, capNetAdmin)
	}
	return caps
}
