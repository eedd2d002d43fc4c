// Package seccomp builds and installs the system call filter of a
// container: it refuses, with EPERM, the calls that act on the host rather
// than on the container, the ones systemd-nspawn also refuses by default.
//
// # How the list was chosen
//
// systemd-nspawn (src/nspawn/nspawn-seccomp.c) installs an allow list built
// from the groups of src/shared/seccomp-util.c (@basic-io, @file-system,
// @mount, @process, ...) plus single calls, adds some groups only when the
// matching capability is kept (@clock with CAP_SYS_TIME, @module with
// CAP_SYS_MODULE, @raw-io with CAP_SYS_RAWIO, acct with CAP_SYS_PACCT,
// syslog with CAP_SYSLOG), and names in a comment the groups and calls it
// leaves out on purpose. Every other call it knows fails with EPERM (newer
// versions answer calls unknown to them with ENOSYS).
//
// sockspawn uses a deny list instead: the calls below, all of which
// nspawn's default refuses, and nothing else. sockspawn's bounding set
// drops CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_SYSLOG and
// CAP_SYS_PACCT (issue 3), so nspawn would refuse the cap-gated groups too;
// the filter keeps refusing them even if a capability comes back through
// --capability=, because a capability is checked against the host's user
// namespace and this filter is the one place that says "never from a
// container". A deny list lets new calls through (nspawn's newer versions
// answer unknown calls with ENOSYS): review this list whenever
// golang.org/x/sys or the kernel adds calls.
//
// # Refused calls
//
// Each one matches nspawn's default (nspawn-seccomp.c and the groups in
// seccomp-util.c):
//
//   - kexec_load, kexec_file_load: load a kernel for the host to boot into,
//     replacing the running kernel. nspawn excludes both by name; of the
//     @reboot group only reboot is allowed.
//   - init_module, finit_module, delete_module: load code into, or remove it
//     from, the host kernel. @module, allowed by nspawn only with
//     CAP_SYS_MODULE.
//   - swapon, swapoff: change the host's swap; swapoff of a busy device can
//     push the whole host into the OOM killer. @swap, excluded by nspawn.
//   - open_by_handle_at: opens any file of a file system from a handle,
//     ignoring the mount namespace and the root directory. With
//     CAP_DAC_READ_SEARCH, which containers keep, that is the "shocker"
//     escape from Docker (2014). nspawn excludes it by name and allows the
//     harmless name_to_handle_at; so do we.
//   - iopl, ioperm (x86) and pciconfig_iobase, pciconfig_read,
//     pciconfig_write (32-bit ARM): raw access to I/O ports and PCI
//     configuration space of the host's hardware. @raw-io, allowed by
//     nspawn only with CAP_SYS_RAWIO.
//   - acct: switches BSD process accounting, a host administration facility
//     that writes a record for every exiting process. nspawn allows it only
//     with CAP_SYS_PACCT.
//   - lookup_dcookie: turns kernel profiling cookies into host paths (gone
//     from recent kernels; refused for older ones). Excluded by name in
//     nspawn.
//   - quotactl, quotactl_fd: turn quotas on and off and change limits on
//     the host file systems that the container's root and bind mounts live
//     on. nspawn excludes quotactl by name; quotactl_fd is not on its allow
//     list either.
//   - add_key, keyctl, request_key: the kernel keyring is not namespaced;
//     without a user namespace root in the container shares uid 0's
//     keyrings with the host (disk encryption keys, network file system
//     credentials). @keyring, excluded by nspawn for that very reason.
//   - bpf: loads programs that trace the whole host, and with the
//     capabilities a container keeps could detach the device program
//     sockspawn attaches to the container's own cgroup; bpffs is not
//     namespaced. Excluded by name in nspawn.
//     systemd inside notices and goes without BPF features, as under nspawn.
//   - perf_event_open: observes the host kernel and every CPU, across
//     namespaces, and is a large attack surface. Excluded by name in nspawn.
//   - syslog: reads and clears the host's kernel log buffer and sets the
//     console log level. nspawn allows it only with CAP_SYSLOG.
//   - settimeofday, clock_settime, clock_settime64, clock_adjtime,
//     clock_adjtime64, adjtimex, stime: the realtime clock belongs to the
//     host (time namespaces only offset the monotonic and boot clocks).
//     @clock (stime is in @obsolete in newer versions), allowed by nspawn
//     only with CAP_SYS_TIME. A read-only adjtimex also gets EPERM; systemd
//     reads that as "clock not synchronized", as under nspawn.
//   - fanotify_init, fanotify_mark: with CAP_SYS_ADMIN, a mark on a whole
//     file system sees, and with permission events blocks, what host
//     processes do on the file system the container lives on. Excluded by
//     name in nspawn.
//   - nfsservctl: the old kernel NFS server control call (ENOSYS since
//     Linux 3.1). Listed by name in nspawn's exclusions.
//   - _sysctl: the binary sysctl interface sets kernel parameters without
//     going through /proc/sys, so around its read-only mount (removed in
//     Linux 5.5). @obsolete, excluded by nspawn.
//   - modify_ldt (x86), vm86, vm86old (i386): CPU emulation interfaces with
//     a long record of kernel bugs. @cpu-emulation, excluded by nspawn.
//
// # Allowed on purpose
//
//   - reboot: sockspawn always gives the container its own PID namespace,
//     where reboot() ends the namespace's init (the container exits or
//     restarts) and never touches the host. nspawn allows it with
//     CAP_SYS_BOOT, which its default keeps.
//   - pivot_root, mount, umount2 and the new mount API: systemd inside needs
//     them (PrivateTmp=, ProtectSystem=, ...), the mount namespace confines
//     them. @mount is on nspawn's allow list.
//   - kcmp, userfaultfd, unshare, setns, ptrace, process_vm_readv/writev:
//     on nspawn's default allow list (ptrace with CAP_SYS_PTRACE, which its
//     default keeps).
//   - nspawn also refuses some calls that do not reach the host: @memlock
//     without CAP_IPC_LOCK (mlock is bounded by RLIMIT_MEMLOCK), @pkey,
//     pidfd_getfd (@debug; needs ptrace rights anyway) and the rest of
//     @obsolete (the kernel answers ENOSYS to most of them). sockspawn lets
//     them through.
//   - nspawn's second filter, which makes socket(AF_NETLINK, *,
//     NETLINK_AUDIT) fail with EAFNOSUPPORT, is not part of this package.
//
// # ABIs
//
// The filter checks seccomp_data.arch first and covers every ABI a process
// of this build can enter the kernel with, as nspawn does (it loads its
// list once per local architecture):
//
//   - the native one (x86-64 or AArch64), with numbers from
//     golang.org/x/sys/unix;
//   - the 32-bit compat one (i386 on amd64, ARM EABI on arm64), with the
//     same list; x/sys only defines the numbers of the GOARCH being built,
//     so these are written out in abi_linux_amd64.go and abi_linux_arm64.go
//     and a test compares them with x/sys's own tables;
//   - x32 (x86-64 numbers with bit 30 set): every call gets ENOSYS, as on a
//     kernel built without x32 support (the default of most distributions).
//     nspawn allows x32 with its allow list; we refuse it rather than keep
//     a third table for an ABI nobody ships containers for.
//   - any other architecture cannot occur on these machines; the filter
//     kills the process if it does.
//
// On other GOARCHes Filter and Install return an error.
//
// # Installing
//
// Install is meant for the init stage, as the last step before it executes
// the container's init. It does not set no_new_privs (the container needs
// its setuid binaries), so it needs CAP_SYS_ADMIN, which the stage has. It
// uses SECCOMP_FILTER_FLAG_TSYNC: the filter lands on every thread of the
// Go process, so it does not matter which OS thread later calls execve,
// and no thread is left unfiltered. The filter is inherited across fork
// and execve and cannot be removed; never call Install in the supervisor.
package seccomp
