//go:build linux

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The boundary tests (boundary_*_test.go) attack the container's boundary
// from inside with the probe payload (./probe) and check the host
// afterwards. Issue 3 lists what they must show.

// probeInContainer is where containers see the probe's directory.
const (
	probeInContainer = "/opt/probe"
	probePath        = probeInContainer + "/probe"
)

// probeDir holds only the probe binary, once needProbe built it.
var probeDir string

// needProbe builds the probe (once) and returns its host path.
func needProbe(t *testing.T) string {
	t.Helper()
	probeDir = helperBinary(t, "probe", "github.com/sockspawn/sockspawn/cmd/sockspawn/e2e/probe")
	return filepath.Join(probeDir, "probe")
}

// withProbe is the bind that shows the probe at probeInContainer.
func withProbe() string { return "--bind-ro=" + probeDir + ":" + probeInContainer }

// parseProbe decodes the probe's report, the last "PROBE " line of out.
func parseProbe(t *testing.T, out string, v any) {
	t.Helper()
	var last string
	for _, l := range lines(out) {
		if s, ok := strings.CutPrefix(l, "PROBE "); ok {
			last = s
		}
	}
	if last == "" {
		t.Fatalf("no report from the probe in its output:\n%s", tail(out, 30))
	}
	if err := json.Unmarshal([]byte(last), v); err != nil {
		t.Fatalf("probe report %q: %v", last, err)
	}
}

// runProbeOnHost runs the probe on the host, as a baseline.
func runProbeOnHost(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(needProbe(t), args...).Output()
	if err != nil {
		t.Fatalf("probe %s on the host: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// runToEnd starts a machine and waits for it to end; it returns the exit
// status.
func runToEnd(t *testing.T, spec runSpec) (*machine, int) {
	t.Helper()
	m := startMachine(t, spec)
	return m, m.Wait(30 * time.Second)
}

// fileSHA256 hashes the file at p.
func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// startMachineWithFiles is startMachine for a sockspawn that inherits
// files as fds 3, 4, … the way a service manager passes sockets: the
// first listen of them are announced with LISTEN_FDS, LISTEN_PID (set by
// a shell that then executes sockspawn under its own pid) and
// LISTEN_FDNAMES; the others are inherited without being announced.
func startMachineWithFiles(t *testing.T, spec runSpec, files []*os.File, listen int, names string) *machine {
	t.Helper()
	spec.Env = append(spec.Env, "LISTEN_FDS="+strconv.Itoa(listen), "LISTEN_FDNAMES="+names)
	spec.Files, spec.ListenPID = files, true
	t.Logf("LISTEN_FDS=%d (+%d unannounced fds)", listen, len(files)-listen)
	return startMachine(t, spec)
}

// procFDs lists the fds of host pid pid with their targets.
func procFDs(t *testing.T, pid int) map[string]string {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	out := map[string]string{}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			l = "(" + err.Error() + ")"
		}
		out[e.Name()] = l
	}
	return out
}

// devIno returns the device and inode of p, following symlinks.
func devIno(p string) (uint64, uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		return 0, 0, err
	}
	return st.Dev, st.Ino, nil
}

// waitOutput waits until the payload's standard output holds s.
func waitOutput(t *testing.T, m *machine, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(m.Stdout.String(), s) {
		if m.hasExited() || time.Now().After(deadline) {
			t.Fatalf("no %q from the payload (exit status %d); stdout:\n%s\nstderr:\n%s", s, m.exitStatus(), tail(m.Stdout.String(), 20), tail(m.Stderr.String(), 20))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
