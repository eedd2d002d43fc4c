package devices

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// These tests attach the device program to a cgroup of their own, start a
// helper process (this test binary, GO_WANT_HELPER_PROCESS=1) in it and look
// at what the kernel lets it do. They need root; without it they skip,
// unless SOCKSPAWN_E2E=1 asks that they run, and then they fail.

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("SOCKSPAWN_E2E") == "1" {
		t.Fatal("SOCKSPAWN_E2E=1 but not root")
	}
	t.Skip("needs root (set SOCKSPAWN_E2E=1 to fail instead)")
}

// probe is one thing the helper tries: open Path with Flags, or make a node
// of Type ('c' or 'b') Major:Minor at Path.
type probe struct {
	Op           string // "open" or "mknod"
	Path         string
	Flags        int
	Type         byte
	Major, Minor uint32
}

func (p probe) String() string {
	if p.Op == "mknod" {
		return fmt.Sprintf("mknod %c %d:%d", p.Type, p.Major, p.Minor)
	}
	return fmt.Sprintf("open %s %s", p.Path, openMode(p.Flags))
}

func openMode(flags int) string {
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		return "r"
	case unix.O_WRONLY:
		return "w"
	}
	return "rw"
}

func openProbe(path string, flags int) probe {
	return probe{Op: "open", Path: path, Flags: flags}
}

// helperReport is what the helper prints: its /proc/self/cgroup and, for
// each probe, "ok" or the name of the errno.
type helperReport struct {
	Cgroup  string
	Results []string
}

// TestDeviceHelper is not a test: it is the process the tests start in the
// cgroup. It runs the probes in $SOCKSPAWN_DEVICES_PROBES and prints a
// helperReport on stdout.
func TestDeviceHelper(t *testing.T) {
	if os.Getenv("GO_WANT_HELPER_PROCESS") != "1" {
		t.Skip("helper process")
	}
	report, err := runProbes()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(report); err != nil {
		os.Exit(2)
	}
	os.Exit(0)
}

func runProbes() (helperReport, error) {
	var report helperReport
	if dir := os.Getenv("SOCKSPAWN_DEVICES_V1_CGROUP"); dir != "" {
		// clone3 cannot start a process in a cgroup v1 cgroup: move in.
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte("0"), 0); err != nil {
			return report, err
		}
	}
	var probes []probe
	if err := json.Unmarshal([]byte(os.Getenv("SOCKSPAWN_DEVICES_PROBES")), &probes); err != nil {
		return report, err
	}
	cgroup, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return report, err
	}
	report.Cgroup = string(cgroup)
	for _, p := range probes {
		var err error
		switch p.Op {
		case "open":
			var fd int
			fd, err = unix.Open(p.Path, p.Flags|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
			}
		case "mknod":
			mode := uint32(unix.S_IFCHR)
			if p.Type == 'b' {
				mode = unix.S_IFBLK
			}
			err = unix.Mknod(p.Path, mode|0o600, int(unix.Mkdev(p.Major, p.Minor)))
		default:
			return report, fmt.Errorf("unknown probe %q", p.Op)
		}
		report.Results = append(report.Results, errnoName(err))
	}
	return report, nil
}

func errnoName(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno) && unix.ErrnoName(errno) != "":
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// runHelper runs the probes in a helper started in the cgroup2 directory
// cgroupDir, and returns the result of each.
func runHelper(t *testing.T, cgroupDir string, probes []probe) []string {
	t.Helper()
	dir, err := os.Open(cgroupDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	cmd := helperCommand(t, probes)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	report := runHelperCommand(t, cmd, len(probes))
	if want := "0::" + cgroupPath(t, cgroupDir) + "\n"; !strings.Contains(report.Cgroup, want) {
		t.Fatalf("helper runs in\n%s\nwant the line %q", report.Cgroup, want)
	}
	return report.Results
}

func helperCommand(t *testing.T, probes []probe) *exec.Cmd {
	encoded, err := json.Marshal(probes)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeviceHelper$")
	cmd.Env = append(os.Environ(), "GO_WANT_HELPER_PROCESS=1", "SOCKSPAWN_DEVICES_PROBES="+string(encoded))
	return cmd
}

func runHelperCommand(t *testing.T, cmd *exec.Cmd, n int) helperReport {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if exit, ok := err.(*exec.ExitError); ok {
			stderr = exit.Stderr
		}
		t.Fatalf("helper: %v\n%s%s", err, out, stderr)
	}
	var report helperReport
	if err := json.Unmarshal(out, &report); err != nil || len(report.Results) != n {
		t.Fatalf("helper said %q (%v), want %d results", out, err, n)
	}
	return report
}

// unifiedRoot returns where the cgroup2 hierarchy is mounted: /sys/fs/cgroup
// on a pure cgroup2 host, /sys/fs/cgroup/unified on a hybrid one.
func unifiedRoot(t *testing.T) string {
	t.Helper()
	for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var fs unix.Statfs_t
		if unix.Statfs(dir, &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
			return dir
		}
	}
	if os.Getenv("SOCKSPAWN_E2E") == "1" {
		t.Fatal("no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified")
	}
	t.Skip("no cgroup2 hierarchy")
	return ""
}

// cgroupPath returns the path of the cgroup directory dir inside its
// hierarchy, as /proc/PID/cgroup shows it.
func cgroupPath(t *testing.T, dir string) string {
	rel, err := filepath.Rel(unifiedRoot(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean("/" + rel)
}

// ownCgroup returns the line of /proc/self/cgroup for the hierarchy
// selected by match ("" for cgroup2, "devices" for the v1 controller).
func ownCgroup(t *testing.T, match string) string {
	t.Helper()
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.SplitN(s.Text(), ":", 3)
		if len(fields) != 3 {
			continue
		}
		for _, c := range strings.Split(fields[1], ",") {
			if c == match {
				return fields[2]
			}
		}
	}
	t.Fatalf("no %q line in /proc/self/cgroup", match)
	return ""
}

// testCgroup makes a cgroup below the test's own in the hierarchy mounted
// at root, and removes it when the test ends.
func testCgroup(t *testing.T, root, own string) string {
	t.Helper()
	dir, err := os.MkdirTemp(filepath.Join(root, own), "sockspawn-devices-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeCgroup(t, dir) })
	return dir
}

// removeCgroup removes a cgroup and the cgroups below it.
func removeCgroup(t *testing.T, dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			removeCgroup(t, filepath.Join(dir, e.Name()))
		}
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		t.Errorf("remove test cgroup %s: %v", dir, err)
	}
}

// newCgroup2 makes a cgroup2 cgroup for a test.
func newCgroup2(t *testing.T) string {
	return testCgroup(t, unifiedRoot(t), ownCgroup(t, ""))
}

// attach attaches rules to cgroupDir and detaches them when the test ends.
func attach(t *testing.T, cgroupDir string, rules []Rule) {
	t.Helper()
	closer, err := Attach(cgroupDir, rules)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := closer.Close(); err != nil {
			t.Error(err)
		}
	})
}

// refusedHostDevices returns the nodes, among a few that are not on the
// allow-list, that root can open on this host: refusing those inside shows
// the program at work, while refusing what the host refuses anyway shows
// nothing (on these virtual machines even root cannot open the disk).
func refusedHostDevices(t *testing.T) []string {
	var open []string
	for _, path := range []string{"/dev/kvm", "/dev/loop-control", "/dev/fuse", "/dev/kmsg", "/dev/hwrng", "/dev/loop0"} {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Logf("host: open %s: %v", path, err)
			continue
		}
		unix.Close(fd)
		open = append(open, path)
	}
	return open
}

// nodeRule returns the type and numbers of a device node.
func nodeOf(t *testing.T, path string) (byte, uint32, uint32) {
	r, err := RuleForNode(path)
	if err != nil {
		t.Fatal(err)
	}
	return r.Type, uint32(r.Major), uint32(r.Minor)
}

// expectation is a probe and what must come of it.
type expectation struct {
	probe probe
	want  string // "ok", "EPERM", or "!EPERM" for any result but EPERM
}

func check(t *testing.T, exps []expectation, got []string) {
	t.Helper()
	for i, e := range exps {
		var ok bool
		switch e.want {
		case "!EPERM":
			ok = got[i] != "EPERM"
		default:
			ok = got[i] == e.want
		}
		if !ok {
			t.Errorf("%v: %s, want %s", e.probe, got[i], e.want)
		}
	}
}

func probesOf(exps []expectation) []probe {
	var probes []probe
	for _, e := range exps {
		probes = append(probes, e.probe)
	}
	return probes
}

// defaultExpectations is what the default policy must allow and refuse, with
// mknod in dir.
func defaultExpectations(t *testing.T, dir string) []expectation {
	exps := []expectation{
		{openProbe("/dev/null", unix.O_RDWR), "ok"},
		{openProbe("/dev/zero", unix.O_RDONLY), "ok"},
		{probe{Op: "mknod", Path: filepath.Join(dir, "null"), Type: 'c', Major: 1, Minor: 3}, "ok"},
		{openProbe(filepath.Join(dir, "null"), unix.O_RDWR), "ok"},
		{probe{Op: "mknod", Path: filepath.Join(dir, "kvm"), Type: 'c', Major: 10, Minor: 232}, "EPERM"},
		{probe{Op: "mknod", Path: filepath.Join(dir, "loop7"), Type: 'b', Major: 7, Minor: 7}, "EPERM"},
	}
	refused := refusedHostDevices(t)
	if len(refused) == 0 {
		t.Log("no device off the allow-list opens on this host: open is checked on mknod'ed nodes only")
	} else {
		t.Logf("host devices root opens, to be refused inside: %v", refused)
	}
	for i, path := range refused {
		typ, major, minor := nodeOf(t, path)
		exps = append(exps,
			expectation{openProbe(path, unix.O_RDONLY), "EPERM"},
			expectation{probe{Op: "mknod", Path: filepath.Join(dir, fmt.Sprint("host", i)), Type: typ, Major: major, Minor: minor}, "EPERM"},
		)
	}
	return exps
}

func TestAttachDefault(t *testing.T) {
	needRoot(t)
	cgroup := newCgroup2(t)
	attach(t, cgroup, DefaultAllow())
	exps := defaultExpectations(t, t.TempDir())
	check(t, exps, runHelper(t, cgroup, probesOf(exps)))
}

// TestAttachMatchesAllowed makes nodes outside the cgroup for numbers of the
// experimental range (240-254, which no driver claims, so an allowed open
// fails with ENXIO, not EPERM), then has the helper open them in every mode
// and make them again: each must be refused with EPERM exactly when Allowed
// says no.
func TestAttachMatchesAllowed(t *testing.T) {
	needRoot(t)
	rules := []Rule{
		{'c', 240, 0, "r"},
		{'c', 240, 1, "w"},
		{'c', 240, 2, "m"},
		{'b', 240, Wildcard, "rw"},
		{'a', 241, 1, "rwm"},
		{'c', 242, Wildcard, "rm"},
		{'b', Wildcard, 2, "wm"},
	}
	cgroup := newCgroup2(t)
	attach(t, cgroup, rules)

	nodes, made := t.TempDir(), t.TempDir()
	var exps []expectation
	for _, typ := range []byte{'c', 'b'} {
		for major := uint32(240); major <= 243; major++ {
			for minor := uint32(0); minor <= 2; minor++ {
				name := fmt.Sprintf("%c%d-%d", typ, major, minor)
				mode := uint32(unix.S_IFCHR)
				if typ == 'b' {
					mode = unix.S_IFBLK
				}
				node := filepath.Join(nodes, name)
				if err := unix.Mknod(node, mode|0o600, int(unix.Mkdev(major, minor))); err != nil {
					t.Fatalf("mknod %s: %v", node, err)
				}
				verdict := func(access string) string {
					if Allowed(rules, typ, int64(major), int64(minor), access) {
						return "!EPERM"
					}
					return "EPERM"
				}
				exps = append(exps,
					expectation{openProbe(node, unix.O_RDONLY), verdict("r")},
					expectation{openProbe(node, unix.O_WRONLY), verdict("w")},
					expectation{openProbe(node, unix.O_RDWR), verdict("rw")},
					expectation{probe{Op: "mknod", Path: filepath.Join(made, name), Type: typ, Major: major, Minor: minor}, verdict("m")},
				)
			}
		}
	}
	got := runHelper(t, cgroup, probesOf(exps))
	check(t, exps, got)
	// Allowed must have said yes and no often enough for this to mean
	// something.
	var refused int
	for _, e := range exps {
		if e.want == "EPERM" {
			refused++
		}
	}
	if refused < 10 || len(exps)-refused < 10 {
		t.Fatalf("%d of %d probes refused: the table tests too little", refused, len(exps))
	}
}

// TestAttachChildPrograms attaches a second program to a child cgroup, as
// systemd in the container does for DevicePolicy= and PrivateDevices=, in
// each attach mode. The attachment must succeed, ours must still refuse what
// it refuses (a child's program that allows everything changes nothing), and
// theirs must refuse what it refuses (both must allow).
func TestAttachChildPrograms(t *testing.T) {
	needRoot(t)
	for _, mode := range []struct {
		name  string
		flags uint32
	}{
		{"multi", unix.BPF_F_ALLOW_MULTI},
		{"override", unix.BPF_F_ALLOW_OVERRIDE},
		{"exclusive", 0},
	} {
		for _, child := range []struct {
			name  string
			rules []Rule
		}{
			{"allow-all", []Rule{{'a', Wildcard, Wildcard, "rwm"}}},
			{"no-null", DefaultAllow()[1:]},
		} {
			t.Run(mode.name+"/"+child.name, func(t *testing.T) {
				cgroup := newCgroup2(t)
				attach(t, cgroup, DefaultAllow())
				sub := filepath.Join(cgroup, "child")
				if err := os.Mkdir(sub, 0o755); err != nil {
					t.Fatal(err)
				}
				attachRaw(t, sub, child.rules, mode.flags)

				dir := t.TempDir()
				nullWant := "ok"
				if child.name == "no-null" {
					nullWant = "EPERM"
				}
				exps := []expectation{
					{openProbe("/dev/null", unix.O_RDWR), nullWant},
					{openProbe("/dev/zero", unix.O_RDWR), "ok"},
					{probe{Op: "mknod", Path: filepath.Join(dir, "kvm"), Type: 'c', Major: 10, Minor: 232}, "EPERM"},
					{probe{Op: "mknod", Path: filepath.Join(dir, "loop0"), Type: 'b', Major: 7, Minor: 0}, "EPERM"},
				}
				check(t, exps, runHelper(t, sub, probesOf(exps)))
			})
		}
	}
}

// attachRaw attaches a program for rules to cgroupDir with BPF_PROG_ATTACH
// and flags, as another manager would, and detaches it when the test ends.
func attachRaw(t *testing.T, cgroupDir string, rules []Rule, flags uint32) {
	t.Helper()
	spec, err := Program(rules)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := ebpf.NewProgram(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	dir, err := os.Open(cgroupDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	opts := link.RawAttachProgramOptions{Target: int(dir.Fd()), Program: prog, Attach: ebpf.AttachCGroupDevice, Flags: flags}
	if err := link.RawAttachProgram(opts); err != nil {
		t.Fatalf("attach a second program to %s with flags %#x: %v", cgroupDir, flags, err)
	}
	t.Cleanup(func() {
		if err := link.RawDetachProgram(link.RawDetachProgramOptions(opts)); err != nil {
			t.Errorf("detach the second program from %s: %v", cgroupDir, err)
		}
	})
}

// TestAttachClose checks that closing detaches the program.
func TestAttachClose(t *testing.T) {
	needRoot(t)
	cgroup := newCgroup2(t)
	closer, err := Attach(cgroup, DefaultAllow())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kvm := func(name string) []probe {
		return []probe{{Op: "mknod", Path: filepath.Join(dir, name), Type: 'c', Major: 10, Minor: 232}}
	}
	if got := runHelper(t, cgroup, kvm("attached")); got[0] != "EPERM" {
		t.Fatalf("attached: mknod c 10:232: %s, want EPERM", got[0])
	}
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	if err := closer.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := runHelper(t, cgroup, kvm("detached")); got[0] != "ok" {
		t.Fatalf("detached: mknod c 10:232: %s, want ok", got[0])
	}
}

// TestAttachCloseAfterRemove checks that Close after the cgroup is gone (the
// kernel detached the program with it) succeeds.
func TestAttachCloseAfterRemove(t *testing.T) {
	needRoot(t)
	cgroup := newCgroup2(t)
	closer, err := Attach(cgroup, DefaultAllow())
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Rmdir(cgroup); err != nil {
		t.Fatal(err)
	}
	if err := closer.Close(); err != nil {
		t.Errorf("Close after removing the cgroup: %v", err)
	}
}

func TestAttachErrors(t *testing.T) {
	needRoot(t)
	notCgroup := t.TempDir()
	if _, err := Attach(notCgroup, DefaultAllow()); err == nil || !strings.Contains(err.Error(), notCgroup) {
		t.Errorf("Attach(%s) = %v, want an error naming it", notCgroup, err)
	}
	missing := filepath.Join(notCgroup, "missing")
	if _, err := Attach(missing, DefaultAllow()); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Attach(%s) = %v, want ErrNotExist naming it", missing, err)
	}
	cgroup := newCgroup2(t)
	if _, err := Attach(cgroup, []Rule{{'c', 1, 3, "x"}}); err == nil || !strings.Contains(err.Error(), cgroup) {
		t.Errorf("Attach with a bad rule = %v, want an error naming %s", err, cgroup)
	}
}

// TestAttachV1 runs the default policy through the cgroup v1 devices
// controller, where the host has it mounted.
func TestAttachV1(t *testing.T) {
	needRoot(t)
	root := "/sys/fs/cgroup/devices"
	var fs unix.Statfs_t
	if err := unix.Statfs(root, &fs); err != nil || fs.Type != unix.CGROUP_SUPER_MAGIC {
		t.Skip("no cgroup v1 devices controller at", root)
	}
	own := ownCgroup(t, "devices")
	cgroup := testCgroup(t, root, own)
	if err := AttachV1(cgroup, DefaultAllow()); err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join(cgroup, "devices.list"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(list), "\n"); got != len(DefaultAllow()) || strings.Contains(string(list), "a *:*") {
		t.Errorf("devices.list =\n%s\nwant the %d default rules", list, len(DefaultAllow()))
	}

	exps := defaultExpectations(t, t.TempDir())
	cmd := helperCommand(t, probesOf(exps))
	cmd.Env = append(cmd.Env, "SOCKSPAWN_DEVICES_V1_CGROUP="+cgroup)
	report := runHelperCommand(t, cmd, len(exps))
	want := ":devices:" + filepath.Join(own, filepath.Base(cgroup)) + "\n"
	if !strings.Contains(report.Cgroup, want) {
		t.Fatalf("helper runs in\n%s\nwant a line ending %q", report.Cgroup, want)
	}
	check(t, exps, report.Results)
}
