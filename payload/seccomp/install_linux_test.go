package seccomp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const helperEnv = "GO_WANT_HELPER_PROCESS"

// reportMarker starts the helper's report line on its stdout.
const reportMarker = "SECCOMP-REPORT "

var emptyPath = [1]byte{0}

const none = ^uintptr(0) // -1 as an fd or id

// refusedProbes are harmless invocations of every refused call: each
// fails on its own (bad flags, NULL pointers, fd -1) before it can change
// anything, so they can run as root without the filter as the control.
var refusedProbes = map[string][6]uintptr{
	"kexec_load":        {0, 1 << 20, 0, 0x8000},                  // unknown flag, too many segments
	"kexec_file_load":   {none, none, 0, 0, 1 << 31},              // unknown flag
	"init_module":       {0, 0, 0},                                // empty image
	"finit_module":      {none, 0, 1 << 31},                       // unknown flag
	"delete_module":     {0, 0},                                   // NULL name
	"swapon":            {0, 1 << 31},                             // unknown flag
	"swapoff":           {0},                                      // NULL path
	"open_by_handle_at": {none, 0, 0},                             // bad fd, NULL handle
	"iopl":              {4},                                      // level > 3
	"ioperm":            {none, 1, 0},                             // range overflows
	"acct":              {uintptr(unsafe.Pointer(&emptyPath[0]))}, // "" (NULL would switch accounting off)
	"lookup_dcookie":    {0, 0, 0},
	"quotactl":          {0, 0, 0, 0},          // no device, not Q_SYNC
	"quotactl_fd":       {none, 0, 0, 0},       // bad fd
	"add_key":           {0, 0, 0, 0, 0},       // NULL type
	"keyctl":            {0xffff},              // unknown operation
	"request_key":       {0, 0, 0, 0},          // NULL type
	"bpf":               {0xffff, 0, 0},        // unknown command
	"perf_event_open":   {0, 0, none, none, 0}, // NULL attr
	"syslog":            {0xffff, 0, 0},        // unknown action
	"settimeofday":      {0, 0},                // neither time nor zone: no-op
	"clock_settime":     {unix.CLOCK_MONOTONIC, 0},
	"clock_adjtime":     {unix.CLOCK_MONOTONIC, 0},
	"adjtimex":          {0},                   // NULL timex
	"fanotify_init":     {1 << 31, 0},          // unknown flag
	"fanotify_mark":     {none, 0, 0, none, 0}, // no command
	"nfsservctl":        {0, 0, 0},
	"_sysctl":           {0},
	"modify_ldt":        {0xff, 0, 0}, // unknown function
}

type allowedProbe struct {
	nr   uintptr
	args [6]uintptr
}

// allowedProbes are calls the filter must leave alone: they return the
// same with the filter as without.
var allowedProbes = map[string]allowedProbe{
	"getpid":            {unix.SYS_GETPID, [6]uintptr{}},
	"read":              {unix.SYS_READ, [6]uintptr{none, 0, 0}},
	"mount":             {unix.SYS_MOUNT, [6]uintptr{}},
	"reboot":            {unix.SYS_REBOOT, [6]uintptr{}}, // bad magic: EINVAL
	"unshare":           {unix.SYS_UNSHARE, [6]uintptr{0}},
	"pivot_root":        {unix.SYS_PIVOT_ROOT, [6]uintptr{}},
	"setns":             {unix.SYS_SETNS, [6]uintptr{none, 0}},
	"kcmp":              {unix.SYS_KCMP, [6]uintptr{0, 0, 99}},
	"userfaultfd":       {unix.SYS_USERFAULTFD, [6]uintptr{1 << 31}},
	"name_to_handle_at": {unix.SYS_NAME_TO_HANDLE_AT, [6]uintptr{none, 0, 0, 0, 0}},
}

type helperReport struct {
	InstallError string
	NoNewPrivs   bool // the helper had to set no_new_privs to install
	Threads      int
	Unfiltered   []string // tasks of the helper without a filter
	Before       map[string]int
	After        map[string]int
}

func probeAll(native abi) map[string]int {
	res := map[string]int{}
	for name, args := range refusedProbes {
		nr, ok := native.nr[name]
		if !ok {
			continue
		}
		_, _, e := unix.Syscall6(uintptr(nr), args[0], args[1], args[2], args[3], args[4], args[5])
		res[name] = int(e)
	}
	for name, p := range allowedProbes {
		_, _, e := unix.Syscall6(p.nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4], p.args[5])
		res["allowed:"+name] = int(e)
	}
	if native.x32 {
		_, _, e := unix.Syscall(unix.SYS_GETPID|x32SyscallBit, 0, 0, 0)
		res["x32:getpid"] = int(e)
	}
	return res
}

// TestHelperProcess is the re-executed test binary: it installs the filter
// and probes every call before and after.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process only")
	}
	native := abis()[0]
	var rep helperReport

	// Park a few goroutines on threads of their own so that TSYNC has
	// threads other than the caller's to synchronize.
	block := make(chan struct{})
	for range 4 {
		go func() {
			runtime.LockOSThread()
			<-block
		}()
	}

	rep.Before = probeAll(native)
	err := Install()
	if errors.Is(err, unix.EACCES) {
		// Not root with CAP_SYS_ADMIN: the test, not the product, sets
		// no_new_privs.
		if perr := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); perr == nil {
			rep.NoNewPrivs = true
			err = Install()
		}
	}
	if err != nil {
		rep.InstallError = err.Error()
	} else {
		rep.After = probeAll(native)
		tasks, _ := filepath.Glob("/proc/self/task/*/status")
		rep.Threads = len(tasks)
		for _, st := range tasks {
			b, err := os.ReadFile(st)
			if err != nil || !bytes.Contains(b, []byte("\nSeccomp:\t2\n")) {
				rep.Unfiltered = append(rep.Unfiltered, st)
			}
		}
	}
	close(block)
	b, _ := json.Marshal(rep)
	os.Stdout.Write(append([]byte(reportMarker), append(b, '\n')...))
	os.Exit(0)
}

func runHelper(t *testing.T) helperReport {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), reportMarker); ok {
			var rep helperReport
			if err := json.Unmarshal([]byte(line), &rep); err != nil {
				t.Fatalf("helper report: %v", err)
			}
			return rep
		}
	}
	t.Fatalf("helper printed no report:\n%s", out)
	return helperReport{}
}

func TestInstallRefusesEveryCall(t *testing.T) {
	if len(ABIs()) == 0 {
		t.Skip("no table for this GOARCH")
	}
	native := abis()[0]
	rep := runHelper(t)
	if rep.InstallError != "" {
		if strings.Contains(rep.InstallError, syscall.ENOSYS.Error()) || strings.Contains(rep.InstallError, syscall.EINVAL.Error()) {
			t.Skipf("seccomp filters not available here: %s", rep.InstallError)
		}
		t.Fatalf("Install: %s", rep.InstallError)
	}
	t.Logf("installed with no_new_privs set by the test: %v; %d threads", rep.NoNewPrivs, rep.Threads)
	if len(rep.Unfiltered) > 0 || rep.Threads < 2 {
		t.Errorf("TSYNC: %d threads, without the filter: %v", rep.Threads, rep.Unfiltered)
	}

	for _, r := range Syscalls() {
		if _, ok := r.Nr[native.name]; !ok {
			continue
		}
		t.Run(r.Name, func(t *testing.T) {
			after, ok := rep.After[r.Name]
			if !ok {
				t.Fatalf("no probe for refused call %s: add one to refusedProbes", r.Name)
			}
			if syscall.Errno(after) != syscall.EPERM {
				t.Errorf("%s with the filter: %v, want EPERM", r.Name, syscall.Errno(after))
			}
			if before := syscall.Errno(rep.Before[r.Name]); before == syscall.EPERM {
				t.Logf("%s fails with EPERM without the filter too on this host: this probe proves little here", r.Name)
			} else {
				t.Logf("%s: without the filter %v (%d), with it EPERM", r.Name, before, int(before))
			}
		})
	}
	for name := range allowedProbes {
		t.Run("allowed/"+name, func(t *testing.T) {
			key := "allowed:" + name
			before, after := syscall.Errno(rep.Before[key]), syscall.Errno(rep.After[key])
			if after != before {
				t.Errorf("%s: %v (%d) without the filter, %v (%d) with it", name, before, int(before), after, int(after))
			}
		})
	}
	if native.x32 {
		t.Run("x32/getpid", func(t *testing.T) {
			if after := syscall.Errno(rep.After["x32:getpid"]); after != syscall.ENOSYS {
				t.Errorf("x32 getpid with the filter: %v, want ENOSYS", after)
			}
		})
	}
}
