package seccomp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// seccompData is struct seccomp_data, the packet the filter reads.
type seccompData struct {
	nr   int32
	arch uint32
	ip   uint64
	args [6]uint64
}

func (d seccompData) packet() []byte {
	b := make([]byte, 64)
	binary.NativeEndian.PutUint32(b[0:], uint32(d.nr))
	binary.NativeEndian.PutUint32(b[4:], d.arch)
	binary.NativeEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.NativeEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// checkProgram does what the kernel's loader checks for the instructions
// the filter uses: known opcodes, aligned loads inside seccomp_data, jumps
// that land inside the program, a return at the end.
func checkProgram(t *testing.T, prog []unix.SockFilter) {
	t.Helper()
	if len(prog) == 0 || len(prog) > maxInsns {
		t.Fatalf("program has %d instructions", len(prog))
	}
	for pc, in := range prog {
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K%4 != 0 || in.K+4 > 64 {
				t.Fatalf("instruction %d loads at offset %d", pc, in.K)
			}
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
				t.Fatalf("instruction %d jumps out of the program (jt %d, jf %d)", pc, in.Jt, in.Jf)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			if pc+1+int(in.K) >= len(prog) {
				t.Fatalf("instruction %d jumps out of the program (ja %d)", pc, in.K)
			}
		case unix.BPF_RET | unix.BPF_K:
		default:
			t.Fatalf("instruction %d: opcode %#x not understood by this interpreter", pc, in.Code)
		}
	}
	if last := prog[len(prog)-1]; last.Code != unix.BPF_RET|unix.BPF_K {
		t.Fatalf("program does not end in a return: %+v", last)
	}
}

// run interprets a classic BPF seccomp program on one packet.
func run(t *testing.T, prog []unix.SockFilter, d seccompData) uint32 {
	t.Helper()
	pkt := d.packet()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a = binary.NativeEndian.Uint32(pkt[in.K:])
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			if a == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			if a&in.K != 0 {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			if a >= in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("instruction %d: opcode %#x not understood by this interpreter", pc, in.Code)
		}
	}
	t.Fatalf("program ran off its end")
	return 0
}

func action(ret uint32) string {
	switch {
	case ret == unix.SECCOMP_RET_ALLOW:
		return "allow"
	case ret == unix.SECCOMP_RET_KILL_PROCESS:
		return "kill-process"
	case ret&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_ERRNO:
		return "errno " + syscall.Errno(ret&unix.SECCOMP_RET_DATA).Error()
	}
	return fmt.Sprintf("%#x", ret)
}

func filter(t *testing.T) []unix.SockFilter {
	t.Helper()
	if len(abis()) == 0 {
		t.Skipf("no system call table for this GOARCH")
	}
	prog, err := Filter()
	if err != nil {
		t.Fatal(err)
	}
	checkProgram(t, prog)
	return prog
}

func TestFilterRefusesEveryRule(t *testing.T) {
	prog := filter(t)
	want := action(unix.SECCOMP_RET_ERRNO | uint32(syscall.EPERM))
	n := 0
	for _, a := range abis() {
		for _, r := range Syscalls() {
			nr, ok := r.Nr[a.name]
			if !ok {
				continue
			}
			n++
			t.Run(a.name+"/"+r.Name, func(t *testing.T) {
				got := action(run(t, prog, seccompData{nr: int32(nr), arch: a.audit}))
				if got != want {
					t.Errorf("%s (%d) on %s: %s, want %s", r.Name, nr, a.name, got, want)
				}
			})
		}
	}
	if n < 40 {
		t.Errorf("only %d refused (ABI, call) pairs, the table lost calls", n)
	}
}

// allowed are calls the container needs, by ABI. The compat numbers are
// written out for the same reason as in abi_linux_*.go.
var allowed = map[string]map[string]int{
	"native": {
		"read": unix.SYS_READ, "write": unix.SYS_WRITE, "getpid": unix.SYS_GETPID,
		"execve": unix.SYS_EXECVE, "mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2,
		"pivot_root": unix.SYS_PIVOT_ROOT, "reboot": unix.SYS_REBOOT,
		"unshare": unix.SYS_UNSHARE, "setns": unix.SYS_SETNS, "clone3": unix.SYS_CLONE3,
		"kcmp": unix.SYS_KCMP, "userfaultfd": unix.SYS_USERFAULTFD, "ptrace": unix.SYS_PTRACE,
		"name_to_handle_at": unix.SYS_NAME_TO_HANDLE_AT, "seccomp": unix.SYS_SECCOMP,
		"open_tree": unix.SYS_OPEN_TREE, "fsopen": unix.SYS_FSOPEN,
		"mount_setattr": unix.SYS_MOUNT_SETATTR, "sethostname": unix.SYS_SETHOSTNAME,
	},
	"386": {
		"read": 3, "write": 4, "execve": 11, "getpid": 20, "mount": 21,
		"reboot": 88, "socketcall": 102, "pivot_root": 217, "unshare": 310,
	},
	"arm": {
		"read": 3, "write": 4, "execve": 11, "getpid": 20, "mount": 21,
		"reboot": 88, "pivot_root": 218, "unshare": 337,
	},
}

func TestFilterAllows(t *testing.T) {
	prog := filter(t)
	for i, a := range abis() {
		key := a.name
		if i == 0 {
			key = "native"
		}
		calls := allowed[key]
		if len(calls) == 0 {
			t.Errorf("no allowed calls listed for ABI %s", a.name)
		}
		for name, nr := range calls {
			t.Run(a.name+"/"+name, func(t *testing.T) {
				if got := action(run(t, prog, seccompData{nr: int32(nr), arch: a.audit})); got != "allow" {
					t.Errorf("%s (%d) on %s: %s, want allow", name, nr, a.name, got)
				}
			})
		}
	}
}

func TestFilterRefusesX32(t *testing.T) {
	prog := filter(t)
	native := abis()[0]
	if !native.x32 {
		t.Skipf("no x32 ABI next to %s", native.name)
	}
	want := action(unix.SECCOMP_RET_ERRNO | uint32(syscall.ENOSYS))
	for name, nr := range map[string]int{"read": unix.SYS_READ, "getpid": unix.SYS_GETPID, "kexec_load": native.nr["kexec_load"]} {
		if got := action(run(t, prog, seccompData{nr: int32(nr | x32SyscallBit), arch: native.audit})); got != want {
			t.Errorf("x32 %s: %s, want %s", name, got, want)
		}
	}
}

func TestFilterKillsUnknownArch(t *testing.T) {
	prog := filter(t)
	for _, arch := range []uint32{0, unix.AUDIT_ARCH_PPC64LE, unix.AUDIT_ARCH_S390X} {
		if got := action(run(t, prog, seccompData{nr: unix.SYS_READ, arch: arch})); got != "kill-process" {
			t.Errorf("arch %#x: %s, want kill-process", arch, got)
		}
	}
}

// finalList is the refused list per build, as reported to the lead; a
// change to the list has to change this too.
var finalList = map[string]string{
	"amd64": "kexec_load kexec_file_load init_module finit_module delete_module swapon swapoff " +
		"open_by_handle_at iopl ioperm acct lookup_dcookie quotactl quotactl_fd add_key keyctl " +
		"request_key bpf perf_event_open syslog settimeofday clock_settime clock_settime64 " +
		"clock_adjtime clock_adjtime64 adjtimex stime fanotify_init fanotify_mark nfsservctl " +
		"_sysctl modify_ldt vm86 vm86old",
	"arm64": "kexec_load kexec_file_load init_module finit_module delete_module swapon swapoff " +
		"open_by_handle_at pciconfig_iobase pciconfig_read pciconfig_write acct lookup_dcookie " +
		"quotactl quotactl_fd add_key keyctl request_key bpf perf_event_open syslog settimeofday " +
		"clock_settime clock_settime64 clock_adjtime clock_adjtime64 adjtimex fanotify_init " +
		"fanotify_mark nfsservctl _sysctl",
}

func TestSyscallsList(t *testing.T) {
	abiNames := ABIs()
	if len(abiNames) == 0 {
		t.Skip("no table for this GOARCH")
	}
	var got []string
	for _, r := range Syscalls() {
		got = append(got, r.Name)
		if r.Errno != syscall.EPERM {
			t.Errorf("%s: errno %v, want EPERM", r.Name, r.Errno)
		}
		for abi, nr := range r.Nr {
			if !slices.Contains(abiNames, abi) || nr <= 0 {
				t.Errorf("%s: number %d on unknown ABI %q", r.Name, nr, abi)
			}
		}
	}
	if want, ok := finalList[abiNames[0]]; ok && strings.Join(got, " ") != want {
		t.Errorf("refused on %s:\n got %s\nwant %s", abiNames[0], strings.Join(got, " "), want)
	}
	for _, a := range abis() {
		for name := range a.nr {
			if !slices.Contains(refused, name) {
				t.Errorf("ABI %s has a number for %q, which is not in the refused list", a.name, name)
			}
		}
	}
	// The must-haves of the brief and issue 3, on the native ABI.
	for _, name := range []string{"kexec_load", "kexec_file_load", "init_module", "finit_module",
		"delete_module", "swapon", "swapoff", "open_by_handle_at", "keyctl", "add_key", "request_key"} {
		if _, ok := abis()[0].nr[name]; !ok {
			t.Errorf("%s is not refused on the native ABI", name)
		}
	}
	for _, name := range []string{"reboot", "pivot_root", "mount", "kcmp", "userfaultfd"} {
		if slices.Contains(refused, name) {
			t.Errorf("%s is refused, the container needs it", name)
		}
	}
}

func TestBuildJumpLimit(t *testing.T) {
	synthetic := func(n int) []abi {
		a := abi{name: "test", audit: 1, nr: map[string]int{}}
		for i := range n {
			a.nr[fmt.Sprint("call", i)] = 1000 + i
		}
		return []abi{a}
	}
	rules := func(tables []abi) []Rule {
		var rs []Rule
		for name, nr := range tables[0].nr {
			rs = append(rs, Rule{Name: name, Nr: map[string]int{"test": nr}, Errno: syscall.EPERM})
		}
		return rs
	}

	small := synthetic(250)
	prog, err := build(small, rules(small))
	if err != nil {
		t.Fatalf("250 rules: %v", err)
	}
	checkProgram(t, prog)
	for name, nr := range small[0].nr {
		if got := action(run(t, prog, seccompData{nr: int32(nr), arch: 1})); got != "errno "+syscall.EPERM.Error() {
			t.Fatalf("%s: %s", name, got)
		}
	}

	// Far jumps are unconditional (32-bit offsets): only the kernel's
	// limit on the program's length bounds the number of rules.
	big := synthetic(1000)
	prog, err = build(big, rules(big))
	if err != nil {
		t.Fatalf("1000 rules: %v", err)
	}
	checkProgram(t, prog)
	for name, nr := range big[0].nr {
		if got := action(run(t, prog, seccompData{nr: int32(nr), arch: 1})); got != "errno "+syscall.EPERM.Error() {
			t.Fatalf("%s: %s", name, got)
		}
	}
	if got := action(run(t, prog, seccompData{nr: 999, arch: 1})); got != "allow" {
		t.Errorf("999 with 1000 rules from 1000 up: %s, want allow", got)
	}
	huge := synthetic(2000)
	if _, err := build(huge, rules(huge)); err == nil || !strings.Contains(err.Error(), "instructions") {
		t.Errorf("2000 rules: err = %v, want a program-length error", err)
	}
}

func TestBuildRefusesErrnoZero(t *testing.T) {
	// SECCOMP_RET_ERRNO with 0 would make a refused call report success.
	tables := []abi{{name: "test", audit: 1, nr: map[string]int{"x": 5}}}
	_, err := build(tables, []Rule{{Name: "x", Nr: map[string]int{"test": 5}}})
	if err == nil {
		t.Error("a rule with errno 0 was accepted")
	}
}

// TestNumbersMatchXSys compares every table, the written-out compat ones
// above all, with golang.org/x/sys's generated tables for that GOARCH, and
// checks that no refused call that exists on an ABI was left out.
func TestNumbersMatchXSys(t *testing.T) {
	tables := abis()
	if len(tables) == 0 {
		t.Skip("no table for this GOARCH")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys").Output()
	if err != nil {
		t.Skipf("cannot locate golang.org/x/sys: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Skip("golang.org/x/sys is not in this user's module cache")
	}
	for _, a := range tables {
		path := filepath.Join(dir, "unix", "zsysnum_linux_"+a.name+".go")
		f, err := os.Open(path)
		if err != nil {
			t.Skipf("x/sys table for %s: %v", a.name, err)
		}
		want := map[string]int{}
		line := regexp.MustCompile(`^\s*SYS_(\w+)\s*=\s*(\d+)`)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := line.FindStringSubmatch(sc.Text()); m != nil {
				n, _ := strconv.Atoi(m[2])
				want[strings.ToLower(m[1])] = n
			}
		}
		f.Close()
		if len(want) < 300 {
			t.Fatalf("%s: read only %d numbers", path, len(want))
		}
		for name, nr := range a.nr {
			if w, ok := want[name]; !ok || w != nr {
				t.Errorf("%s on %s: %d here, x/sys says %d (present: %v)", name, a.name, nr, w, ok)
			}
		}
		for _, name := range refused {
			if _, here := a.nr[name]; !here {
				if w, ok := want[name]; ok {
					t.Errorf("%s exists on %s (%d) but has no number here", name, a.name, w)
				}
			}
		}
	}
}

func TestFilterWithoutTable(t *testing.T) {
	if len(abis()) != 0 {
		t.Skip("this GOARCH has a table")
	}
	if _, err := Filter(); err == nil {
		t.Error("Filter succeeded without a system call table")
	}
}
