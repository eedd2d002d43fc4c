//go:build linux

package e2e

// The TestHost* tests run sockspawn the way a distribution ships it: as
// container@.service and container@.socket under a real systemd. This
// machine's PID 1 need not be systemd, so the tests boot one: this
// machine's own OS, statelessly, with systemd-nspawn (the "nspawn host"),
// and drive its systemd with systemctl through nsenter.
//
// sockspawn is installed in the nspawn host the way
// `make install PREFIX=/usr/local` installs it: a staging tree (DESTDIR)
// gets bin/sockspawn, lib/systemd/system/container@.{service,socket}
// (`sockspawn __install-units`, as the Makefile does) and
// share/man/man1/sockspawn.1 (`sockspawn __man`), and is bound read-only
// over the nspawn host's /usr/local. systemd reads units from
// /usr/local/lib/systemd/system, so nothing is copied into /etc; what an
// administrator writes (/etc/sockspawn/NAME.conf, the drop-ins of
// `sockspawn new`) goes to the nspawn host's /etc, a tmpfs there.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nspawnHost is one systemd booted with systemd-nspawn, with sockspawn
// installed in it.
type nspawnHost struct {
	Name   string // its machine name and hostname
	Stage  string // the DESTDIR tree; Stage/usr/local is its /usr/local
	Leader int    // pid (in the test's pid namespace) of its systemd
	pidNS  string // its pid namespace, for finding leftover processes

	cmd     *exec.Cmd
	output  lockedBuffer // systemd-nspawn's stdout and stderr: the console
	notify  *notifyReceiver
	exited  chan struct{}
	cgroups []string // the cgroups made for systemd-nspawn, removed at the end
}

// startNspawnHost boots the nspawn host and waits until its systemd is
// ready. Its cleanup powers it off and checks that nothing of it is left.
func startNspawnHost(t *testing.T) *nspawnHost {
	t.Helper()
	return startNspawnHostWith(t)
}

// startNspawnHostWith is startNspawnHost with more options for
// systemd-nspawn, such as --private-network for networking tests, which
// keeps the nspawn host's links, addresses, nftables rules and
// forwarding settings away from this machine's.
func startNspawnHostWith(t *testing.T, extra ...string) *nspawnHost {
	t.Helper()
	needSystemd(t)
	nspawn, err := exec.LookPath("systemd-nspawn")
	if err != nil {
		missing(t, "systemd-nspawn (apt-get install systemd-container)")
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := &nspawnHost{Name: "e2e-host-" + hex.EncodeToString(b), exited: make(chan struct{})}
	h.Stage = t.TempDir()
	hostInstall(t, h.Stage)
	procs := h.makeCgroups(t)

	// --system-call-filter=bpf: nspawn's default seccomp filter refuses
	// bpf(), and sockspawn enforces its device policy with a cgroup
	// device program; without it `sockspawn boot` fails in the nspawn
	// host with "load device program ...: operation not permitted". The
	// nspawn host's own systemd then also enforces the units'
	// DevicePolicy=/DeviceAllow= with BPF, as a real host does. The idle
	// watcher takes the container's own listening sockets with
	// pidfd_getfd, which nspawn's filter refuses too.
	args := []string{
		"--register=no", "--keep-unit", "--volatile=yes", "-D", "/",
		"--bind-ro=" + filepath.Join(h.Stage, "usr/local") + ":/usr/local",
		"--system-call-filter=bpf pidfd_getfd",
		"-b", "--notify-ready=yes", "-M", h.Name,
	}
	args = append(append(args, extra...), "systemd.firstboot=off")
	// systemd-nspawn makes its payload and supervisor cgroups below its
	// own cgroup: a shell puts itself into ours (in both hierarchies on
	// a hybrid machine), then becomes systemd-nspawn.
	script := `for p in "$@"; do case $p in --) shift; break;; esac; echo $$ > "$p" || exit 1; shift; done; exec "$@"`
	shArgs := append([]string{"-c", script, "sh"}, procs...)
	shArgs = append(shArgs, "--", nspawn)
	shArgs = append(shArgs, args...)
	h.cmd = exec.Command("/bin/sh", shArgs...)
	h.notify = newNotifyReceiver(t)
	h.cmd.Env = append(cleanEnv(), "NOTIFY_SOCKET="+h.notify.Path)
	h.cmd.Stdout, h.cmd.Stderr = &h.output, &h.output
	t.Logf("systemd-nspawn %s", strings.Join(args, " "))
	if err := h.cmd.Start(); err != nil {
		h.removeCgroups(t)
		t.Fatalf("start systemd-nspawn: %v", err)
	}
	go func() {
		_ = h.cmd.Wait()
		close(h.exited)
	}()
	t.Cleanup(func() { h.stop(t) })

	_, l, err := h.notify.Wait("X_NSPAWN_LEADER_PID=", 30*time.Second, h.exited)
	if err != nil {
		t.Fatalf("systemd-nspawn: %v\nnotify:\n%s\nconsole:\n%s", err, h.notify, tail(h.output.String(), 40))
	}
	h.Leader, err = strconv.Atoi(strings.TrimPrefix(l, "X_NSPAWN_LEADER_PID="))
	if err != nil || h.Leader <= 1 {
		t.Fatalf("systemd-nspawn sent a bad leader pid: %q", l)
	}
	if h.pidNS, err = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", h.Leader)); err != nil {
		t.Fatalf("the nspawn host's pid namespace: %v", err)
	}
	if _, _, err := h.notify.Wait("READY=1", bootTimeout, h.exited); err != nil {
		t.Fatalf("the nspawn host did not boot: %v\nconsole:\n%s", err, tail(h.output.String(), 40))
	}
	// A real host has man-db's configuration; the volatile /etc has
	// not, and `systemd-analyze verify` runs `man` for Documentation=.
	if b, err := os.ReadFile("/etc/manpath.config"); err == nil {
		h.WriteFile(t, "/etc/manpath.config", string(b))
	}
	state := h.Run(t, 30*time.Second, "systemctl", "is-system-running", "--wait")
	t.Logf("nspawn host %s (leader pid %d) is up: %s", h.Name, h.Leader, strings.TrimSpace(state.Stdout))
	return h
}

// hostInstall fills stage as `make install PREFIX=/usr/local DESTDIR=stage`
// would.
func hostInstall(t *testing.T, stage string) {
	t.Helper()
	bin := filepath.Join(stage, "usr/local/bin/sockspawn")
	man := filepath.Join(stage, "usr/local/share/man/man1/sockspawn.1")
	for _, d := range []string{filepath.Dir(bin), filepath.Dir(man)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.ReadFile(sockspawnBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	page, err := exec.Command(sockspawnBin, "__man").Output()
	if err != nil {
		t.Fatalf("sockspawn __man: %v", err)
	}
	if err := os.WriteFile(man, page, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sockspawnBin, "__install-units", stage, "/usr/local/bin", "/usr/local/lib/systemd/system").CombinedOutput()
	if err != nil {
		t.Fatalf("sockspawn __install-units: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "container@.service") {
		t.Fatalf("sockspawn __install-units wrote no unit:\n%s", out)
	}
}

// makeCgroups creates the cgroup systemd-nspawn runs in: in the cgroup2
// hierarchy, and on a hybrid machine in the name=systemd hierarchy too,
// which systemd-nspawn keeps in step. It returns their cgroup.procs files.
func (h *nspawnHost) makeCgroups(t *testing.T) []string {
	t.Helper()
	roots := []string{cgroupMount()}
	if roots[0] == "/sys/fs/cgroup/unified" {
		var st unix.Statfs_t
		if unix.Statfs("/sys/fs/cgroup/systemd", &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC {
			roots = append(roots, "/sys/fs/cgroup/systemd")
		}
	}
	var procs []string
	for _, r := range roots {
		cg := filepath.Join(r, "sockspawn-"+h.Name)
		if err := os.Mkdir(cg, 0o755); err != nil {
			h.removeCgroups(t)
			t.Fatalf("cgroup for systemd-nspawn: %v", err)
		}
		h.cgroups = append(h.cgroups, cg)
		procs = append(procs, filepath.Join(cg, "cgroup.procs"))
	}
	return procs
}

// removeCgroups removes the cgroups of systemd-nspawn, depth first; a
// cgroup that still holds processes stays and fails the test.
func (h *nspawnHost) removeCgroups(t *testing.T) {
	t.Helper()
	for _, cg := range h.cgroups {
		var dirs []string
		_ = filepath.WalkDir(cg, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			var err error
			for try := 0; try < 20; try++ { // the kernel empties dying cgroups lazily
				if err = os.Remove(dirs[i]); err == nil || errors.Is(err, fs.ErrNotExist) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				procs, _ := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs"))
				t.Errorf("leftover cgroup %s (processes: %q): %v", dirs[i], strings.Fields(string(procs)), err)
			}
		}
	}
}

// stop powers the nspawn host off (SIGTERM to systemd-nspawn) and checks
// that nothing of it is left: processes, mounts, cgroups.
func (h *nspawnHost) stop(t *testing.T) {
	pid := h.cmd.Process.Pid
	select {
	case <-h.exited:
	default:
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-h.exited:
		case <-time.After(shutdownTimeout):
			t.Errorf("systemd-nspawn (pid %d) did not power off within %v of SIGTERM; killing it", pid, shutdownTimeout)
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-h.exited
		}
	}
	if status := h.cmd.ProcessState.ExitCode(); status != 0 {
		t.Errorf("systemd-nspawn exited with %d, want 0", status)
	}
	if h.pidNS != "" {
		if pids := processesIn(h.pidNS); len(pids) > 0 {
			t.Errorf("processes left in the nspawn host's pid namespace: %s", strings.Join(pids, ", "))
		}
	}
	for _, l := range mountinfo(t) {
		if strings.Contains(l, h.Stage) || strings.Contains(l, h.Name) {
			t.Errorf("leftover mount of the nspawn host: %s", l)
		}
	}
	h.removeCgroups(t)
	// systemd-nspawn's own directory for mount propagation, which it
	// sometimes cannot remove on a machine without systemd; not ours to
	// blame, but nothing may stay behind.
	if err := os.Remove(filepath.Join("/run/systemd/nspawn/propagate", h.Name)); err == nil {
		t.Logf("removed /run/systemd/nspawn/propagate/%s, which systemd-nspawn left", h.Name)
	}
	if t.Failed() {
		t.Logf("nspawn host console:\n%s", tail(hostStripANSI(h.output.String()), 40))
	}
}
