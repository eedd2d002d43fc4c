//go:build linux

package e2e

import (
	"strings"
	"testing"
	"time"
)

// hostMachineConfig is the configuration of a machine that boots the
// nspawn host's own OS (its read-only /usr) statelessly.
const hostMachineConfig = `[Container]
Directory=/
Volatile=yes
Boot=yes
Parameters=systemd.firstboot=off
`

// TestHostUnits boots one nspawn host (host_nspawn_test.go) and runs
// container@.service and container@.socket in it, one case after the
// other: what issue 5 ("What must show") asks of the units.
func TestHostUnits(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	h := startNspawnHost(t)
	for _, c := range []struct {
		name string
		run  func(*testing.T, *nspawnHost)
	}{
		{"verify", testHostVerify},
		{"start-returns-when-ready", testHostStart},
		{"stop-shuts-down-cleanly", testHostStop},
		{"reboot-inside-restarts", testHostReboot},
		{"poweroff-inside-stops", testHostPoweroff},
		{"socket-activation", testHostSocket},
		{"new-prints-working-commands", testHostNewSteps},
		{"two-machines", testHostTwoMachines},
		{"bad-names", testHostBadNames},
		{"bad-config", testHostBadConfig},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, h) })
	}
}

// testHostVerify: the installed units are where `make install
// PREFIX=/usr/local` puts them, point at the installed binary, and pass
// `systemd-analyze verify`.
func testHostVerify(t *testing.T, h *nspawnHost) {
	for _, u := range []string{"container@web.service", "container@web.socket"} {
		out := h.Must(t, "systemctl", "cat", u)
		first, _, _ := strings.Cut(out, "\n")
		want := "# /usr/local/lib/systemd/system/" + strings.Replace(u, "web", "", 1)
		if first != want {
			t.Errorf("systemctl cat %s: first line %q, want %q", u, first, want)
		}
	}
	if out := h.Must(t, "systemctl", "cat", "container@web.service"); !strings.Contains(out, "\nExecStart=/usr/local/bin/sockspawn boot %i\n") {
		t.Errorf("the installed container@.service does not run /usr/local/bin/sockspawn boot %%i:\n%s", out)
	}
	r := h.Run(t, 60*time.Second, "systemd-analyze", "verify", "container@web.service", "container@web.socket")
	if r.Status != 0 || strings.TrimSpace(r.Stdout+r.Stderr) != "" {
		t.Errorf("systemd-analyze verify container@web.service container@web.socket: want exit status 0 and no complaint, got %s", r)
	}
}

// hostStartMachine writes the machine's configuration (hostMachineConfig
// plus extra lines) and starts its service, failing t if that fails.
func hostStartMachine(t *testing.T, h *nspawnHost, name, extra string) hostMachine {
	t.Helper()
	h.WriteFile(t, "/etc/sockspawn/"+name+".conf", hostMachineConfig+extra)
	unit := "container@" + name + ".service"
	if r := h.Run(t, bootTimeout, "systemctl", "start", unit); r.Status != 0 {
		t.Fatalf("systemctl start %s: %s\njournal:\n%s", unit, r, tail(h.Journal(t, unit, ""), 30))
	}
	return h.Machine(t, name)
}

// hostStopUnits stops units at the end of a case, whatever state they are
// in, and forgets failed ones.
func hostStopUnits(t *testing.T, h *nspawnHost, units ...string) {
	t.Helper()
	t.Cleanup(func() {
		h.Run(t, shutdownTimeout, append([]string{"systemctl", "stop"}, units...)...)
		h.Run(t, 10*time.Second, append([]string{"systemctl", "reset-failed"}, units...)...)
	})
}
