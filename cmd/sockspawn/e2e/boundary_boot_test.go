//go:build linux

package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hostDevice is a device node root can open on the host but that is not
// on the container's allow-list.
type hostDevice struct {
	Path string
	Spec string // NAME:TYPE:MAJOR:MINOR for the probe
}

// deniedCandidates are devices root opens on these machines and a
// container must not (issue 3). A disk would prove nothing: even root
// cannot open the virtual disk here.
var deniedCandidates = []string{"/dev/kvm", "/dev/loop-control", "/dev/fuse", "/dev/kmsg", "/dev/hwrng", "/dev/loop0"}

// hostOpenableDevices returns those of deniedCandidates that root can
// open on this host, read-only and without blocking.
func hostOpenableDevices(t *testing.T) []hostDevice {
	t.Helper()
	var out []hostDevice
	for _, p := range deniedCandidates {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Logf("host: %s: %v (not tested)", p, err)
			continue
		}
		typ := "c"
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
		case unix.S_IFBLK:
			typ = "b"
		default:
			t.Logf("host: %s is no device node (not tested)", p)
			continue
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err != nil {
			t.Logf("host: root cannot open %s: %v (not tested)", p, err)
			continue
		}
		unix.Close(fd)
		name := strings.ReplaceAll(strings.TrimPrefix(p, "/dev/"), "/", "-")
		out = append(out, hostDevice{Path: p, Spec: fmt.Sprintf("%s:%s:%d:%d", name, typ, unix.Major(st.Rdev), unix.Minor(st.Rdev))})
	}
	if len(out) == 0 {
		missing(t, "a device root can open on the host among "+strings.Join(deniedCandidates, ", "))
	}
	return out
}

// inService runs args inside m as a transient service of its systemd, so
// in the container's cgroup: a process entered with nsenter stays in the
// host's cgroup, where the container's device policy does not apply.
func inService(m *machine, timeout time.Duration, args ...string) (string, error) {
	return m.Enter(timeout, append([]string{"systemd-run", "--wait", "--pipe", "--quiet", "--collect"}, args...)...)
}

type devicesReport struct {
	Mknod  map[string]string `json:"mknod"`
	Open   map[string]string `json:"open"`
	Cgroup string            `json:"cgroup"`
}

type cgroupProbeReport struct {
	Own      string   `json:"own"`
	Top      []string `json:"top"`
	TopIsV2  bool     `json:"top_is_v2"`
	ParentFS string   `json:"parent_fs"`
	MkdirUp  string   `json:"mkdir_up"`
	FreshV2  string   `json:"fresh_v2"`
	Unshare  string   `json:"unshare"`
	V1       []struct {
		Hierarchy    string `json:"hierarchy"`
		Path         string `json:"path"`
		Mount        string `json:"mount"`
		Mkdir        string `json:"mkdir"`
		ReleaseAgent string `json:"release_agent"`
	} `json:"v1"`
}

type kernelReport struct {
	Masked   map[string]string `json:"masked"`
	OpenRW   map[string]string `json:"open_rw"`
	MkdirSys string            `json:"mkdir_sys"`
	Firmware []string          `json:"firmware"`
}

// Capability numbers (linux/capability.h).
const (
	capNrIpcLock      = 14
	capNrSysAdmin     = 21
	capNrMknod        = 27
	capNrAuditWrite   = 29
	capNrAuditControl = 30
	capNrAuditRead    = 37
	capNrPerfmon      = 38
	capNrBPF          = 39
)

// TestBoundaryBoot boots systemd and shows from inside what issue 3
// demands: devices root opens on the host can be neither created nor
// opened, /dev/null can; a PrivateDevices= service with a dynamic user
// runs; the bounding set lacks the audit capabilities and keeps
// CAP_MKNOD and CAP_SYS_ADMIN; the host-wide /proc files are masked and
// the kernel's switches read-only; the container's cgroup is its own and
// the only one it can reach.
func TestBoundaryBoot(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	needProbe(t)
	devs := hostOpenableDevices(t)
	m, _ := bootMachine(t, "--console=passive", withProbe())
	leader := m.Leader()

	t.Run("devices", func(t *testing.T) {
		// Nodes made from outside the container's cgroup, for the open
		// test: /dev is the container's own tmpfs, without nodev.
		const premade = "/dev/e2e-boundary"
		specs := []string{"null:c:1:3"}
		for _, d := range devs {
			specs = append(specs, d.Spec)
		}
		out, err := m.Enter(20*time.Second, append([]string{probePath, "mknod", premade}, specs...)...)
		if err != nil {
			t.Fatalf("create the nodes from outside the container's cgroup: %v", err)
		}
		var made struct{ Mknod map[string]string }
		parseProbe(t, out, &made)
		for n, res := range made.Mknod {
			if res != "ok" {
				t.Fatalf("mknod %s/%s outside the container's cgroup: %s", premade, n, res)
			}
		}
		out, err = inService(m, 30*time.Second, append([]string{probePath, "devices", "/tmp", premade}, specs...)...)
		if err != nil {
			t.Fatalf("probe devices in a service: %v", err)
		}
		var r devicesReport
		parseProbe(t, out, &r)
		if own := cgroupV2Line(r.Cgroup); own == "" || strings.HasPrefix(own, "/..") {
			t.Fatalf("the service probing the devices is not in the container's cgroup: %q", r.Cgroup)
		}
		if r.Mknod["null"] != "ok" || r.Open["null"] != "ok" {
			t.Errorf("/dev/null (1:3) inside: mknod %s, open and write %s; want both ok", r.Mknod["null"], r.Open["null"])
		}
		for _, d := range devs {
			name := strings.SplitN(d.Spec, ":", 2)[0]
			if got := r.Mknod[name]; got != "EPERM" {
				t.Errorf("mknod of %s (%s, which root opens on the host) inside: %s, want EPERM", name, d.Spec, got)
			}
			if got := r.Open[name]; got != "EPERM" {
				t.Errorf("open of an existing node of %s (%s, which root opens on the host) inside: %s, want EPERM", name, d.Spec, got)
			}
		}
		t.Logf("inside, in %s: mknod %v, open %v", cgroupV2Line(r.Cgroup), r.Mknod, r.Open)
	})

	t.Run("private-devices-service", func(t *testing.T) {
		out, err := m.Enter(60*time.Second, "systemd-run", "--wait", "--quiet", "--collect",
			"-p", "PrivateDevices=yes", "-p", "PrivateTmp=yes", "-p", "ProtectSystem=strict", "-p", "DynamicUser=yes", "true")
		if err != nil {
			t.Errorf("a service with PrivateDevices=, PrivateTmp=, ProtectSystem=strict and DynamicUser= fails inside: %v\n%s", err, out)
		}
	})

	t.Run("capabilities", func(t *testing.T) {
		bnd := capBnd(t, leader)
		for c, name := range map[int]string{capNrAuditControl: "CAP_AUDIT_CONTROL", capNrAuditRead: "CAP_AUDIT_READ", capNrAuditWrite: "CAP_AUDIT_WRITE", capNrIpcLock: "CAP_IPC_LOCK",
			capNrPerfmon: "CAP_PERFMON", capNrBPF: "CAP_BPF"} {
			if bnd&(1<<c) != 0 {
				t.Errorf("PID 1's bounding set %016x has %s (%d)", bnd, name, c)
			}
		}
		for c, name := range map[int]string{capNrMknod: "CAP_MKNOD", capNrSysAdmin: "CAP_SYS_ADMIN"} {
			if bnd&(1<<c) == 0 {
				t.Errorf("PID 1's bounding set %016x lacks %s (%d)", bnd, name, c)
			}
		}
	})

	t.Run("kernel-interfaces", func(t *testing.T) {
		out, err := m.Enter(20*time.Second, probePath, "kernel")
		if err != nil {
			t.Fatal(err)
		}
		var r kernelReport
		parseProbe(t, out, &r)
		for p, got := range r.Masked {
			if _, err := os.Stat(p); err != nil {
				continue // not on this host
			}
			if got != "dev 1:3" {
				t.Errorf("inside, %s is %s; want it masked by /dev/null (dev 1:3)", p, got)
			}
		}
		for p, got := range r.OpenRW {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if got != "EROFS" && got != "EACCES" && got != "EPERM" {
				t.Errorf("inside, %s opens for writing: %s; want EROFS", p, got)
			}
		}
		if r.MkdirSys != "EROFS" {
			t.Errorf("inside, mkdir in /sys/fs: %s, want EROFS (/sys read-only)", r.MkdirSys)
		}
		if host, _ := os.ReadDir("/sys/firmware"); len(host) > 0 && len(r.Firmware) > 0 {
			t.Errorf("inside, /sys/firmware shows %v; want it hidden", r.Firmware)
		}
	})

	t.Run("cgroup", func(t *testing.T) {
		cgs := findCgroups(m.Name)
		if len(cgs) != 1 {
			t.Fatalf("want one cgroup sockspawn-%s on the host, found %v", m.Name, cgs)
		}
		cgDir := cgs[0]
		rel := strings.TrimPrefix(cgDir, cgroupMount())

		// Inside: /proc/1/cgroup names a directory of /sys/fs/cgroup.
		out, err := m.Enter(10*time.Second, "cat", "/proc/1/cgroup")
		if err != nil {
			t.Fatal(err)
		}
		inside := cgroupV2Line(out)
		if inside == "" || strings.HasPrefix(inside, "/..") {
			t.Fatalf("/proc/1/cgroup inside has 0::%q; want a path inside the container's cgroup namespace", inside)
		}
		if _, err := m.Enter(10*time.Second, "test", "-d", "/sys/fs/cgroup"+inside); err != nil {
			t.Errorf("/proc/1/cgroup says 0::%s, but /sys/fs/cgroup%s is no directory inside: %v", inside, inside, err)
		}
		hostView := cgroupV2Line(readProcFile(t, fmt.Sprintf("/proc/%d/cgroup", leader)))
		if want := strings.TrimSuffix(rel+inside, "/"); hostView != want {
			t.Errorf("from the host PID 1 is in %q, want %q (the container's cgroup %s + %s)", hostView, want, rel, inside)
		}
		// systemd made its own tree in the container's cgroup.
		for _, d := range []string{"init.scope", "system.slice"} {
			if st, err := os.Stat(filepath.Join(cgDir, d)); err != nil || !st.IsDir() {
				t.Errorf("systemd inside did not create %s in the container's cgroup %s: %v", d, cgDir, err)
			}
		}
		// The container's /sys/fs/cgroup is exactly its cgroup.
		cd, ci, err1 := devIno(cgDir)
		md, mi, err2 := devIno(fmt.Sprintf("/proc/%d/root/sys/fs/cgroup", leader))
		if err1 != nil || err2 != nil || cd != md || ci != mi {
			t.Errorf("the container's /sys/fs/cgroup (%d:%d, %v) is not its cgroup %s (%d:%d, %v)", md, mi, err2, cgDir, cd, ci, err1)
		}
		// Every process of the container is in its cgroup (nothing is
		// entered with nsenter at this point).
		for _, p := range processesIn(m.leaderNS) {
			pid := strings.Fields(p)[0]
			b, err := os.ReadFile("/proc/" + pid + "/cgroup")
			if err != nil {
				continue // gone
			}
			if cg := cgroupV2Line(string(b)); cg != rel && !strings.HasPrefix(cg, rel+"/") {
				t.Errorf("process %s of the container is in the cgroup %s, outside the container's %s", p, cg, rel)
			}
		}
	})

	t.Run("cgroup-escape", func(t *testing.T) {
		cgs := findCgroups(m.Name)
		if len(cgs) != 1 {
			t.Fatalf("want one cgroup sockspawn-%s on the host, found %v", m.Name, cgs)
		}
		cgDir := cgs[0]
		nonce := "e2e-escape-" + randomNonce(t)
		t.Cleanup(func() { removeEscapes(t, nonce) })
		out, err := inService(m, 30*time.Second, probePath, "cgroup", nonce)
		if err != nil {
			t.Fatalf("probe cgroup in a service: %v", err)
		}
		var r cgroupProbeReport
		parseProbe(t, out, &r)
		if r.Own == "" || strings.HasPrefix(r.Own, "/..") {
			t.Errorf("a service inside is in 0::%q, outside the container's cgroup namespace", r.Own)
		}
		if !r.TopIsV2 {
			t.Errorf("/sys/fs/cgroup inside is not cgroup2")
		}
		if r.ParentFS == fmt.Sprintf("%#x", unix.CGROUP2_SUPER_MAGIC) {
			t.Errorf("/sys/fs/cgroup/.. inside is cgroup2 too: the namespace root is not the top")
		}
		if r.MkdirUp == "ok" {
			t.Errorf("mkdir /sys/fs/cgroup/../%s succeeded inside", nonce)
		}
		if r.Unshare != "ok" {
			t.Fatalf("the probe could not make its private mount namespace: %s", r.Unshare)
		}
		if r.FreshV2 != "same root" {
			t.Errorf("cgroup2 mounted afresh inside shows %s, want the container's own cgroup (the same root as /sys/fs/cgroup)", r.FreshV2)
		}
		for _, name := range r.Top {
			if st, err := os.Stat(filepath.Join(cgDir, name)); err != nil || !st.IsDir() {
				t.Errorf("inside, /sys/fs/cgroup/%s is visible, which is not in the container's cgroup %s", name, cgDir)
			}
		}
		// Hybrid hosts: each v1 hierarchy can be mounted afresh inside,
		// rooted at the container's cgroup namespace root there, which is
		// where sockspawn was when it started the container.
		var made []string
		for _, h := range r.V1 {
			if h.ReleaseAgent == "ok" {
				t.Errorf("inside, the release_agent of the host's cgroup v1 hierarchy %s (the container is in %q there) could be written: the kernel runs it as root on the host", h.Hierarchy, h.Path)
			}
			if h.Mkdir == "ok" {
				made = append(made, h.Hierarchy)
			}
		}
		for _, p := range findEscapes(nonce) {
			if !strings.Contains(p, "/sockspawn-"+m.Name+"/") {
				t.Errorf("inside, a service mounted a cgroup v1 hierarchy afresh and created the cgroup %s on the host, outside any cgroup of the container", p)
			}
		}
		if len(made) > 0 {
			t.Logf("the probe created a cgroup in the v1 hierarchies %v", made)
		}
	})
}

// cgroupV2Line returns the path of the 0:: line of a /proc/PID/cgroup.
func cgroupV2Line(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p
		}
	}
	return ""
}

// capBnd reads the bounding set of pid.
func capBnd(t *testing.T, pid int) uint64 {
	t.Helper()
	for _, l := range strings.Split(readProcFile(t, fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			b, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no CapBnd in /proc/%d/status", pid)
	return 0
}

func readProcFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func randomNonce(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// v1Mounts are the host's cgroup v1 hierarchies.
func v1Mounts() []string {
	var out []string
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		for i, x := range f {
			if x == "-" && i+1 < len(f) && f[i+1] == "cgroup" {
				out = append(out, f[4])
			}
		}
	}
	return out
}

// findEscapes finds the cgroups named nonce in the host's v1 hierarchies.
func findEscapes(nonce string) []string {
	var found []string
	for _, root := range v1Mounts() {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if d.Name() == nonce {
				found = append(found, p)
				return fs.SkipDir
			}
			if strings.Count(strings.TrimPrefix(p, root), "/") > 4 {
				return fs.SkipDir
			}
			return nil
		})
	}
	return found
}

// removeEscapes removes the cgroups a probe created as nonce.
func removeEscapes(t *testing.T, nonce string) {
	for _, p := range findEscapes(nonce) {
		if err := os.Remove(p); err != nil {
			t.Errorf("remove the probe's cgroup %s: %v", p, err)
		}
	}
}
