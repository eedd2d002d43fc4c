//go:build linux

package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fdsReport is the probe's report of `probe fds`.
type fdsReport struct {
	Pid       int               `json:"pid"`
	FDs       []int             `json:"fds"`
	Targets   map[string]string `json:"targets"`
	ListenFDs string            `json:"listen_fds"`
}

// TestBoundaryFDs: no fd of the supervisor reaches the container. The
// payload's fds are listed from inside (before it opens anything) and
// from the host (/proc/PID/fd of the container's init, and of the payload
// under --as-pid2): only 0, 1 and 2, plus the listening sockets when
// sockspawn was given some; an fd sockspawn inherited without it being
// announced in LISTEN_FDS must not get through either.
func TestBoundaryFDs(t *testing.T) {
	needRoot(t)
	t.Parallel()
	needProbe(t)
	base := []string{"-D", "/", "--volatile=yes", "--console=pipe", "-q", withProbe()}

	t.Run("init", func(t *testing.T) {
		t.Parallel()
		m := startMachine(t, runSpec{Notify: true, Args: append(base, "--", probePath, "fds")})
		checkPayloadFDs(t, m, false, 0, nil)
	})
	t.Run("as-pid2", func(t *testing.T) {
		t.Parallel()
		m := startMachine(t, runSpec{Notify: true, Args: append(base, "--as-pid2", "--", probePath, "fds")})
		checkPayloadFDs(t, m, true, 0, nil)
	})
	t.Run("listen-fds", func(t *testing.T) {
		t.Parallel()
		dir, err := os.MkdirTemp("", "e2e-fds-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		var files []*os.File
		inodes := map[uint64]bool{}
		for _, n := range []string{"a", "b"} {
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, n), Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			f, err := l.File()
			l.Close()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			var st syscall.Stat_t
			if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
				t.Fatal(err)
			}
			inodes[st.Ino] = true
			files = append(files, f)
		}
		// A third fd that sockspawn inherits but nobody announced: a
		// careless parent's leak, which must stop at sockspawn.
		leak, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { leak.Close() })
		files = append(files, leak)
		m := startMachineWithFiles(t, runSpec{Notify: true, Args: append(base, "--", probePath, "fds")}, files, 2, "a:b")
		checkPayloadFDs(t, m, false, 2, inodes)
	})
}

// checkPayloadFDs checks the fds of a running `probe fds` payload, from
// inside and from the host, then stops the container.
func checkPayloadFDs(t *testing.T, m *machine, asPid2 bool, listen int, listenInodes map[uint64]bool) {
	t.Helper()
	leader := m.Leader()
	waitOutput(t, m, "PROBE ", 20*time.Second)
	var r fdsReport
	parseProbe(t, m.Stdout.String(), &r)
	want := []string{"0", "1", "2"}
	for i := 0; i < listen; i++ {
		want = append(want, strconv.Itoa(3+i))
	}
	var inside []string
	for _, fd := range r.FDs {
		inside = append(inside, strconv.Itoa(fd))
	}
	if !sameFDs(inside, want) {
		t.Errorf("inside, the payload (pid %d) started with fds %v, want %v; they are %v", r.Pid, inside, want, r.Targets)
	}
	if r.ListenFDs != strconv.Itoa(listen) && !(listen == 0 && r.ListenFDs == "") {
		t.Errorf("LISTEN_FDS=%q in the payload, want %d", r.ListenFDs, listen)
	}

	pids := map[string]int{"the container's init": leader}
	if asPid2 {
		child := firstChildOf(t, leader)
		if child == 0 {
			t.Fatalf("no child of the stub init (pid %d) found", leader)
		}
		pids["the payload (pid 2)"] = child
	}
	for who, pid := range pids {
		fds := procFDs(t, pid)
		var got []string
		for fd := range fds {
			got = append(got, fd)
		}
		// The stub init keeps only stdio and the listening fds too.
		if !sameFDs(got, want) {
			t.Errorf("from the host, %s (pid %d) has fds %v, want %v: %v", who, pid, sortedFDs(got), want, fds)
		}
		for i := 0; i < listen; i++ {
			target := fds[strconv.Itoa(3+i)]
			var ino uint64
			if _, err := fmt.Sscanf(target, "socket:[%d]", &ino); err != nil || !listenInodes[ino] {
				t.Errorf("%s: fd %d is %q, want one of the listening sockets given to sockspawn", who, 3+i, target)
			}
		}
	}
	m.Signal(syscall.SIGTERM)
	if status := m.Wait(20 * time.Second); status != 0 {
		t.Errorf("after SIGTERM sockspawn exited with %d, want the payload's 0; stderr:\n%s", status, m.Stderr.String())
	}
}

// firstChildOf returns the first child of pid, or 0. Children are listed per
// thread: the Go stub may fork from any of its threads.
func firstChildOf(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		if f := strings.Fields(string(b)); len(f) > 0 {
			c, _ := strconv.Atoi(f[0])
			return c
		}
	}
	return 0
}

func sortedFDs(s []string) []string {
	out := append([]string(nil), s...)
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i])
		b, _ := strconv.Atoi(out[j])
		return a < b
	})
	return out
}

func sameFDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = sortedFDs(a), sortedFDs(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
