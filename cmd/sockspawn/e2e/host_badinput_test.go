//go:build linux

package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// hostWantStartFails starts unit, which must fail, and wants each culprit
// in its journal (from after cursor); `systemctl status` shows the same
// lines unless systemd 252's journal reader skips them (see Journal).
func hostWantStartFails(t *testing.T, h *nspawnHost, unit, cursor string, culprits ...string) {
	t.Helper()
	hostStopUnits(t, h, unit, strings.TrimSuffix(unit, ".service")+".socket")
	r := h.Run(t, bootTimeout, "systemctl", "start", unit)
	if r.Status == 0 {
		t.Errorf("systemctl start %s succeeded, want a failure", unit)
	}
	p := h.Show(t, unit, "ActiveState", "Result", "ExecMainStatus")
	if p["ActiveState"] != "failed" || p["Result"] != "exit-code" {
		t.Errorf("%s after the failed start: %s; want ActiveState=failed Result=exit-code", unit, hostProps(p))
	}
	// journald reads the unit's stderr stream on its own time.
	var journal string
	deadline := time.Now().Add(5 * time.Second)
	for {
		journal = h.Journal(t, unit, cursor)
		all := true
		for _, c := range culprits {
			all = all && strings.Contains(journal, c)
		}
		if all || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range culprits {
		if !strings.Contains(journal, c) {
			t.Errorf("the journal of %s does not name %q:\n%s", unit, c, tail(journal, 10))
		}
	}
	// The socket unit checks the machine before it binds anything: a bad
	// machine leaves nothing listening.
	socket := strings.TrimSuffix(unit, ".service") + ".socket"
	if sp := h.Show(t, socket, "ActiveState"); sp["ActiveState"] == "active" || sp["ActiveState"] == "listening" {
		t.Errorf("%s is %s after the failed start, want it not listening", socket, sp["ActiveState"])
	}
	if _, err := os.Lstat(h.Path("/run/sockspawn/" + strings.TrimPrefix(strings.TrimSuffix(unit, ".service"), "container@") + ".sock")); err == nil {
		t.Errorf("the socket of %s exists after the failed start", unit)
	}
	status := h.Run(t, 30*time.Second, "systemctl", "status", "--no-pager", "-l", "-n", "20", unit).Stdout
	if strings.Contains(journal, culprits[0]) && !strings.Contains(status, culprits[0]) {
		t.Logf("systemctl status %s does not show %q (systemd 252 skipped the entry):\n%s", unit, culprits[0], tail(status, 8))
	}
	if !t.Failed() {
		for _, l := range lines(journal) {
			if strings.HasPrefix(l, "sockspawn:") {
				t.Logf("%s: %s", unit, l)
			}
		}
	}
}

// testHostBadNames: an instance name that is no valid machine name fails
// `systemctl start`, with the name in the journal, before anything is
// made for it.
func testHostBadNames(t *testing.T, h *nspawnHost) {
	for _, c := range []struct {
		name     string
		instance string // as in the unit name; %i passes it as it is
		culprit  string // how the error quotes it
	}{
		{"dot-dot", "a..b", `"a..b"`},
		{"escaped-slash", `a\x2fb`, `"a\\x2fb"`},
		{"65-characters", strings.Repeat("x", 65), `"` + strings.Repeat("x", 65) + `"`},
		{"leading-dash", "-x", `"-x"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cursor := h.JournalCursor(t)
			hostWantStartFails(t, h, "container@"+c.instance+".service", cursor, c.culprit)
			if _, err := os.Lstat(h.Path("/run/sockspawn/machines/" + c.instance)); err == nil {
				t.Errorf("a runtime directory was made for the invalid name %q", c.instance)
			}
		})
	}
}

// testHostBadConfig: a bad configuration file fails `systemctl start` with
// the file, line and key in the journal; so does a machine without image.
func testHostBadConfig(t *testing.T, h *nspawnHost) {
	for _, c := range []struct {
		machine  string
		conf     string // "" for no configuration file
		culprits []string
	}{
		{"badkey", "[Container]\nDirectory=/\nVolatile=yes\nFrobnicate=yes\nBoot=yes\n",
			[]string{"/etc/sockspawn/badkey.conf:4", "Frobnicate"}},
		{"badbind", "[Container]\nDirectory=/\nVolatile=yes\nBind=relative/e2e:/mnt\nBoot=yes\n",
			[]string{"/etc/sockspawn/badbind.conf:4", "Bind=", "relative/e2e"}},
		{"badsection", "[Container]\nDirectory=/\n[Exec]\nBoot=yes\n",
			[]string{"/etc/sockspawn/badsection.conf:3", "Exec"}},
		{"noimage", "", []string{"/var/lib/machines/noimage", "debootstrap"}},
	} {
		t.Run(c.machine, func(t *testing.T) {
			if c.conf != "" {
				h.WriteFile(t, "/etc/sockspawn/"+c.machine+".conf", c.conf)
			}
			cursor := h.JournalCursor(t)
			hostWantStartFails(t, h, "container@"+c.machine+".service", cursor, c.culprits...)
			if _, err := os.Lstat(h.Path("/run/sockspawn/machines/" + c.machine)); err == nil {
				t.Errorf("a runtime directory was left for machine %s", c.machine)
			}
		})
	}
}
