package devices

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Device types of struct bpf_cgroup_dev_ctx (BPF_DEVCG_DEV_*).
const (
	devBlock = 1
	devChar  = 2
)

// Offsets of the fields of struct bpf_cgroup_dev_ctx:
//
//	struct bpf_cgroup_dev_ctx {
//		__u32 access_type; /* BPF_DEVCG_ACC_* << 16 | BPF_DEVCG_DEV_* */
//		__u32 major;
//		__u32 minor;
//	};
const (
	ctxAccessType = 0
	ctxMajor      = 4
	ctxMinor      = 8
)

// Registers the program keeps the request in. R1 holds the context on entry
// and is used as scratch once the fields are loaded.
const (
	regType   = asm.R2
	regAccess = asm.R3
	regMajor  = asm.R4
	regMinor  = asm.R5
	regTmp    = asm.R1
)

// Program returns a BPF_PROG_TYPE_CGROUP_DEVICE program that allows exactly
// what Allowed(rules, ...) allows: it returns 1 if one rule matches the
// request and 0 (EPERM for the process) otherwise. Every rule becomes a block
// of compares that jumps to the next block on the first mismatch; the last
// block denies.
func Program(rules []Rule) (*ebpf.ProgramSpec, error) {
	insns := asm.Instructions{
		asm.LoadMem(regType, asm.R1, ctxAccessType, asm.Word),
		asm.Mov.Reg32(regAccess, regType),
		asm.And.Imm32(regType, 0xffff),
		asm.RSh.Imm32(regAccess, 16),
		asm.LoadMem(regMajor, asm.R1, ctxMajor, asm.Word),
		asm.LoadMem(regMinor, asm.R1, ctxMinor, asm.Word),
	}
	for i, r := range rules {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("device rule %d (%s): %w", i, r, err)
		}
	}
	denyReachable := true
	for i, r := range rules {
		next := "deny"
		if i+1 < len(rules) {
			next = fmt.Sprintf("rule%d", i+1)
		}
		block, conditional := ruleBlock(r, next)
		insns = append(insns, block[0].WithSymbol(fmt.Sprintf("rule%d", i)))
		insns = append(insns, block[1:]...)
		if !conditional {
			// The rule allows everything: the verifier refuses code
			// that cannot be reached, so the program ends here.
			denyReachable = false
			break
		}
	}
	if denyReachable {
		insns = append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("deny"), asm.Return())
	}
	return &ebpf.ProgramSpec{
		Name:         "sockspawn_dev",
		Type:         ebpf.CGroupDevice,
		AttachType:   ebpf.AttachCGroupDevice,
		Instructions: insns,
		License:      "Apache-2.0",
	}, nil
}

// ruleBlock returns the instructions of a valid rule: jump to next unless
// the request matches, else return 1. conditional is false if the rule
// matches every request.
//
// The compares are 64-bit (no JMP32, which needs Linux 5.1): the fields are
// loaded as zero-extended words and the numbers are below 2^31.
func ruleBlock(r Rule, next string) (block asm.Instructions, conditional bool) {
	switch r.Type {
	case 'c':
		block = append(block, asm.JNE.Imm(regType, devChar, next))
	case 'b':
		block = append(block, asm.JNE.Imm(regType, devBlock, next))
	}
	if r.Major != Wildcard {
		block = append(block, asm.JNE.Imm(regMajor, int32(r.Major), next))
	}
	if r.Minor != Wildcard {
		block = append(block, asm.JNE.Imm(regMinor, int32(r.Minor), next))
	}
	if bits, _ := accessBits(r.Access); bits != accAll {
		// Deny if the request has a bit the rule does not grant. With all
		// three granted the check is left out, as systemd and runc do.
		block = append(block,
			asm.Mov.Reg32(regTmp, regAccess),
			asm.And.Imm32(regTmp, int32(^bits)),
			asm.JNE.Imm(regTmp, 0, next),
		)
	}
	conditional = len(block) > 0
	return append(block, asm.Mov.Imm(asm.R0, 1), asm.Return()), conditional
}

// Attach loads the device program for rules and attaches it to the cgroup2
// directory cgroupDir. Closing the returned Closer detaches it; the caller
// holds it for the life of the container.
//
// The program is attached with BPF_PROG_ATTACH and BPF_F_ALLOW_MULTI, on
// purpose not through link.AttachCgroup:
//   - with ALLOW_MULTI, programs that systemd in the container attaches to
//     child cgroups run in addition to ours, and cannot replace it; the
//     override mode, which link.AttachCgroup falls back to on kernels
//     before 5.6, would let them replace it;
//   - a BPF link is detached when its last fd is closed, so a supervisor
//     that is killed would leave the container without any device policy;
//     a BPF_PROG_ATTACH attachment stays until it is detached or the cgroup
//     is removed.
func Attach(cgroupDir string, rules []Rule) (io.Closer, error) {
	spec, err := Program(rules)
	if err != nil {
		return nil, fmt.Errorf("device program for cgroup %s: %w", cgroupDir, err)
	}
	cgroup, err := os.OpenFile(cgroupDir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("attach device program: %w", err)
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(cgroup.Fd()), &fs); err != nil {
		cgroup.Close()
		return nil, fmt.Errorf("attach device program: %w", &os.PathError{Op: "fstatfs", Path: cgroupDir, Err: err})
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		cgroup.Close()
		return nil, fmt.Errorf("attach device program: %s is not a cgroup2 directory", cgroupDir)
	}
	prog, err := ebpf.NewProgram(spec)
	if err != nil {
		cgroup.Close()
		if errors.Is(err, unix.EPERM) {
			// cilium/ebpf suggests MEMLOCK, but on any kernel that has
			// memcg accounting for BPF (5.11+) EPERM means bpf(2) itself
			// was refused: a seccomp filter (as inside systemd-nspawn) or
			// no CAP_BPF/CAP_SYS_ADMIN.
			return nil, fmt.Errorf("load device program for cgroup %s: bpf(2) was refused (a seccomp filter, or no CAP_BPF/CAP_SYS_ADMIN): the device policy cannot be enforced, so the container is not started", cgroupDir)
		}
		return nil, fmt.Errorf("load device program for cgroup %s: %w", cgroupDir, err)
	}
	err = link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  int(cgroup.Fd()),
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	})
	if err != nil {
		prog.Close()
		cgroup.Close()
		return nil, fmt.Errorf("attach device program to cgroup %s: %w", cgroupDir, err)
	}
	return &attachment{dir: cgroupDir, cgroup: cgroup, prog: prog}, nil
}

// attachment is a device program attached to a cgroup.
type attachment struct {
	dir    string
	cgroup *os.File
	prog   *ebpf.Program
}

// Close detaches the program. A second Close does nothing, and neither does
// a Close after the cgroup was removed: the kernel detached the program then
// (BPF_PROG_DETACH says ENOENT).
func (a *attachment) Close() error {
	if a.prog == nil {
		return nil
	}
	err := link.RawDetachProgram(link.RawDetachProgramOptions{
		Target:  int(a.cgroup.Fd()),
		Program: a.prog,
		Attach:  ebpf.AttachCGroupDevice,
	})
	a.prog.Close()
	a.cgroup.Close()
	a.prog, a.cgroup = nil, nil
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("detach device program from cgroup %s: %w", a.dir, err)
	}
	return nil
}
