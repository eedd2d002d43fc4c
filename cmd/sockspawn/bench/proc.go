package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// parseStatus reads the "Key:\tvalue" lines of /proc/PID/status.
func parseStatus(text string) map[string]string {
	m := make(map[string]string)
	for _, l := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// statusNumber returns the leading number of field key ("VmRSS" gives
// "1234 kB" -> 1234).
func statusNumber(m map[string]string, key string) (int64, error) {
	v, ok := m[key]
	if !ok {
		return 0, fmt.Errorf("no %s", key)
	}
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, fmt.Errorf("empty %s", key)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return n, nil
}

func readStatus(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseStatus(string(b)), nil
}

// rssKiB is the resident set size of process pid, in KiB.
func rssKiB(pid int) (int64, error) {
	m, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return statusNumber(m, "VmRSS")
}

// contextSwitches is the number of times the threads of process pid
// have been switched out so far, voluntarily or not, summed over every
// thread it has now (a Go program has several; /proc/PID/status counts
// only the first).
func contextSwitches(pid int) (int64, error) {
	dirs, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(dirs) == 0 {
		return 0, fmt.Errorf("threads of %d: not found", pid)
	}
	var sum int64
	for _, p := range dirs {
		m, err := readStatus(p)
		if err != nil {
			continue // the thread ended meanwhile
		}
		for _, k := range []string{"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"} {
			n, err := statusNumber(m, k)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", p, err)
			}
			sum += n
		}
	}
	return sum, nil
}

// parentPID is the parent of pid, or 0 if pid is gone.
func parentPID(pid int) int {
	m, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	n, err := statusNumber(m, "PPid")
	if err != nil {
		return 0
	}
	return int(n)
}

// containerChild finds a child of pid that lives in another PID namespace:
// the container's init, for a supervisor that did not say which it is.
func containerChild(pid int) int {
	own, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return 0
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			c, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c)); err == nil && ns != own {
				return c
			}
		}
	}
	return 0
}

// watchExit returns a channel that gets the time process pid exits, or
// nil if it cannot be watched (it is gone already, or no pidfds).
func watchExit(pid int) <-chan time.Time {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil
	}
	c := make(chan time.Time, 1)
	go func() {
		defer unix.Close(fd)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				break
			}
		}
		c <- time.Now()
	}()
	return c
}
