package payload

import "golang.org/x/sys/unix"

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
		unix.CAP_AUDIT_CONTROL, unix.CAP_AUDIT_READ, unix.CAP_AUDIT_WRITE, unix.CAP_IPC_LOCK,
		unix.CAP_SYS_MODULE, unix.CAP_SYS_RAWIO, unix.CAP_SYS_TIME, unix.CAP_SYSLOG,
		unix.CAP_MAC_ADMIN, unix.CAP_MAC_OVERRIDE, unix.CAP_WAKE_ALARM, unix.CAP_BLOCK_SUSPEND, unix.CAP_SYS_PACCT,
		unix.CAP_PERFMON, unix.CAP_BPF,
	}
	if !privateNetwork {
		caps = append(caps, unix.CAP_NET_ADMIN)
	}
	return caps
}
