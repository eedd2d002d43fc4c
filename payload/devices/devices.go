package devices

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Wildcard in Rule.Major or Rule.Minor matches every number; it is written
// "*".
const Wildcard = -1

// The largest major and minor numbers the kernel can represent (dev_t has 12
// bits of major and 20 bits of minor inside the kernel).
const (
	MaxMajor = 1<<12 - 1
	MaxMinor = 1<<20 - 1
)

// Rule allows one kind of access to a set of device nodes, in the terms of
// the cgroup v1 devices controller: "c 1:3 rwm", "c 136:* rw".
type Rule struct {
	Type         byte   // 'c' (character), 'b' (block) or 'a' (both)
	Major, Minor int64  // device numbers, or Wildcard
	Access       string // a non-empty subset of "rwm": read, write, mknod
}

// DefaultAllow returns the devices every container may create and open: the
// nodes the Container Interface asks for (null, zero, full, random, urandom,
// tty, ptmx), the container's ptys and /dev/net/tun.
func DefaultAllow() []Rule {
	rules := []Rule{
		{Type: 'c', Major: 1, Minor: 3, Access: "rwm"},    // null
		{Type: 'c', Major: 1, Minor: 5, Access: "rwm"},    // zero
		{Type: 'c', Major: 1, Minor: 7, Access: "rwm"},    // full
		{Type: 'c', Major: 1, Minor: 8, Access: "rwm"},    // random
		{Type: 'c', Major: 1, Minor: 9, Access: "rwm"},    // urandom
		{Type: 'c', Major: 5, Minor: 0, Access: "rwm"},    // tty
		{Type: 'c', Major: 5, Minor: 2, Access: "rwm"},    // ptmx
		{Type: 'c', Major: 10, Minor: 200, Access: "rwm"}, // net/tun
	}
	// Unix98 ptys: majors 136 to 143 (UNIX98_PTY_SLAVE_MAJOR and the
	// following UNIX98_PTY_MAJOR_COUNT-1).
	for major := int64(136); major <= 143; major++ {
		rules = append(rules, Rule{Type: 'c', Major: major, Minor: Wildcard, Access: "rwm"})
	}
	return rules
}

// ParseRule parses a rule in the syntax of the cgroup v1 devices controller
// and systemd's DeviceAllow=: a type ('c', 'b' or 'a'), MAJOR:MINOR where
// either may be "*", and an access made of the letters r, w and m, separated
// by blanks: "c 1:3 rwm", "c 136:* rw", "b 7:0 r". The access may be left out
// and is then "rwm"; "a" alone means "a *:* rwm". The returned Access is in
// the canonical order "rwm", so that ParseRule(r.String()) == r.
func ParseRule(s string) (Rule, error) {
	fields := strings.Fields(s)
	if len(fields) == 1 && fields[0] == "a" {
		return Rule{Type: 'a', Major: Wildcard, Minor: Wildcard, Access: "rwm"}, nil
	}
	if len(fields) < 2 || len(fields) > 3 {
		return Rule{}, fmt.Errorf("device rule %q: want TYPE MAJOR:MINOR [ACCESS]", s)
	}
	if len(fields[0]) != 1 {
		return Rule{}, fmt.Errorf("device rule %q: type %q is not c, b or a", s, fields[0])
	}
	r := Rule{Type: fields[0][0], Access: "rwm"}
	majorText, minorText, ok := strings.Cut(fields[1], ":")
	if !ok {
		return Rule{}, fmt.Errorf("device rule %q: %q is not MAJOR:MINOR", s, fields[1])
	}
	var err error
	if r.Major, err = parseNumber(majorText); err != nil {
		return Rule{}, fmt.Errorf("device rule %q: major: %w", s, err)
	}
	if r.Minor, err = parseNumber(minorText); err != nil {
		return Rule{}, fmt.Errorf("device rule %q: minor: %w", s, err)
	}
	if len(fields) == 3 {
		bits, err := accessBits(fields[2])
		if err != nil {
			return Rule{}, fmt.Errorf("device rule %q: %w", s, err)
		}
		r.Access = accessString(bits)
	}
	if err := r.validate(); err != nil {
		return Rule{}, fmt.Errorf("device rule %q: %w", s, err)
	}
	return r, nil
}

// parseNumber parses a major or minor number: decimal digits or "*".
func parseNumber(s string) (int64, error) {
	if s == "*" {
		return Wildcard, nil
	}
	// Base 10 takes digits only: no sign, no "0x", no underscores.
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number or *", s)
	}
	return int64(n), nil
}

// String returns the rule in the syntax ParseRule reads and the cgroup v1
// devices controller accepts (except for type 'a', see AttachV1).
func (r Rule) String() string {
	return fmt.Sprintf("%c %s:%s %s", r.Type, numberString(r.Major), numberString(r.Minor), r.Access)
}

func numberString(n int64) string {
	if n == Wildcard {
		return "*"
	}
	return strconv.FormatInt(n, 10)
}

// validate reports whether the rule can be enforced.
func (r Rule) validate() error {
	if r.Type != 'c' && r.Type != 'b' && r.Type != 'a' {
		return fmt.Errorf("type %q is not c, b or a", r.Type)
	}
	if r.Major != Wildcard && (r.Major < 0 || r.Major > MaxMajor) {
		return fmt.Errorf("major %d is not * or in 0..%d", r.Major, MaxMajor)
	}
	if r.Minor != Wildcard && (r.Minor < 0 || r.Minor > MaxMinor) {
		return fmt.Errorf("minor %d is not * or in 0..%d", r.Minor, MaxMinor)
	}
	_, err := accessBits(r.Access)
	return err
}

// Access bits of struct bpf_cgroup_dev_ctx (BPF_DEVCG_ACC_*).
const (
	accMknod = 1
	accRead  = 2
	accWrite = 4
	accAll   = accMknod | accRead | accWrite
)

var errNoAccess = errors.New("access is empty, want a subset of rwm")

// accessBits turns an access string ("rw") into BPF_DEVCG_ACC_* bits.
func accessBits(access string) (uint32, error) {
	if access == "" {
		return 0, errNoAccess
	}
	var bits uint32
	for _, c := range access {
		switch c {
		case 'r':
			bits |= accRead
		case 'w':
			bits |= accWrite
		case 'm':
			bits |= accMknod
		default:
			return 0, fmt.Errorf("access %q: %q is not r, w or m", access, c)
		}
	}
	return bits, nil
}

// accessString is the canonical access string of bits.
func accessString(bits uint32) string {
	var b strings.Builder
	if bits&accRead != 0 {
		b.WriteByte('r')
	}
	if bits&accWrite != 0 {
		b.WriteByte('w')
	}
	if bits&accMknod != 0 {
		b.WriteByte('m')
	}
	return b.String()
}
