package seccomp

import (
	"fmt"
	"runtime"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// Offsets into struct seccomp_data, the packet a seccomp filter reads.
const (
	offsetNr   = 0 // int nr
	offsetArch = 4 // __u32 arch
)

// x32SyscallBit marks an x32 call among x86-64 ones (__X32_SYSCALL_BIT).
const x32SyscallBit = 0x40000000

// maxInsns is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxInsns = 4096

// Filter returns the classic BPF program that refuses the calls of
// Syscalls on every ABI of this build:
//
//   - a refused call on a known ABI: SECCOMP_RET_ERRNO with its Errno;
//   - any x32 call: SECCOMP_RET_ERRNO with ENOSYS;
//   - any call on an unknown architecture: SECCOMP_RET_KILL_PROCESS;
//   - everything else: SECCOMP_RET_ALLOW.
//
// It fails on a GOARCH without a table or if the program cannot be
// encoded (a jump longer than 255 instructions, more than 4096
// instructions, an errno that does not fit SECCOMP_RET_DATA).
func Filter() ([]unix.SockFilter, error) {
	tables := abis()
	if len(tables) == 0 {
		return nil, fmt.Errorf("seccomp filter: no system call table for %s", runtime.GOARCH)
	}
	return build(tables, rulesFor(tables))
}

// build lays the program out as one section per ABI, each ending in its
// own return instructions, so every jump stays short:
//
//	ld arch; jeq ABI0 ? next : abi1
//	ld nr; [jset x32 bit -> enosys]; jeq n1 -> errno...; ret ALLOW; ret ERRNO|e...
//	abi1: jeq ABI1 ? next : kill ...
//	kill: ret KILL_PROCESS
func build(tables []abi, rules []Rule) ([]unix.SockFilter, error) {
	var p program
	p.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offsetArch)
	for i, a := range tables {
		next := "kill"
		if i+1 < len(tables) {
			next = "abi:" + tables[i+1].name
		}
		p.label("abi:" + a.name)
		p.jumpUnless(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, a.audit, next)
		p.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offsetNr)
		if a.x32 {
			p.jumpIf(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, x32SyscallBit, a.name+":x32")
		}
		var denied []deniedNr
		for _, r := range rules {
			n, ok := r.Nr[a.name]
			if !ok {
				continue
			}
			if n < 0 || n >= x32SyscallBit {
				return nil, fmt.Errorf("seccomp filter: %s on %s: bad number %d", r.Name, a.name, n)
			}
			ret, err := retErrno(r.Errno)
			if err != nil {
				return nil, err
			}
			denied = append(denied, deniedNr{uint32(n), ret})
		}
		slices.SortFunc(denied, func(x, y deniedNr) int { return int(x.nr) - int(y.nr) })
		allow := a.name + ":allow"
		p.searchTree(denied, allow)
		p.label(allow)
		p.stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW)
		if a.x32 {
			ret, _ := retErrno(syscall.ENOSYS)
			p.label(a.name + ":x32")
			p.stmt(unix.BPF_RET|unix.BPF_K, ret)
		}
	}
	p.label("kill")
	p.stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_KILL_PROCESS)
	return p.assemble()
}

// deniedNr is one refused system call number and what it returns.
type deniedNr struct {
	nr  uint32
	ret uint32
}

// searchTree emits a binary search over the sorted refused numbers: every
// system call, refused or not, takes a handful of comparisons instead of
// one per refused call, which matters since the filter runs on every
// system call of the container. Numbers that are not refused end at
// allow. Conditional jumps only ever skip one instruction; the far ones
// are unconditional (BPF_JA, with a 32-bit offset), so the number of
// rules is bounded by the program size alone.
func (p *program) searchTree(nrs []deniedNr, allow string) {
	if len(nrs) <= 3 {
		for _, d := range nrs {
			// if nr == d.nr: return d.ret
			p.jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, d.nr, "", p.skip(1))
			p.stmt(unix.BPF_RET|unix.BPF_K, d.ret)
		}
		p.ja(allow)
		return
	}
	mid := len(nrs) / 2
	upper := p.fresh()
	p.jumpIf(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, nrs[mid].nr, upper)
	p.searchTree(nrs[:mid], allow)
	p.label(upper)
	p.searchTree(nrs[mid:], allow)
}

func retErrno(e syscall.Errno) (uint32, error) {
	if e <= 0 || e > unix.SECCOMP_RET_DATA {
		return 0, fmt.Errorf("seccomp filter: errno %d does not fit SECCOMP_RET_DATA", int(e))
	}
	return unix.SECCOMP_RET_ERRNO | uint32(e), nil
}

// program is a classic BPF program whose jumps name their targets by
// label; assemble turns the labels into the relative offsets BPF wants.
type program struct {
	insns   []insn
	labels  map[string]int
	pending map[string]int // labels placed ahead of the instructions
	n       int            // for fresh labels
}

type insn struct {
	code   uint16
	k      uint32
	jt, jf string // "" is the next instruction
}

func (p *program) label(name string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[name] = len(p.insns)
}

func (p *program) stmt(code uint16, k uint32) {
	p.insns = append(p.insns, insn{code: code, k: k})
}

func (p *program) jump(code uint16, k uint32, jt, jf string) {
	p.insns = append(p.insns, insn{code: code, k: k, jt: jt, jf: jf})
}

// fresh returns a new, unused label name.
func (p *program) fresh() string {
	p.n++
	return fmt.Sprintf(":%d", p.n)
}

// skip returns a label n instructions after the next one, for a jump
// over n instructions.
func (p *program) skip(n int) string {
	l := p.fresh()
	if p.pending == nil {
		p.pending = map[string]int{}
	}
	p.pending[l] = len(p.insns) + 1 + n
	return l
}

// ja jumps unconditionally to label, however far.
func (p *program) ja(label string) {
	p.insns = append(p.insns, insn{code: unix.BPF_JMP | unix.BPF_JA, jt: label})
}

// jumpIf goes to label, however far, when the test holds.
func (p *program) jumpIf(code uint16, k uint32, label string) {
	p.jump(code, k, "", p.skip(1))
	p.ja(label)
}

// jumpUnless goes to label, however far, when the test fails.
func (p *program) jumpUnless(code uint16, k uint32, label string) {
	p.jump(code, k, p.skip(1), "")
	p.ja(label)
}

func (p *program) assemble() ([]unix.SockFilter, error) {
	for l, at := range p.pending {
		p.labels[l] = at
	}
	if len(p.insns) > maxInsns {
		return nil, fmt.Errorf("seccomp filter: %d instructions, the kernel takes at most %d", len(p.insns), maxInsns)
	}
	out := make([]unix.SockFilter, len(p.insns))
	for i, in := range p.insns {
		if in.code == unix.BPF_JMP|unix.BPF_JA {
			to, ok := p.labels[in.jt]
			if !ok || to <= i {
				return nil, fmt.Errorf("seccomp filter: bad unconditional jump to %q", in.jt)
			}
			out[i] = unix.SockFilter{Code: in.code, K: uint32(to - i - 1)}
			continue
		}
		jt, err := p.offset(i, in.jt)
		if err != nil {
			return nil, err
		}
		jf, err := p.offset(i, in.jf)
		if err != nil {
			return nil, err
		}
		out[i] = unix.SockFilter{Code: in.code, Jt: jt, Jf: jf, K: in.k}
	}
	return out, nil
}

func (p *program) offset(from int, label string) (uint8, error) {
	if label == "" {
		return 0, nil
	}
	to, ok := p.labels[label]
	if !ok {
		return 0, fmt.Errorf("seccomp filter: jump to undefined label %q", label)
	}
	d := to - from - 1
	if d < 0 || d > 255 {
		return 0, fmt.Errorf("seccomp filter: jump from instruction %d to %q is %d long, BPF allows 0 to 255", from, label, d)
	}
	return uint8(d), nil
}
