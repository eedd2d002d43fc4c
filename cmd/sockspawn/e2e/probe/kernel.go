//go:build linux

package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// maskedFiles are the /proc files a container must see as /dev/null.
var maskedFiles = []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats", "/proc/kallsyms"}

// readOnlyFiles are host-wide kernel switches the container must not be
// able to open for writing. They are only opened, never written.
var readOnlyFiles = []string{"/proc/sysrq-trigger", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/panic", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/uevent_helper"}

type kernelReport struct {
	Masked   map[string]string `json:"masked"`    // "dev 1:3" for a /dev/null node, else what it is
	OpenRW   map[string]string `json:"open_rw"`   // opening each of readOnlyFiles O_WRONLY
	MkdirSys string            `json:"mkdir_sys"` // mkdir /sys/fs/NONCE
	Firmware []string          `json:"firmware"`  // entries of /sys/firmware
}

// probeKernel is `probe kernel`: the /proc masks, the read-only kernel
// switches and the hidden /sys/firmware.
func probeKernel() error {
	r := kernelReport{Masked: map[string]string{}, OpenRW: map[string]string{}}
	for _, p := range maskedFiles {
		var st unix.Stat_t
		switch err := unix.Stat(p, &st); {
		case err != nil:
			r.Masked[p] = errnoName(err)
		case st.Mode&unix.S_IFMT == unix.S_IFCHR:
			r.Masked[p] = fmt.Sprintf("dev %d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		default:
			r.Masked[p] = fmt.Sprintf("mode %o size %d", st.Mode, st.Size)
		}
	}
	for _, p := range readOnlyFiles {
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		r.OpenRW[p] = errnoName(err)
	}
	d := fmt.Sprintf("/sys/fs/probe-%d", os.Getpid())
	r.MkdirSys = errnoName(unix.Mkdir(d, 0o755))
	if r.MkdirSys == "ok" {
		_ = unix.Rmdir(d)
	}
	ents, err := os.ReadDir("/sys/firmware")
	if err != nil {
		r.Firmware = []string{errnoName(err)}
	}
	for _, e := range ents {
		r.Firmware = append(r.Firmware, e.Name())
	}
	return emit(r)
}
