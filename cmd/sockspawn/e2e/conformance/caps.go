//go:build linux

package main

import (
	"os"
	"sort"
	"strconv"
	"strings"
)

// Capability numbers from linux/capability.h.
const (
	capMknod        = 27
	capSysAdmin     = 21
	capAuditWrite   = 29
	capAuditControl = 30
	capAuditRead    = 37
)

// checkCapabilities checks PID 1's bounding set.
func checkCapabilities(r *report) {
	b, err := os.ReadFile("/proc/1/status")
	if err != nil {
		r.fail("capabilities", "%v", err)
		return
	}
	var bnd uint64
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			bnd, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			found = err == nil
		}
	}
	if !found {
		r.fail("capabilities", "no CapBnd in /proc/1/status")
		return
	}
	info("CapBnd of pid 1: %016x", bnd)
	var problems []string
	for c, name := range map[int]string{capSysAdmin: "CAP_SYS_ADMIN", capMknod: "CAP_MKNOD"} {
		if bnd&(1<<c) == 0 {
			problems = append(problems, name+" missing")
		}
	}
	for c, name := range map[int]string{capAuditWrite: "CAP_AUDIT_WRITE", capAuditControl: "CAP_AUDIT_CONTROL", capAuditRead: "CAP_AUDIT_READ"} {
		if bnd&(1<<c) != 0 {
			problems = append(problems, name+" present")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		r.fail("capabilities", "bounding set %016x: %s", bnd, strings.Join(problems, ", "))
		return
	}
	r.ok("capabilities")
}
