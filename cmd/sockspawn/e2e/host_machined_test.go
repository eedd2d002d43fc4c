//go:build linux

package e2e

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHostMachined boots its own nspawn host (host_nspawn_test.go) and
// checks sockspawn with the systemd-machined in it: container@.service
// registers the machine (--register, Register=) and unregisters it at the
// end, and `sockspawn run` by hand puts itself into a delegated transient
// scope. TestHostUnits' list of cases is closed, hence a host of its own.
func TestHostMachined(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	if !machinedInstalled() {
		missing(t, "systemd-machined (apt-get install systemd-container)")
	}
	h := startNspawnHost(t)
	for _, c := range []struct {
		name string
		run  func(*testing.T, *nspawnHost)
	}{
		{"registered-while-running", testMachinedRegistered},
		{"register-no", testMachinedRegisterNo},
		{"reboot-registers-the-new-init", testMachinedReboot},
		{"machinectl-poweroff-and-terminate", testMachinedPoweroff},
		{"by-hand-outside-any-unit", testByHandOutsideUnits},
		{"by-hand-from-a-plain-scope", testByHandFromScope},
		{"machinectl-bind", testMachinectlBind},
		{"machined-masked", testMachinedMasked}, // last: it masks machined
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, h) })
	}
}

func machinedInstalled() bool {
	for _, p := range []string{"/usr/lib/systemd/systemd-machined", "/lib/systemd/systemd-machined"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// machinedListed returns the columns of machine name's line in
// `machinectl list` (MACHINE CLASS SERVICE ...), or nil if it is not
// listed.
func machinedListed(t *testing.T, h *nspawnHost, name string) []string {
	t.Helper()
	for _, l := range lines(h.Must(t, "machinectl", "list", "--no-legend", "--no-pager")) {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return f
		}
	}
	return nil
}

// machinedShow returns machine name's properties (machinectl show), or
// nil if machined does not know it.
func machinedShow(t *testing.T, h *nspawnHost, name string) map[string]string {
	t.Helper()
	r := h.Run(t, 30*time.Second, "machinectl", "show", name)
	if r.Status != 0 {
		return nil
	}
	p := map[string]string{}
	for _, l := range lines(r.Stdout) {
		if k, v, ok := strings.Cut(l, "="); ok {
			p[k] = v
		}
	}
	return p
}

// machinedWantRegistered checks machined knows machine name as sockspawn
// registered it: a container, its unit, its init as leader (pid as the
// nspawn host numbers it), its UUID.
func machinedWantRegistered(t *testing.T, h *nspawnHost, name, unit string, init int) {
	t.Helper()
	if f := machinedListed(t, h, name); len(f) < 3 || f[1] != "container" || f[2] != "sockspawn" {
		t.Errorf("machinectl list: %s is %q, want it listed with class container and service sockspawn:\n%s", name, f, h.Run(t, 10*time.Second, "machinectl", "list").Stdout)
	}
	leader := hostNSpid(init)
	if len(leader) < 2 {
		t.Fatalf("the container's init (pid %d) is gone", init)
	}
	uuid := pid1Env(t, init)["container_uuid"]
	want := map[string]string{
		"Class": "container", "Service": "sockspawn", "Unit": unit, "State": "running",
		"Leader": strconv.Itoa(leader[1]), "RootDirectory": "/",
		"Id": strings.ReplaceAll(uuid, "-", ""),
	}
	got := machinedShow(t, h, name)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("machinectl show %s: %s=%q, want %q", name, k, got[k], v)
		}
	}
	status := h.Run(t, 30*time.Second, "machinectl", "status", "--no-pager", "-n", "0", name).Stdout
	for _, s := range []string{"Unit: " + unit, "Leader: " + strconv.Itoa(leader[1]) + " (systemd)", "Service: sockspawn; class container"} {
		if !strings.Contains(status, s) {
			t.Errorf("machinectl status %s does not say %q:\n%s", name, s, tail(status, 30))
		}
	}
}

// machinedWantCall checks sockspawn called RegisterMachine(name, uuid,
// "sockspawn", "container", leader, "/") once, and machined took it.
func machinedWantCall(t *testing.T, mon *hostBusMonitor, name string, init int) {
	t.Helper()
	calls := mon.Find("method_call", "RegisterMachine", name)
	if len(calls) != 1 {
		t.Errorf("%d RegisterMachine calls for %s, want 1; machined's bus traffic:\n%s", len(calls), name, mon.Dump())
		return
	}
	d := calls[0].Payload.Data
	var gotName, service, class, dir string
	var id []int
	var leader int
	if calls[0].Payload.Type != "sayssus" || len(d) != 6 ||
		json.Unmarshal(d[0], &gotName) != nil || json.Unmarshal(d[1], &id) != nil || json.Unmarshal(d[2], &service) != nil ||
		json.Unmarshal(d[3], &class) != nil || json.Unmarshal(d[4], &leader) != nil || json.Unmarshal(d[5], &dir) != nil {
		t.Errorf("RegisterMachine with arguments %s, want (name, uuid bytes, service, class, leader, directory)", calls[0])
		return
	}
	idBytes := make([]byte, len(id))
	for i, b := range id {
		idBytes[i] = byte(b)
	}
	wantID := strings.ReplaceAll(pid1Env(t, init)["container_uuid"], "-", "")
	if hex.EncodeToString(idBytes) != wantID || service != "sockspawn" || class != "container" || leader != hostNSpid(init)[1] || dir != "/" {
		t.Errorf("RegisterMachine%s, want (%q, %s, sockspawn, container, %d, /)", strings.TrimPrefix(calls[0].String(), "method_call RegisterMachine"), name, wantID, hostNSpid(init)[1])
	}
	if errs := mon.Refused("RegisterMachine", name); len(errs) > 0 {
		t.Errorf("machined refused RegisterMachine for %s: %s", name, errs[0])
	}
	if len(mon.Find("signal", "MachineNew", name)) != 1 {
		t.Errorf("machined did not announce MachineNew for %s:\n%s", name, mon.Dump())
	}
}

// testMachinedRegistered: container@web.service is known to machined as
// soon as `systemctl start` returns; journalctl -M and systemctl -M reach
// the container; `systemctl stop` unregisters it.
func testMachinedRegistered(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	mon := h.MonitorMachined(t)
	m := hostStartMachine(t, h, "web", "")
	machinedWantRegistered(t, h, "web", "container@web.service", m.Init)
	machinedWantCall(t, mon, "web", m.Init)

	// The container's own journal: a line only the container logs.
	tag := "e2e-marker-" + randomNonce(t)
	if r := m.Enter(10*time.Second, "systemd-cat", "-t", tag, "echo", "hello from web"); r.Status != 0 {
		t.Fatalf("systemd-cat in web: %s", r)
	}
	var entry map[string]json.RawMessage
	hostWaitUntil(t, 10*time.Second, "the marker in journalctl -M web", func() (bool, string) {
		r := h.Run(t, 30*time.Second, "journalctl", "-M", "web", "-b", "-t", tag, "-o", "json", "--no-pager")
		for _, l := range lines(r.Stdout) {
			if json.Unmarshal([]byte(l), &entry) == nil && hostJournalField(entry["MESSAGE"]) == "hello from web" {
				return true, ""
			}
		}
		return false, r.String()
	})
	if host := hostJournalField(entry["_HOSTNAME"]); host != "web" {
		t.Errorf("journalctl -M web: the marker has _HOSTNAME=%q, want web", host)
	}
	if r := h.Run(t, 30*time.Second, "journalctl", "-M", "web", "-b", "--no-pager", "-o", "cat"); r.Status != 0 || !strings.Contains(r.Stdout, "hello from web") {
		t.Errorf("journalctl -M web -b: want exit status 0 and the marker, got %s", r)
	}
	if out := h.Run(t, 30*time.Second, "journalctl", "-t", tag, "-o", "cat", "--no-pager").Stdout; strings.Contains(out, "hello from web") {
		t.Errorf("the nspawn host's own journal has the container's marker: journalctl -M web did not have to reach into the container")
	}

	// The container's own service manager, over its own bus.
	r := h.Run(t, 30*time.Second, "systemctl", "-M", "web", "is-system-running")
	if s := strings.TrimSpace(r.Stdout); s != "running" && s != "degraded" {
		t.Errorf("systemctl -M web is-system-running: want running or degraded, got %s", r)
	}
	// A transient unit and a shell started inside from the host, the way
	// administrators reach an nspawn machine.
	if r := h.Run(t, 30*time.Second, "systemd-run", "-M", "web", "--wait", "-q", "-p", "PrivateTmp=yes", "/bin/sh", "-c", "test \"$(hostname)\" = web"); r.Status != 0 {
		t.Errorf("systemd-run -M web --wait: %s", r)
	}

	// Unregistered by the time `systemctl stop` returns.
	if r := h.Run(t, shutdownTimeout, "systemctl", "stop", "container@web.service"); r.Status != 0 {
		t.Fatalf("systemctl stop container@web.service: %s", r)
	}
	if f := machinedListed(t, h, "web"); f != nil {
		t.Errorf("machinectl list still shows web after systemctl stop: %q", f)
	}
	if p := machinedShow(t, h, "web"); p != nil {
		t.Errorf("machinectl show web still works after systemctl stop: %s", hostProps(p))
	}
	if n := len(mon.Find("method_call", "UnregisterMachine", "web")); n != 1 {
		t.Errorf("%d UnregisterMachine calls for web, want 1 (sockspawn unregisters at exit); machined's bus traffic:\n%s", n, mon.Dump())
	}
	if n := len(mon.Find("signal", "MachineRemoved", "web")); n != 1 {
		t.Errorf("machined announced MachineRemoved for web %d times, want 1:\n%s", n, mon.Dump())
	}
	if errs := mon.Refused("UnregisterMachine", "web"); len(errs) > 0 {
		t.Errorf("machined refused UnregisterMachine for web: %s", errs[0])
	}
}

// testMachinedRegisterNo: Register=no keeps the machine away from machined.
func testMachinedRegisterNo(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	mon := h.MonitorMachined(t)
	m := hostStartMachine(t, h, "web", "Register=no\n")
	if f := machinedListed(t, h, "web"); f != nil {
		t.Errorf("with Register=no, machinectl list shows web: %q", f)
	}
	if p := machinedShow(t, h, "web"); p != nil {
		t.Errorf("with Register=no, machinectl show web works: %s", hostProps(p))
	}
	if !hostAlive(m.Init) {
		t.Errorf("the container's init (pid %d) does not run", m.Init)
	}
	h.Must(t, "systemctl", "stop", "container@web.service")
	if n := len(mon.Find("method_call", "RegisterMachine", "web")) + len(mon.Find("method_call", "UnregisterMachine", "web")); n > 0 {
		t.Errorf("with Register=no, sockspawn called machined %d times:\n%s", n, mon.Dump())
	}
}

// testMachinedReboot: `systemctl reboot` inside restarts the unit; the
// new supervisor registers the new init, after the old one unregistered.
func testMachinedReboot(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	mon := h.MonitorMachined(t)
	m := hostStartMachine(t, h, "web", "")
	if r := m.Enter(30*time.Second, "systemctl", "reboot"); r.Status != 0 {
		t.Logf("systemctl reboot inside: %s", r)
	}
	hostWaitUntil(t, bootTimeout, "container@web.service active again with a new supervisor", func() (bool, string) {
		p := h.Show(t, "container@web.service", "ActiveState", "MainPID", "NRestarts")
		return p["ActiveState"] == "active" && p["MainPID"] != "0" && p["MainPID"] != strconv.Itoa(m.MainPID), hostProps(p)
	})
	m2 := h.Machine(t, "web")
	machinedWantRegistered(t, h, "web", "container@web.service", m2.Init)
	var order []string
	for _, msg := range mon.Messages() {
		if msg.Member == "RegisterMachine" || msg.Member == "UnregisterMachine" {
			order = append(order, msg.Member)
		}
	}
	if strings.Join(order, " ") != "RegisterMachine UnregisterMachine RegisterMachine" {
		t.Errorf("calls to machined across the reboot: %v, want RegisterMachine UnregisterMachine RegisterMachine:\n%s", order, mon.Dump())
	}
	for _, member := range []string{"RegisterMachine", "UnregisterMachine"} {
		if errs := mon.Refused(member, "web"); len(errs) > 0 {
			t.Errorf("machined refused %s for web: %s", member, errs[0])
		}
	}
}

// testMachinedPoweroff: machinectl acts on the registered machine:
// poweroff (SIGRTMIN+4 to its init) ends the unit as a clean poweroff
// does, terminate stops the unit.
func testMachinedPoweroff(t *testing.T, h *nspawnHost) {
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	for _, verb := range []string{"poweroff", "terminate"} {
		m := hostStartMachine(t, h, "web", "")
		before := h.Show(t, "container@web.service", "NRestarts")["NRestarts"]
		if r := h.Run(t, 30*time.Second, "machinectl", verb, "web"); r.Status != 0 {
			t.Errorf("machinectl %s web: %s", verb, r)
			continue
		}
		var p map[string]string
		hostWaitUntil(t, shutdownTimeout, "container@web.service inactive after machinectl "+verb, func() (bool, string) {
			p = h.Show(t, "container@web.service", "ActiveState", "SubState", "Result", "ExecMainStatus", "NRestarts")
			return p["ActiveState"] == "inactive" || p["ActiveState"] == "failed", hostProps(p)
		})
		if p["ActiveState"] != "inactive" || p["Result"] != "success" || p["ExecMainStatus"] != "0" || p["NRestarts"] != before {
			t.Errorf("after machinectl %s web: %s; want ActiveState=inactive Result=success ExecMainStatus=0 and no restart", verb, hostProps(p))
		}
		if hostAlive(m.Init) {
			t.Errorf("the container's init (pid %d) still runs after machinectl %s web", m.Init, verb)
		}
		if f := machinedListed(t, h, "web"); f != nil {
			t.Errorf("machinectl list still shows web after machinectl %s web: %q", verb, f)
		}
	}
}

// testMachinedMasked: with machined masked, Register=yes refuses to run
// the container and says why; by default the container runs unregistered.
func testMachinedMasked(t *testing.T, h *nspawnHost) {
	h.Must(t, "systemctl", "mask", "--runtime", "systemd-machined.service")
	t.Cleanup(func() { h.Run(t, 30*time.Second, "systemctl", "unmask", "--runtime", "systemd-machined.service") })
	h.Must(t, "systemctl", "stop", "systemd-machined.service")

	// Register=yes: the unit fails, saying why. (The socket unit, which
	// starts with it, cannot know and stays.)
	hostStopUnits(t, h, "container@web.service", "container@web.socket")
	h.WriteFile(t, "/etc/sockspawn/web.conf", hostMachineConfig+"Register=yes\n")
	cursor := h.JournalCursor(t)
	if r := h.Run(t, bootTimeout, "systemctl", "start", "container@web.service"); r.Status == 0 {
		t.Errorf("with Register=yes and machined masked, systemctl start container@web.service succeeded, want a failure")
	}
	if p := h.Show(t, "container@web.service", "ActiveState", "Result"); p["ActiveState"] != "failed" || p["Result"] != "exit-code" {
		t.Errorf("container@web.service after the refused start: %s; want ActiveState=failed Result=exit-code", hostProps(p))
	}
	var journal string
	hostWaitUntil(t, 5*time.Second, "why, in the journal of container@web.service", func() (bool, string) {
		journal = h.Journal(t, "container@web.service", cursor)
		return strings.Contains(journal, "--register=yes") && strings.Contains(journal, "machined"), tail(journal, 10)
	})
	for _, l := range lines(journal) {
		if strings.HasPrefix(l, "sockspawn:") {
			t.Logf("with Register=yes: %s", l)
		}
	}
	if _, err := os.Lstat(h.Path("/run/sockspawn/machines/web")); err == nil {
		t.Errorf("/run/sockspawn/machines/web is left after the refused start")
	}
	h.Run(t, shutdownTimeout, "systemctl", "stop", "container@web.socket")
	h.Run(t, 10*time.Second, "systemctl", "reset-failed", "container@web.service")

	// By default: the container runs, unregistered.
	cursor = h.JournalCursor(t)
	m := hostStartMachine(t, h, "web", "")
	if !hostAlive(m.Init) {
		t.Errorf("by default the container must run without machined; its init (pid %d) does not", m.Init)
	}
	if st := strings.TrimSpace(h.Run(t, 10*time.Second, "systemctl", "is-active", "systemd-machined.service").Stdout); st == "active" {
		t.Errorf("systemd-machined.service is %s although masked: the case tests nothing", st)
	}
	for _, l := range lines(h.Journal(t, "container@web.service", cursor)) {
		if strings.HasPrefix(l, "sockspawn:") {
			t.Logf("by default, with machined masked, sockspawn says: %s", l)
		}
	}
}
