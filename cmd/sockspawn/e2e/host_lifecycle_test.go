//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testHostStart: `systemctl start container@web` returns once the
// container's own systemd is up; the unit carries its status and its
// processes sit in container@web.service/payload.
func testHostStart(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	m := hostStartMachine(t, h, "web", "")

	// Right after `systemctl start` returns, systemd inside must be
	// past its boot: READY=1 came from it, not from the supervisor.
	state := m.Enter(30*time.Second, "systemctl", "is-system-running")
	if s := strings.TrimSpace(state.Stdout); s != "running" && s != "degraded" {
		t.Errorf("right after systemctl start returned, systemd inside says %q, want running or degraded (%s)", s, state)
	}
	p := h.Show(t, "container@web.service", "ActiveState", "SubState", "StatusText", "Type", "NotifyAccess")
	if p["ActiveState"] != "active" || p["SubState"] != "running" {
		t.Errorf("container@web.service is %s (%s), want active (running)", p["ActiveState"], p["SubState"])
	}
	// systemd 252 sends STATUS=Ready. or "Startup finished in ..."; the
	// supervisor's own status would be "Container running.".
	if st := p["StatusText"]; st != "Ready." && !strings.HasPrefix(st, "Startup finished") {
		t.Errorf("StatusText of container@web.service is %q, want the container's systemd's status (\"Ready.\" or \"Startup finished ...\")", st)
	}

	t.Logf("right after systemctl start: systemd inside is %q; %s", strings.TrimSpace(state.Stdout), hostProps(p))

	// The container's init and the supervisor, from /proc/PID/cgroup.
	hostWantCgroup(t, m.Init, "/machine.slice/container@web.service/payload/init.scope", "the container's init")
	hostWantCgroup(t, m.Supervisor, "/machine.slice/container@web.service/supervisor", "the supervisor")

	// As under nspawn@ (-U): a private user range by default, and the
	// user namespace is owned by its base UID, not root.
	if _, base, _ := uidMapOf(t, m.Init); base == 0 {
		t.Errorf("container@web.service's init runs without a private user range (its uid_map maps root to root)")
	} else if owner := userNSOwner(t, m.Init); uint64(owner) != base {
		t.Errorf("container@web.service's user namespace is owned by UID %d, want its base UID %d", owner, base)
	}

	// And as `systemctl status` shows them.
	r := h.Run(t, 30*time.Second, "systemctl", "status", "--no-pager", "-l", "-n", "0", "container@web.service")
	status := r.Stdout
	ls := lines(status)
	at := func(pred func(string) bool) int {
		for i, l := range ls {
			if pred(l) {
				return i
			}
		}
		return -1
	}
	cg := at(func(l string) bool { return strings.Contains(l, "CGroup: /machine.slice/container@web.service") })
	payload := at(func(l string) bool { return strings.HasSuffix(l, "─payload") })
	init := at(func(l string) bool { return strings.Contains(l, "/usr/lib/systemd/systemd systemd.firstboot=off") })
	sup := at(func(l string) bool { return strings.HasSuffix(l, "─supervisor") })
	boot := at(func(l string) bool { return strings.Contains(l, "/usr/local/bin/sockspawn boot web") })
	if cg < 0 || payload < cg || init < payload || sup < init || boot < sup {
		t.Errorf("systemctl status container@web.service does not show the container's init under payload and the supervisor under supervisor (lines CGroup %d, payload %d, init %d, supervisor %d, sockspawn %d):\n%s", cg, payload, init, sup, boot, status)
	}
	t.Logf("systemctl status container@web.service:\n%s", status)
	if !strings.Contains(status, "Status: \""+p["StatusText"]+"\"") {
		t.Errorf("systemctl status container@web.service does not show the status %q:\n%s", p["StatusText"], status)
	}
}

// hostWantCgroup checks the cgroup2 path of pid ends with suffix.
func hostWantCgroup(t *testing.T, pid int, suffix, who string) {
	t.Helper()
	cg := hostPidCgroup(pid)
	if !strings.HasSuffix(cg, suffix) {
		t.Errorf("%s (pid %d) is in cgroup %q, want one ending in %q", who, pid, cg, suffix)
	}
}

// testHostStop: `systemctl stop` shuts the container down cleanly (its
// console, relayed to the journal, shows systemd reaching the shutdown
// target) and leaves the unit inactive (dead) with result success.
func testHostStop(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	cursor := h.JournalCursor(t)
	m := hostStartMachine(t, h, "web", "")
	unitCgroup := filepath.Join(cgroupMount(), strings.TrimSuffix(hostPidCgroup(m.Init), "/payload/init.scope"))
	if r := h.Run(t, shutdownTimeout, "systemctl", "stop", "container@web.service"); r.Status != 0 {
		t.Fatalf("systemctl stop container@web.service: %s", r)
	}
	p := h.Show(t, "container@web.service", "ActiveState", "SubState", "Result", "ExecMainStatus")
	if p["ActiveState"] != "inactive" || p["SubState"] != "dead" || p["Result"] != "success" || p["ExecMainStatus"] != "0" {
		t.Errorf("after systemctl stop: %v, want ActiveState=inactive SubState=dead Result=success ExecMainStatus=0", p)
	}
	status := h.Run(t, 30*time.Second, "systemctl", "status", "--no-pager", "-n", "0", "container@web.service").Stdout
	if !strings.Contains(status, "Active: inactive (dead)") {
		t.Errorf("systemctl status after stop does not say inactive (dead):\n%s", status)
	}
	// `sockspawn boot` under systemd has no tty on stdin, so its console
	// is read-only: the container's console goes to the unit's stdout,
	// the journal. journald reads the stream on its own time.
	var journal string
	hostWaitUntil(t, 10*time.Second, "the shutdown in the journal of container@web.service", func() (bool, string) {
		journal = h.Journal(t, "container@web.service", cursor)
		return strings.Contains(journal, "Reached target shutdown.target") &&
			(strings.Contains(journal, "Halting system.") || strings.Contains(journal, "Powering off.")), tail(journal, 15)
	})
	for _, l := range lines(journal) {
		if strings.Contains(l, "shutdown.target") || l == "Halting system." || l == "Powering off." {
			t.Logf("journal of container@web.service: %s", strings.TrimSpace(l))
		}
	}
	if hostAlive(m.Init) {
		t.Errorf("the container's init (pid %d) still runs after systemctl stop", m.Init)
	}
	if _, err := os.Lstat(h.Path("/run/sockspawn/machines/web")); err == nil {
		t.Errorf("/run/sockspawn/machines/web is left in the nspawn host after systemctl stop")
	}
	if _, err := os.Lstat(unitCgroup); err == nil {
		t.Errorf("the cgroup of container@web.service (%s) is left after systemctl stop", unitCgroup)
	}
}

// testHostReboot: `systemctl reboot` inside ends the supervisor with 133,
// which the unit turns into a restart.
func testHostReboot(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	m := hostStartMachine(t, h, "web", "")
	before := h.Show(t, "container@web.service", "NRestarts")["NRestarts"]
	if r := m.Enter(30*time.Second, "systemctl", "reboot"); r.Status != 0 {
		t.Logf("systemctl reboot inside: %s", r) // it may lose its connection
	}
	var p map[string]string
	hostWaitUntil(t, bootTimeout, "container@web.service restarted and active again", func() (bool, string) {
		p = h.Show(t, "container@web.service", "ActiveState", "SubState", "MainPID", "NRestarts", "Result")
		return p["NRestarts"] != before && p["ActiveState"] == "active" && p["MainPID"] != "0" && p["MainPID"] != strconv.Itoa(m.MainPID), strings.TrimSpace(hostProps(p))
	})
	t.Logf("after systemctl reboot inside: %s (MainPID was %d)", hostProps(p), m.MainPID)
	if p["NRestarts"] != strconv.Itoa(hostAtoi(before)+1) {
		t.Errorf("NRestarts went from %s to %s, want one restart", before, p["NRestarts"])
	}
	if p["Result"] != "success" {
		t.Errorf("after the reboot Result=%s, want success", p["Result"])
	}
	m2 := h.Machine(t, "web")
	if m2.Init == m.Init {
		t.Errorf("the container's init is still pid %d after the reboot", m.Init)
	}
	if hostAlive(m.Init) {
		t.Errorf("the old container's init (pid %d) still runs after the reboot", m.Init)
	}
	if s := strings.TrimSpace(m2.Enter(30*time.Second, "systemctl", "is-system-running").Stdout); s != "running" && s != "degraded" {
		t.Errorf("after the reboot systemd inside says %q, want running or degraded", s)
	}
}

// testHostPoweroff: `systemctl poweroff` inside ends the unit, not as a
// failure and without a restart.
func testHostPoweroff(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	m := hostStartMachine(t, h, "web", "")
	before := h.Show(t, "container@web.service", "NRestarts")["NRestarts"]
	if r := m.Enter(30*time.Second, "systemctl", "poweroff"); r.Status != 0 {
		t.Logf("systemctl poweroff inside: %s", r)
	}
	var p map[string]string
	hostWaitUntil(t, shutdownTimeout, "container@web.service inactive after poweroff inside", func() (bool, string) {
		p = h.Show(t, "container@web.service", "ActiveState", "SubState", "Result", "ExecMainStatus", "NRestarts")
		return p["ActiveState"] == "inactive" || p["ActiveState"] == "failed", strings.TrimSpace(hostProps(p))
	})
	if p["ActiveState"] != "inactive" || p["SubState"] != "dead" || p["Result"] != "success" || p["ExecMainStatus"] != "0" {
		t.Errorf("after poweroff inside: %s; want ActiveState=inactive SubState=dead Result=success ExecMainStatus=0", hostProps(p))
	}
	if p["NRestarts"] != before {
		t.Errorf("poweroff inside restarted the unit: NRestarts %s -> %s", before, p["NRestarts"])
	}
	if hostAlive(m.Init) {
		t.Errorf("the container's init (pid %d) still runs after poweroff inside", m.Init)
	}
}
