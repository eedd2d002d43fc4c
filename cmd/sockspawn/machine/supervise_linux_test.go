package machine

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/payload/devices"
	"github.com/sockspawn/sockspawn/units"
)

func TestParentPID(t *testing.T) {
	if got := parentPID(os.Getpid()); got != os.Getppid() {
		t.Errorf("parentPID(self) = %d, want %d", got, os.Getppid())
	}
	if got := parentPID(-1); got != 0 {
		t.Errorf("parentPID(-1) = %d", got)
	}
}

// --register=no asks machined nothing.
func TestRegisterNo(t *testing.T) {
	no := false
	r := &run{c: units.Config{Register: &no}, d: decision{Machine: "web"}}
	unregister, err := r.register(1)
	if err != nil {
		t.Fatal(err)
	}
	unregister()
}

func TestDebugLogging(t *testing.T) {
	for _, tc := range []struct {
		sockspawn, systemd string
		want               bool
	}{
		{"", "", false}, {"debug", "", true}, {"", "7", true}, {"info", "", false}, {"", "debug", true},
	} {
		t.Setenv("SOCKSPAWN_LOG_LEVEL", tc.sockspawn)
		t.Setenv("SYSTEMD_LOG_LEVEL", tc.systemd)
		if got := debugLogging(); got != tc.want {
			t.Errorf("%q/%q: %v, want %v", tc.sockspawn, tc.systemd, got, tc.want)
		}
		trace("a step") // prints or not; never fails
	}
}

// The host manager hears what the supervisor says, on $NOTIFY_SOCKET.
func TestNotifyHost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	hostManager{}.Notify("STATUS=hello")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "STATUS=hello" {
		t.Errorf("got %q, %v", buf[:n], err)
	}
}

// waitExit sends the stage's wait status once it ends.
func TestWaitExit(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "exit 3")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	ws := <-waitExit(&payload.Stage{Cmd: cmd})
	if !ws.Exited() || ws.ExitStatus() != 3 {
		t.Errorf("wait status %v", ws)
	}
}

// The container may create the nodes of its /dev and the two
// inaccessible nodes, and use the device nodes bound in.
func TestDeviceRules(t *testing.T) {
	rules := deviceRules([]units.Bind{{Source: "/dev/null", Target: "/dev/hostnull"}, {Source: t.TempDir(), Target: "/mnt"}})
	has := func(r devices.Rule) bool {
		for _, x := range rules {
			if x == r {
				return true
			}
		}
		return false
	}
	if !has(devices.Rule{Type: 'c', Major: 0, Minor: 0, Access: "m"}) || !has(devices.Rule{Type: 'b', Major: 0, Minor: 0, Access: "m"}) {
		t.Errorf("no rules for the inaccessible nodes: %v", rules)
	}
	if n := len(rules) - len(devices.DefaultAllow()); n != 3 {
		t.Errorf("%d rules beyond the defaults, want 3 (two inaccessible nodes, /dev/null bound in)", n)
	}
}

func TestCloneLate(t *testing.T) {
	t.Setenv("SOCKSPAWN_CLONE_INTO_CGROUP", "0")
	if !cloneLate() {
		t.Error("SOCKSPAWN_CLONE_INTO_CGROUP=0 does not clone late")
	}
	t.Setenv("SOCKSPAWN_CLONE_INTO_CGROUP", "")
	if cloneLate() != payload.HostHasWritableV1() {
		t.Error("on a hybrid host the stage is cloned late, else not")
	}
}

// cgroupPrep's steps wait for it, and carry its error.
func TestCgroupPrepFailed(t *testing.T) {
	p := &cgroupPrep{done: make(chan struct{}), err: errors.New("cgroup: no delegation")}
	close(p.done)
	if err := p.wait(); err != p.err {
		t.Errorf("wait: %v", err)
	}
	if err := p.move(1, true); err != p.err {
		t.Errorf("move: %v", err)
	}
	p.release(func(s string) { t.Errorf("warned %q about nothing", s) })
}

// The idle watch of a boot: none without an idle action, and then the
// sockets systemd passed are the init's alone; the period defaults.
func TestIdleFor(t *testing.T) {
	failed := &cgroupPrep{done: make(chan struct{}), err: errors.New("no cgroup")}
	close(failed.done)
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{c: units.Config{}, sockets: &listenSockets{files: []*os.File{f}}}
	if s := r.idleFor(failed); s.action != activation.IdleIgnore || len(r.sockets.files) != 0 {
		t.Errorf("no idle action: %+v, sockets %v", s, r.sockets.files)
	}
	files := []*os.File{os.Stdin}
	r = &run{c: units.Config{IdleAction: units.IdleActionPoweroff}, sockets: &listenSockets{files: files}}
	s := r.idleFor(failed)
	if s.action != activation.IdlePoweroff || s.period != units.DefaultIdleActionSec || len(s.files) != 1 || s.cgroup != "" {
		t.Errorf("poweroff: %+v", s)
	}
	r.c.IdleActionSec = time.Minute
	if s := r.idleFor(failed); s.period != time.Minute {
		t.Errorf("IdleActionSec=1min: period %v", s.period)
	}
	if w := (idleSetup{}).start("web", 1, true, nil); w != nil {
		t.Errorf("a watcher without an idle action: %v", w)
	}
	r.stopNetwork(&payload.Stage{}) // nothing to stop
}

func TestSignals(t *testing.T) {
	if !operatorSignal(freezeSignal) || !operatorSignal(thawSignal) || operatorSignal(syscall.SIGTERM) {
		t.Error("operatorSignal")
	}
	if !sigWinch(syscall.SIGWINCH) || sigWinch(syscall.SIGTERM) {
		t.Error("sigWinch")
	}
	for _, tc := range []struct {
		sig  os.Signal
		stop bool
	}{
		{syscall.SIGTERM, true}, {syscall.SIGINT, true}, {syscall.SIGHUP, true},
		{syscall.SIGWINCH, false}, {freezeSignal, false}, {thawSignal, false},
	} {
		if got := isStopRequest(tc.sig); got != tc.stop {
			t.Errorf("isStopRequest(%v) = %v, want %v", tc.sig, got, tc.stop)
		}
	}
}

// Giving back the start's memory drops the pages of sockspawn's own code
// and read-only data from this process (RssFile), which the kernel maps
// again from the page cache when they are next used.
func TestReleaseStartupMemory(t *testing.T) {
	rssFile := func() int {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Skip(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "RssFile:"); ok {
				n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				return n
			}
		}
		t.Skip("no RssFile in /proc/self/status")
		return 0
	}
	before := rssFile()
	releaseStartupMemory()
	if after := rssFile(); after >= before {
		t.Errorf("RssFile %d kB before, %d kB after", before, after)
	}
}

// The inotify budget is looked at only for a booted machine that shares
// root's.
func TestCheckInotifyBudget(t *testing.T) {
	checkInotifyBudget(units.Config{}, units.UserRange{})
	checkInotifyBudget(units.Config{Boot: true}, units.UserRange{Enabled: true})
	checkInotifyBudget(units.Config{Boot: true, Quiet: true}, units.UserRange{})
}

// The relay takes the init's notifications and drops others; with debug
// logging it counts them on the way out.
func TestNotifyRelay(t *testing.T) {
	t.Setenv("SYSTEMD_LOG_LEVEL", "debug")
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	sock, peer := os.NewFile(uintptr(fds[0]), "notify"), os.NewFile(uintptr(fds[1]), "peer")
	defer peer.Close()
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer cmd.Wait()
	r := &run{c: units.Config{AsPid2: true}}
	relay := r.notifyRelay(&payload.Stage{Cmd: cmd, Notify: sock})
	if relay == nil {
		t.Fatal("no relay")
	}
	relay.Close()
	logRelayStats(relay)
}

// The payload cgroup of a supervisor's machine lies in the unified
// hierarchy, named for the machine.
func TestPayloadCgroupOf(t *testing.T) {
	mnt, err := payload.UnifiedMount()
	if err != nil {
		t.Skip(err)
	}
	dir, err := payloadCgroupOf(os.Getpid(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, mnt+"/") || !strings.Contains(dir, "web") {
		t.Errorf("payload cgroup %q, want one under %s for machine web", dir, mnt)
	}
	if _, err := payloadCgroupOf(-1, "web"); err == nil {
		t.Error("a process that does not exist has a cgroup")
	}
}
