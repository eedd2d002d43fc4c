//go:build linux

package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// conformanceExpect is what the conformance payload is told to expect;
// the payload (./conformance) has its own copy of this type.
type conformanceExpect struct {
	Machine         string            `json:"machine"`
	UUID            string            `json:"uuid,omitempty"`
	OSReleaseSHA256 string            `json:"os_release_sha256"`
	Credentials     map[string]string `json:"credentials,omitempty"`
	Console         string            `json:"console"`
	PID             int               `json:"pid"`
	HostNS          map[string]string `json:"host_ns"`
	Notify          bool              `json:"notify"`
	Entered         bool              `json:"entered"`
}

// Markers the payload puts in datagrams the supervisor must drop; see
// conformance/notify.go.
var droppedMarkers = []string{"e2e-malformed-marker", "e2e-oversized-marker", "e2e-with-fd-marker", "e2e-from-child-marker"}

// newExpect fills in what every run expects of machine name.
func newExpect(t *testing.T, name string) conformanceExpect {
	t.Helper()
	return conformanceExpect{Machine: name, OSReleaseSHA256: hostOSReleaseSHA256(t), HostNS: hostNamespaces(t), PID: 1}
}

// arg encodes e as the payload's argument.
func (e conformanceExpect) arg() string {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return "-expect=" + base64.StdEncoding.EncodeToString(b)
}

// hostOSReleaseSHA256 hashes the host's os-release, found as the
// os-release specification says.
func hostOSReleaseSHA256(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := os.ReadFile(p); err == nil {
			sum := sha256.Sum256(b)
			return hex.EncodeToString(sum[:])
		}
	}
	missing(t, "/etc/os-release")
	return ""
}

func hostNamespaces(t *testing.T) map[string]string {
	t.Helper()
	ns := map[string]string{}
	for _, k := range []string{"mnt", "pid", "uts", "ipc", "cgroup", "net"} {
		l, err := os.Readlink("/proc/self/ns/" + k)
		if err != nil {
			t.Fatal(err)
		}
		ns[k] = l
	}
	return ns
}

// conformanceResult is what the payload printed.
type conformanceResult struct {
	Checks   int // "ok" and "FAIL" lines
	Failures []string
	Done     bool   // the final "done" line came
	UUID     string // from "info uuid="
}

// reportConformance turns the payload's output into test errors: one per
// FAIL line.
func reportConformance(t *testing.T, where, out string) conformanceResult {
	t.Helper()
	var r conformanceResult
	for _, l := range lines(out) {
		switch {
		case strings.HasPrefix(l, "ok "):
			r.Checks++
		case strings.HasPrefix(l, "FAIL "):
			r.Checks++
			r.Failures = append(r.Failures, l)
			t.Errorf("%s: %s", where, l)
		case strings.HasPrefix(l, "done "):
			r.Done = true
		case strings.HasPrefix(l, "info uuid="):
			r.UUID = strings.TrimPrefix(l, "info uuid=")
		}
	}
	if !r.Done {
		t.Errorf("%s: the conformance payload did not finish (no \"done\" line); output:\n%s", where, tail(out, 40))
	}
	if r.Done && r.Checks < 30 {
		t.Errorf("%s: only %d checks ran", where, r.Checks)
	}
	t.Logf("%s: %d checks, %d failed", where, r.Checks, len(r.Failures))
	return r
}

func randomUUID(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// volatileHost are the arguments that run the host's own OS statelessly
// with the conformance payload available.
func volatileHost() []string {
	return []string{"-D", "/", "--volatile=yes", "--bind-ro=" + confDir + ":" + confInContainer}
}

const conformancePath = confInContainer + "/conformance"

// TestConformance runs the conformance payload as the container's init
// (no systemd): once with --console=pipe, credentials and the notify
// relay, once with a pty console under the same machine name (the UUID
// must be the same), and once with --as-pid2 and --uuid.
func TestConformance(t *testing.T) {
	needRoot(t)
	t.Parallel()
	name := newMachineName(t)
	var firstUUID string

	t.Run("init", func(t *testing.T) {
		e := newExpect(t, name)
		e.Console, e.Notify = "pipe", true
		// sockspawn's own service credentials are passed on too.
		serviceCreds := t.TempDir()
		if err := os.WriteFile(filepath.Join(serviceCreds, "e2e.inherited"), []byte("from the service"), 0o400); err != nil {
			t.Fatal(err)
		}
		e.Credentials = map[string]string{"e2e.secret": "line one\nline two\x00end", "e2e.plain": "plain", "e2e.inherited": "from the service"}
		args := append(volatileHost(), "--console=pipe", "--notify-ready=yes",
			`--set-credential=e2e.secret:line one\nline two\x00end`, "--set-credential=e2e.plain:plain",
			"--", conformancePath, e.arg())
		m := startMachine(t, runSpec{Name: name, Args: args, Notify: true, Env: []string{"CREDENTIALS_DIRECTORY=" + serviceCreds}})
		firstUUID = runNotifyingPayload(t, m, func() {
			checkAlreadyRunning(t, m)
			checkTunnel(t, m)
		})
	})

	t.Run("pty-console", func(t *testing.T) {
		e := newExpect(t, name)
		e.Console = "pty"
		m := startMachine(t, runSpec{Name: name, Args: append(volatileHost(), "--console=read-only", "--", conformancePath, e.arg())})
		status := m.Wait(30 * time.Second)
		res := reportConformance(t, "pty console", m.Stdout.String())
		if status != 0 && len(res.Failures) == 0 {
			t.Errorf("sockspawn exited with %d, want the payload's 0; stderr:\n%s", status, m.Stderr.String())
		}
		if firstUUID != "" && res.UUID != firstUUID {
			t.Errorf("container_uuid of machine %s changed between runs: %q, then %q; want the same UUID on every run", name, firstUUID, res.UUID)
		}
	})

	t.Run("as-pid2", func(t *testing.T) {
		e := newExpect(t, name)
		e.Console, e.Notify, e.PID, e.UUID = "pipe", true, 2, randomUUID(t)
		args := append(volatileHost(), "--console=pipe", "--as-pid2", "--notify-ready=yes", "--uuid="+e.UUID, "--", conformancePath, e.arg())
		m := startMachine(t, runSpec{Name: name, Args: args, Notify: true})
		runNotifyingPayload(t, m, nil)
	})
}

// runNotifyingPayload follows a payload started with "notify": it waits
// for the payload's final STATUS and READY, checks what was forwarded,
// runs whileUp (if any), stops the container with SIGTERM and reports the
// checks. It returns the container's UUID.
func runNotifyingPayload(t *testing.T, m *machine, whileUp func()) string {
	t.Helper()
	leaderIdx, _ := m.WaitNotify("X_SOCKSPAWN_LEADER_PID=", 20*time.Second)
	leader := m.Leader()
	statusIdx, _ := m.WaitNotify("STATUS=conformance finished", 30*time.Second)
	readyIdx, _ := m.WaitNotify("READY=1", 10*time.Second)
	if readyIdx <= statusIdx || readyIdx <= leaderIdx {
		t.Errorf("READY=1 forwarded (message #%d) before the payload sent it (its STATUS, sent first, is #%d; leader #%d) with --notify-ready=yes:\n%s", readyIdx, statusIdx, leaderIdx, m.Notify)
	}
	checkForwarded(t, m)
	// The dropped datagrams must not have stopped the container.
	if err := syscall.Kill(leader, 0); err != nil {
		t.Errorf("the container's init (pid %d) is gone after the bad datagrams: %v", leader, err)
	}
	if whileUp != nil {
		whileUp()
	}
	m.Signal(syscall.SIGTERM)
	status := m.Wait(20 * time.Second)
	res := reportConformance(t, "conformance", m.Stdout.String())
	if status != 0 && len(res.Failures) == 0 {
		t.Errorf("after SIGTERM sockspawn exited with %d, want 0 (the payload's status); stderr:\n%s", status, m.Stderr.String())
	}
	if i, _ := m.Notify.Index("STOPPING=1"); i < 0 {
		t.Errorf("no STOPPING=1 after SIGTERM:\n%s", m.Notify)
	}
	return res.UUID
}

// checkForwarded checks every message sockspawn sent its service manager:
// from sockspawn itself, and none of what it had to drop.
func checkForwarded(t *testing.T, m *machine) {
	t.Helper()
	for _, msg := range m.Notify.Messages() {
		if msg.Sender != int32(m.cmd.Process.Pid) {
			t.Errorf("notify message %q came from pid %d, not from sockspawn (pid %d)", msg.Text, msg.Sender, m.cmd.Process.Pid)
		}
		for _, mark := range droppedMarkers {
			if strings.Contains(msg.Text, mark) {
				t.Errorf("sockspawn forwarded a datagram it must drop (%s): %.100q", mark, msg.Text)
			}
		}
		if strings.Contains(msg.Text, "(e2e: datagram carried fds)") {
			t.Errorf("sockspawn passed fds to its service manager: %q", msg.Text)
		}
	}
}

// checkTunnel checks that a machine run with the default --register has
// the tunnel of `machinectl bind` exactly when machined can be there: on
// a host running systemd.
func checkTunnel(t *testing.T, m *machine) {
	t.Helper()
	st, err := os.Stat("/run/systemd/system")
	systemd := err == nil && st.IsDir()
	_, err = os.Stat(filepath.Join(runtimeTunnels, m.Name))
	if made := err == nil; made != systemd {
		t.Errorf("tunnel %s made: %v; want it only on a host running systemd (here: %v)", filepath.Join(runtimeTunnels, m.Name), made, systemd)
	}
}

// checkAlreadyRunning starts a second container under the running
// machine's name: it must fail with one line naming the machine, and
// leave the running one alone.
func checkAlreadyRunning(t *testing.T, m *machine) {
	t.Helper()
	cmd := exec.Command(sockspawnBin, "run", "-M", m.Name, "-D", "/", "--volatile=yes", "--", "/bin/true")
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	if status := cmd.ProcessState.ExitCode(); status != 1 {
		t.Errorf("a second machine %s: exit status %d, want 1", m.Name, status)
	}
	if l := lines(stderr.String()); len(l) != 1 || !strings.Contains(l[0], m.Name) {
		t.Errorf("a second machine %s: want one line on stderr naming the machine, got:\n%s", m.Name, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(runtimeMachines, m.Name)); err != nil {
		t.Errorf("the failed second start removed the running machine's runtime directory: %v", err)
	}
	if len(findCgroups(m.Name)) != 1 {
		t.Errorf("the running machine's cgroup sockspawn-%s is gone after a failed second start", m.Name)
	}
	if err := syscall.Kill(m.Leader(), 0); err != nil {
		t.Errorf("the running container's init is gone after a failed second start: %v", err)
	}
}
