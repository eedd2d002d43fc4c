//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysCall is one system call the probe makes, with arguments chosen so
// that, should the container's filter let it through, it fails or does
// nothing on the host (bad fds, NULL pointers, invalid commands, paths
// that do not exist, read-only queries).
type sysCall struct {
	ABI  string // "native" or "i386"
	Name string
	Nr   uintptr
	Args [6]uintptr
}

// callResult is what the kernel answered: "ok" or an errno name.
type callResult struct {
	ABI    string `json:"abi"`
	Name   string `json:"name"`
	Result string `json:"result"`
}

type seccompReport struct {
	Pid     int               `json:"pid"`
	Mode    string            `json:"seccomp"`         // the Seccomp: line of /proc/self/status
	Filters string            `json:"seccomp_filters"` // the Seccomp_filters: line
	I386    string            `json:"i386"`            // "available", or why the kernel offers no i386 ABI
	Calls   []callResult      `json:"calls"`
	Allowed map[string]string `json:"allowed,omitempty"` // calls the filter must let through; only as a container's PID 1 or 2
}

// cstr returns a pointer to a NUL-terminated copy of s; the slice is kept
// alive by the caller's keep list.
func cstr(s string, keep *[][]byte) uintptr {
	b := append([]byte(s), 0)
	*keep = append(*keep, b)
	return uintptr(unsafe.Pointer(&b[0]))
}

const (
	nowhere      = "/nonexistent-sockspawn-e2e"
	qGetInfo     = 0x800005 << 8 // QCMD(Q_GETINFO, USRQUOTA)
	badFD        = ^uintptr(0)   // -1
	badFD32      = 0xffffffff
	syslogSize   = 10 // SYSLOG_ACTION_SIZE_BUFFER: a read-only query
	invalidCmd   = 0xdead
	invalidBPF   = 9999
	tooManySegs  = 1000 // more than KEXEC_SEGMENT_MAX
	badFlags     = 0xffffffff
	clockMono    = 1
	clockRealtim = 0
)

// nativeCalls are the refused calls on the native ABI.
func nativeCalls(keep *[][]byte) []sysCall {
	handle := make([]byte, 16) // struct file_handle with handle_bytes 0
	*keep = append(*keep, handle)
	ts := make([]byte, 16)  // struct timespec, zero
	tx := make([]byte, 256) // struct timex with modes 0: a query
	*keep = append(*keep, ts, tx)
	p := func(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }
	calls := []sysCall{
		{Name: "kexec_load", Nr: unix.SYS_KEXEC_LOAD, Args: [6]uintptr{0, tooManySegs, 0, 0}},
		{Name: "kexec_file_load", Nr: unix.SYS_KEXEC_FILE_LOAD, Args: [6]uintptr{badFD, badFD, 0, 0, badFlags}},
		{Name: "init_module", Nr: unix.SYS_INIT_MODULE, Args: [6]uintptr{0, 0, cstr("", keep)}},
		{Name: "finit_module", Nr: unix.SYS_FINIT_MODULE, Args: [6]uintptr{badFD, cstr("", keep), 0}},
		{Name: "delete_module", Nr: unix.SYS_DELETE_MODULE, Args: [6]uintptr{cstr("sockspawn_e2e_no_such_module", keep), unix.O_NONBLOCK}},
		{Name: "swapon", Nr: unix.SYS_SWAPON, Args: [6]uintptr{cstr(nowhere, keep), 0}},
		{Name: "swapoff", Nr: unix.SYS_SWAPOFF, Args: [6]uintptr{cstr(nowhere, keep)}},
		{Name: "open_by_handle_at", Nr: unix.SYS_OPEN_BY_HANDLE_AT, Args: [6]uintptr{badFD, p(handle), unix.O_RDONLY}},
		{Name: "acct", Nr: unix.SYS_ACCT, Args: [6]uintptr{cstr(nowhere, keep)}},
		{Name: "lookup_dcookie", Nr: unix.SYS_LOOKUP_DCOOKIE, Args: [6]uintptr{0, 0, 0}},
		{Name: "quotactl", Nr: unix.SYS_QUOTACTL, Args: [6]uintptr{qGetInfo, 0, 0, 0}},
		{Name: "quotactl_fd", Nr: unix.SYS_QUOTACTL_FD, Args: [6]uintptr{badFD32, qGetInfo, 0, 0}},
		{Name: "add_key", Nr: unix.SYS_ADD_KEY},
		{Name: "keyctl", Nr: unix.SYS_KEYCTL, Args: [6]uintptr{invalidCmd}},
		{Name: "request_key", Nr: unix.SYS_REQUEST_KEY},
		{Name: "bpf", Nr: unix.SYS_BPF, Args: [6]uintptr{invalidBPF, 0, 0}},
		{Name: "perf_event_open", Nr: unix.SYS_PERF_EVENT_OPEN, Args: [6]uintptr{0, 0, badFD, badFD, 0}},
		{Name: "syslog", Nr: unix.SYS_SYSLOG, Args: [6]uintptr{syslogSize, 0, 0}},
		{Name: "settimeofday", Nr: unix.SYS_SETTIMEOFDAY, Args: [6]uintptr{0, 0}},
		{Name: "clock_settime", Nr: unix.SYS_CLOCK_SETTIME, Args: [6]uintptr{clockMono, p(ts)}},
		{Name: "clock_adjtime", Nr: unix.SYS_CLOCK_ADJTIME, Args: [6]uintptr{clockRealtim, p(tx)}},
		{Name: "adjtimex", Nr: unix.SYS_ADJTIMEX, Args: [6]uintptr{p(tx)}},
		{Name: "fanotify_init", Nr: unix.SYS_FANOTIFY_INIT, Args: [6]uintptr{badFlags, 0}},
		{Name: "fanotify_mark", Nr: unix.SYS_FANOTIFY_MARK, Args: [6]uintptr{badFD, 0, 0, badFD, 0}},
		{Name: "nfsservctl", Nr: unix.SYS_NFSSERVCTL},
	}
	calls = append(calls, archCalls(keep)...)
	for i := range calls {
		calls[i].ABI = "native"
	}
	return calls
}

func probeSeccomp() error {
	r := seccompReport{Pid: os.Getpid()}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "Seccomp:"); ok {
				r.Mode = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "Seccomp_filters:"); ok {
				r.Filters = strings.TrimSpace(v)
			}
		}
	}
	var keep [][]byte
	calls := nativeCalls(&keep)
	r.I386 = i386ABI()
	if r.I386 == "available" {
		calls = append(calls, compatCalls()...)
	}
	for _, c := range calls {
		r.Calls = append(r.Calls, callResult{ABI: c.ABI, Name: c.Name, Result: invoke(c)})
	}
	runtime.KeepAlive(keep)
	// Host PIDs 1 and 2 are init and kthreadd: as PID 1 or 2 we are in a
	// container's pid namespace, where these calls harm no one.
	if pid := os.Getpid(); pid == 1 || pid == 2 {
		r.Allowed = notFiltered()
	}
	return emit(r)
}

// i386ABI tells whether this kernel runs int 0x80 system calls. A kernel
// built with IA32 emulation but booted without it (ia32_emulation=0, or
// a hypervisor's choice) answers int 0x80 with a fault, which would kill
// the probe; so a child, this binary again, makes the first call.
func i386ABI() string {
	if len(compatCalls()) == 0 {
		return "no i386 table for this architecture"
	}
	cmd := exec.Command("/proc/self/exe", "int80-getpid")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		// Go's runtime turns the fault into a crash report, exit status 2,
		// whose third line names the signal.
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.HasPrefix(l, "[signal ") {
				return "unavailable: int 0x80 " + strings.Trim(l, "[]")
			}
		}
		return fmt.Sprintf("unavailable: int 0x80 getpid: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return "available"
}

// int80Getpid is the child of i386ABI: it exits 0 if int 0x80 getpid
// returns this process's pid.
func int80Getpid() error {
	pid, errno := int80(20, [6]uintptr{})
	if errno != 0 || int(pid) != os.Getpid() {
		return fmt.Errorf("int 0x80 getpid: %d, errno %d", pid, errno)
	}
	return nil
}

// invoke makes c and returns its result.
func invoke(c sysCall) string {
	var errno unix.Errno
	if c.ABI == "i386" {
		_, errno = int80(c.Nr, c.Args)
	} else {
		_, _, errno = unix.Syscall6(c.Nr, c.Args[0], c.Args[1], c.Args[2], c.Args[3], c.Args[4], c.Args[5])
	}
	if errno != 0 {
		return errnoName(errno)
	}
	return "ok"
}

// notFiltered makes calls a container's systemd needs and the filter must
// let through: mount in a new mount namespace, unshare, and reboot, which
// in a pid namespace only concerns that namespace. reboot is asked for
// LINUX_REBOOT_CMD_CAD_OFF, which a child pid namespace answers with
// EINVAL and which a filter would answer with EPERM.
func notFiltered() map[string]string {
	out := map[string]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// This thread's mount namespace is its own from here on; it is
		// never unlocked, so it ends with the goroutine.
		runtime.LockOSThread()
		out["unshare"] = errnoName(unix.Unshare(unix.CLONE_NEWNS))
		if out["unshare"] != "ok" {
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			out["mount"] = "make / private: " + errnoName(err)
			return
		}
		dir, err := os.MkdirTemp("", "probe-mount-")
		if err != nil {
			out["mount"] = err.Error()
			return
		}
		out["mount"] = errnoName(unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"))
		_ = unix.Unmount(dir, 0)
		_ = os.Remove(dir)
	}()
	<-done
	out["reboot"] = errnoName(unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF))
	return out
}
