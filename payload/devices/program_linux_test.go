package devices

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// The kernel cannot test-run CGROUP_DEVICE programs (BPF_PROG_TEST_RUN says
// ENOTSUPP), so these tests run the instructions Program emits in interpret,
// a small interpreter for the few instructions it uses, and compare its
// verdict with Allowed. e2e_linux_test.go runs the same comparison through
// the kernel, as root.

// interpret runs insns on a struct bpf_cgroup_dev_ctx and returns R0. It
// fails the test on any instruction Program does not use and on a jump out
// of the program.
func interpret(t *testing.T, insns asm.Instructions, ctx []byte) uint64 {
	t.Helper()
	symbols, err := insns.SymbolOffsets()
	if err != nil {
		t.Fatal(err)
	}
	var reg [11]uint64
	for pc, steps := 0, 0; ; steps++ {
		if pc < 0 || pc >= len(insns) || steps > len(insns) {
			// Program never jumps backwards, so it runs at most
			// len(insns) instructions.
			t.Fatalf("pc %d after %d steps: out of the program or looping\n%v", pc, steps, insns)
		}
		ins := insns[pc]
		op := ins.OpCode
		next := pc + 1
		switch cls := op.Class(); {
		case cls == asm.LdXClass && op.Mode() == asm.MemMode && op.Size() == asm.Word && ins.Src == asm.R1:
			off := int(ins.Offset)
			if off < 0 || off+4 > len(ctx) || off%4 != 0 {
				t.Fatalf("insn %d: load at ctx+%d", pc, off)
			}
			reg[ins.Dst] = uint64(binary.NativeEndian.Uint32(ctx[off:]))
		case cls.IsALU():
			src := uint64(ins.Constant)
			if op.Source() == asm.RegSource {
				src = reg[ins.Src]
			}
			var v uint64
			switch op.ALUOp() {
			case asm.Mov:
				v = src
			case asm.And:
				v = reg[ins.Dst] & src
			case asm.RSh:
				v = reg[ins.Dst] >> (src & 63)
			default:
				t.Fatalf("insn %d: unexpected %v", pc, ins)
			}
			if cls == asm.ALUClass {
				v = uint64(uint32(v))
			}
			reg[ins.Dst] = v
		case cls == asm.JumpClass && op.JumpOp() == asm.Exit:
			return reg[asm.R0]
		case cls == asm.JumpClass && op.JumpOp() == asm.JNE && op.Source() == asm.ImmSource:
			target := pc + 1 + int(ins.Offset)
			if ref := ins.Reference(); ref != "" {
				var ok bool
				if target, ok = symbols[ref]; !ok {
					t.Fatalf("insn %d: jump to unknown %q", pc, ref)
				}
			}
			if reg[ins.Dst] != uint64(ins.Constant) {
				next = target
			}
		default:
			t.Fatalf("insn %d: unexpected %v", pc, ins)
		}
		pc = next
	}
}

// devCtx builds a struct bpf_cgroup_dev_ctx.
func devCtx(typ byte, major, minor uint32, access string) []byte {
	var devType uint32
	switch typ {
	case 'c':
		devType = devChar
	case 'b':
		devType = devBlock
	}
	bits, _ := accessBits(access)
	ctx := make([]byte, 12)
	binary.NativeEndian.PutUint32(ctx[0:], bits<<16|devType)
	binary.NativeEndian.PutUint32(ctx[4:], major)
	binary.NativeEndian.PutUint32(ctx[8:], minor)
	return ctx
}

var requestAccesses = []string{"r", "w", "m", "rw", "rm", "wm", "rwm"}

// checkProgram compares the program for rules with Allowed on every request
// with the given numbers.
func checkProgram(t *testing.T, rules []Rule, majors, minors []int64) {
	t.Helper()
	spec, err := Program(rules)
	if err != nil {
		t.Fatalf("Program(%v): %v", rules, err)
	}
	for _, typ := range []byte{'c', 'b'} {
		for _, major := range majors {
			for _, minor := range minors {
				for _, access := range requestAccesses {
					want := Allowed(rules, typ, major, minor, access)
					got := interpret(t, spec.Instructions, devCtx(typ, uint32(major), uint32(minor), access))
					if got != 0 && got != 1 || (got == 1) != want {
						t.Fatalf("rules %v, request %c %d:%d %s: program returns %d, Allowed says %v\n%v",
							rules, typ, major, minor, access, got, want, spec.Instructions)
					}
				}
			}
		}
	}
}

func TestProgramDefaultAllow(t *testing.T) {
	rules := DefaultAllow()
	checkProgram(t, rules, []int64{0, 1, 5, 10, 135, 136, 140, 143, 144, 4095}, []int64{0, 1, 2, 3, 5, 7, 8, 9, 11, 200, 232, 1<<20 - 1})

	spec, err := Program(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		typ          byte
		major, minor uint32
		access       string
		want         uint64
	}{
		{'c', 1, 3, "rw", 1},
		{'c', 1, 3, "m", 1},
		{'b', 1, 3, "r", 0},
		{'c', 10, 232, "r", 0}, // kvm
		{'c', 10, 232, "m", 0},
		{'c', 1, 11, "r", 0}, // kmsg
		{'c', 136, 4, "rw", 1},
		{'c', 5, 1, "rw", 0}, // console: a pty bound in, never the node
		{'b', 7, 0, "r", 0},
	} {
		if got := interpret(t, spec.Instructions, devCtx(tt.typ, tt.major, tt.minor, tt.access)); got != tt.want {
			t.Errorf("default program on %c %d:%d %s = %d, want %d", tt.typ, tt.major, tt.minor, tt.access, got, tt.want)
		}
	}
}

func TestProgramRules(t *testing.T) {
	majors := []int64{0, 1, 7, 250, 251}
	minors := []int64{0, 1, 3, 9}
	for _, rules := range [][]Rule{
		nil,
		{{'c', 1, 3, "r"}},
		{{'c', 1, 3, "w"}, {'c', 1, 3, "m"}},
		{{'b', 7, Wildcard, "rw"}},
		{{'a', Wildcard, 3, "rm"}},
		{{'c', Wildcard, Wildcard, "rw"}, {'b', 250, 1, "wm"}},
		{{'c', 1, 3, "r"}, {'a', Wildcard, Wildcard, "rwm"}, {'b', 7, 0, "r"}},
		{{'a', Wildcard, Wildcard, "m"}},
		{{'a', Wildcard, Wildcard, "rwm"}},
	} {
		t.Run(fmt.Sprint(rules), func(t *testing.T) {
			checkProgram(t, rules, majors, minors)
		})
	}
}

// TestProgramRandom compares the program with Allowed for random rule lists
// over a small range of numbers, so that rules overlap and most requests
// match some rule in part.
func TestProgramRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	number := func() int64 {
		if rng.IntN(4) == 0 {
			return Wildcard
		}
		return rng.Int64N(3)
	}
	for range 300 {
		rules := make([]Rule, rng.IntN(5))
		for i := range rules {
			rules[i] = Rule{
				Type:   "cba"[rng.IntN(3)],
				Major:  number(),
				Minor:  number(),
				Access: accessString(uint32(1 + rng.IntN(7))),
			}
		}
		checkProgram(t, rules, []int64{0, 1, 2, 3}, []int64{0, 1, 2, 3})
	}
}

func TestProgramUnknownAccessBits(t *testing.T) {
	// A request with a bit no rule grants is denied by a partial rule and,
	// as in systemd and runc, allowed by a rwm rule.
	ctx := devCtx('c', 1, 3, "r")
	ctx[3] |= 0x80 // access bit 1<<15
	for _, tt := range []struct {
		access string
		want   uint64
	}{{"rw", 0}, {"rwm", 1}} {
		spec, err := Program([]Rule{{'c', 1, 3, tt.access}})
		if err != nil {
			t.Fatal(err)
		}
		if got := interpret(t, spec.Instructions, ctx); got != tt.want {
			t.Errorf("rule c 1:3 %s, request with an unknown bit: %d, want %d", tt.access, got, tt.want)
		}
	}
}

func TestProgramInvalidRules(t *testing.T) {
	for _, r := range []Rule{
		{'x', 1, 3, "rwm"},
		{'c', 4096, 3, "rwm"},
		{'c', 1, -2, "rwm"},
		{'c', 1, 1 << 20, "rwm"},
		{'c', 1, 3, ""},
		{'c', 1, 3, "rwx"},
	} {
		if _, err := Program([]Rule{{'a', Wildcard, Wildcard, "rwm"}, r}); err == nil || !strings.Contains(err.Error(), "device rule 1") {
			t.Errorf("Program with %+v: %v, want an error naming rule 1", r, err)
		}
	}
}

// TestProgramLoads has the kernel's verifier check the programs: it rejects,
// among others, code that cannot be reached.
func TestProgramLoads(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading a BPF program needs root")
	}
	for _, rules := range [][]Rule{
		nil,
		DefaultAllow(),
		{{'a', Wildcard, Wildcard, "rwm"}},
		{{'c', 1, 3, "r"}, {'a', Wildcard, Wildcard, "rwm"}, {'b', 7, 0, "r"}},
		{{'b', MaxMajor, MaxMinor, "w"}, {'a', Wildcard, Wildcard, "m"}},
	} {
		spec, err := Program(rules)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := ebpf.NewProgram(spec)
		if errors.Is(err, ebpf.ErrNotSupported) {
			t.Skipf("kernel: %v", err)
		}
		if err != nil {
			t.Fatalf("load program for %v: %v", rules, err)
		}
		prog.Close()
	}
}
