//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

type viewReport struct {
	Pid      int               `json:"pid"`
	Marker   string            `json:"marker"`    // content of the marker file, or the error
	Mounts   map[string]string `json:"mounts"`    // mount point -> file system type (the top one)
	ProcSelf bool              `json:"proc_self"` // /proc/self is our own pid: /proc is of our pid namespace
	Notify   string            `json:"notify"`    // "socket" if /run/host/notify is one
	Reads    map[string]string `json:"reads"`     // -read=PATH: content or error
	Writes   map[string]string `json:"writes"`    // -write=PATH: result of appending to it
}

// view is `probe view [-marker=PATH] [-read=PATH]... [-write=PATH]...`:
// what the container looks like from inside. -write appends a line to an
// existing file (following symlinks, inside the container).
func view(args []string) error {
	r := viewReport{Pid: os.Getpid(), Mounts: map[string]string{}, Reads: map[string]string{}, Writes: map[string]string{}}
	marker := "/image-marker"
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "-marker":
			marker = v
		case "-read":
			if b, err := os.ReadFile(v); err != nil {
				r.Reads[v] = "error: " + errnoName(err)
			} else {
				r.Reads[v] = string(b)
			}
		case "-write":
			fd, err := unix.Open(v, unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC, 0)
			if err == nil {
				_, err = unix.Write(fd, []byte("written by the probe inside the container\n"))
				unix.Close(fd)
			}
			r.Writes[v] = errnoName(err)
		default:
			return fmt.Errorf("unknown argument %q", a)
		}
	}
	if b, err := os.ReadFile(marker); err != nil {
		r.Marker = "error: " + errnoName(err)
	} else {
		r.Marker = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			for i, x := range fields {
				if x == "-" && i+1 < len(fields) && len(fields) > 4 {
					r.Mounts[fields[4]] = fields[i+1]
				}
			}
		}
		f.Close()
	}
	self, _ := os.Readlink("/proc/self")
	r.ProcSelf = self == strconv.Itoa(os.Getpid())
	var st unix.Stat_t
	if err := unix.Lstat("/run/host/notify", &st); err != nil {
		r.Notify = errnoName(err)
	} else if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
		r.Notify = "socket"
	} else {
		r.Notify = fmt.Sprintf("mode %o", st.Mode)
	}
	return emit(r)
}
