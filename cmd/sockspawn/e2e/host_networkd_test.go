//go:build linux

package e2e

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestHostPortNetworkd: a .nspawn file with Port= and neither Boot= nor
// VirtualEthernet= (nspawn@'s command line gives both) boots with a veth.
// With systemd-networkd on both sides, as on a real host, the container's address comes by DHCP from the host's networkd
// on ve-NAME (80-container-ve.network), after the machine started; the
// forwarded port follows it and answers on the host's loopback without
// the test setting any address.
func TestHostPortNetworkd(t *testing.T) {
	needSystemd(t)
	if _, err := os.Stat("/usr/lib/systemd/network/80-container-ve.network"); err != nil {
		if _, err := os.Stat("/lib/systemd/network/80-container-ve.network"); err != nil {
			missing(t, "systemd-networkd's 80-container-ve.network")
		}
	}
	t.Parallel()
	h := startNspawnHostWith(t, "--private-network")
	const name = "web"
	unit := "container@" + name + ".service"
	hostStopUnits(t, h, unit, "container@"+name+".socket")
	h.Must(t, "systemctl", "start", "systemd-networkd.service")

	h.Must(t, "mkdir", "-p", "/var/lib/machines/web/usr", "/srv/web-data")
	h.Must(t, "mount", "--bind", "-o", "ro", "/usr", "/var/lib/machines/web/usr")
	t.Cleanup(func() { h.Run(t, 30*time.Second, "umount", "/var/lib/machines/web/usr") })
	serve, err := os.ReadFile(helperBinary(t, "portserve", "github.com/sockspawn/sockspawn/cmd/sockspawn/e2e/testdata/portserve") + "/portserve")
	if err != nil {
		t.Fatal(err)
	}
	h.WriteFile(t, "/srv/web-data/portserve", string(serve))
	h.Must(t, "chmod", "755", "/srv/web-data/portserve")
	h.WriteFile(t, "/etc/systemd/nspawn/web.nspawn", `[Exec]
Parameters=systemd.firstboot=off
[Files]
Volatile=yes
BindReadOnly=/srv/web-data:/data
[Network]
Port=8080:80
`) // no Boot= or VirtualEthernet=: nspawn@'s command line gave both
	if cat := h.Must(t, "sockspawn", "cat", name); !strings.Contains(cat, "# default, as under systemd-nspawn@.service\nNetworkVeth=yes\n") ||
		!strings.Contains(cat, "# default, as under systemd-nspawn@.service\nBoot=yes\n") {
		t.Errorf("sockspawn cat %s does not show nspawn@'s defaults:\n%s", name, cat)
	}
	if r := h.Run(t, bootTimeout, "systemctl", "start", unit); r.Status != 0 {
		t.Fatalf("systemctl start %s: %s\njournal:\n%s", unit, r, tail(h.Journal(t, unit, ""), 30))
	}
	m := h.Machine(t, name)
	if r := m.Enter(60*time.Second, "/bin/sh", "-c", "systemctl start systemd-networkd.service && systemd-run --unit=page --quiet /data/portserve 80"); r.Status != 0 {
		t.Fatalf("inside: %s", r)
	}
	var last string
	hostWaitUntil(t, 90*time.Second, "the page through 127.0.0.1:8080 once DHCP gave the container an address", func() (bool, string) {
		r := h.Run(t, 20*time.Second, "curl", "-sS", "-m", "5", "http://127.0.0.1:8080/")
		last = r.Stdout + r.Stderr
		return r.Status == 0 && strings.HasPrefix(r.Stdout, "hello from web port 80"), last
	})
	addrs := m.Enter(10*time.Second, "ip", "-4", "-o", "addr", "show", "dev", "host0").Stdout
	t.Logf("the container's IPv4 addresses (DHCP): %s; the page: %s", strings.TrimSpace(addrs), strings.TrimSpace(last))
	if !strings.Contains(addrs, "dynamic") {
		t.Errorf("host0 has no address from DHCP: %q", addrs)
	}
	h.Must(t, "systemctl", "stop", unit)
	hostWantNoForwarding(t, h, "after systemctl stop")
}
