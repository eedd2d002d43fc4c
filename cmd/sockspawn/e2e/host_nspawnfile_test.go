//go:build linux

package e2e

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/sockspawn/sockspawn/payload"
)

// hostNspawnFile is a settings file as an administrator writes it for
// systemd-nspawn@web.service: what TestHostNspawnFile boots unchanged.
const hostNspawnFile = `# /etc/systemd/nspawn/web.nspawn, written for systemd-nspawn@web.service
[Exec]
Boot=yes
Parameters=systemd.firstboot=off
Environment=GREETING=hello "MOTTO=moved without rewriting"

[Files]
Volatile=yes
Bind=/srv/web-data:/data
BindReadOnly=/srv/web-static:/static

[Network]
VirtualEthernet=yes
Port=tcp:8080:80
`

// TestHostNspawnFile: a machine described only by a .nspawn file written
// for systemd-nspawn@.service (and its image in /var/lib/machines) runs
// unchanged under container@NAME.service. Each setting is checked from
// inside; a page served inside is fetched through the forwarded port from
// the host's loopback and from another network namespace; after stop no
// nftables rule and no veth is left. The nspawn host has a private
// network, so none of this touches this machine's network.
func TestHostNspawnFile(t *testing.T) {
	needSystemd(t)
	t.Parallel()
	h := startNspawnHostWith(t, "--private-network")
	const name = "web"
	unit := "container@" + name + ".service"
	hostStopUnits(t, h, unit, "container@"+name+".socket")

	// The image: /var/lib/machines/web with the host's /usr, which is all
	// that Volatile=yes uses of it.
	h.Must(t, "mkdir", "-p", "/var/lib/machines/web/usr", "/srv/web-data", "/srv/web-static")
	h.Must(t, "mount", "--bind", "-o", "ro", "/usr", "/var/lib/machines/web/usr")
	t.Cleanup(func() { h.Run(t, 30*time.Second, "umount", "/var/lib/machines/web/usr") })
	h.WriteFile(t, "/srv/web-static/index", "static page\n")
	h.WriteFile(t, "/etc/systemd/nspawn/web.nspawn", hostNspawnFile)
	serve, err := os.ReadFile(helperBinary(t, "portserve", "github.com/sockspawn/sockspawn/cmd/sockspawn/e2e/testdata/portserve") + "/portserve")
	if err != nil {
		t.Fatal(err)
	}
	h.WriteFile(t, "/srv/web-data/portserve", string(serve))
	h.Must(t, "chmod", "755", "/srv/web-data/portserve")

	// sockspawn cat names the .nspawn file's line for each value.
	cat := h.Must(t, "sockspawn", "cat", name)
	for _, want := range []string{
		"# from /etc/systemd/nspawn/web.nspawn:3\nBoot=yes\n",
		"# from /etc/systemd/nspawn/web.nspawn:8\nVolatile=yes\n",
		"# from /etc/systemd/nspawn/web.nspawn:9\nBind=/srv/web-data:/data\n",
		"# from /etc/systemd/nspawn/web.nspawn:10\nBindReadOnly=/srv/web-static:/static\n",
		"# from /etc/systemd/nspawn/web.nspawn:5\nEnvironment=MOTTO=moved without rewriting\n",
		"# from /etc/systemd/nspawn/web.nspawn:13\nNetworkVeth=yes\n",
		"# from /etc/systemd/nspawn/web.nspawn:14\nPort=tcp:8080:80\n",
		"# default\nDirectory=/var/lib/machines/web\n",
	} {
		if !strings.Contains(cat, want) {
			t.Errorf("sockspawn cat %s lacks %q:\n%s", name, want, cat)
		}
	}

	// A file next to the image, as an image vendor ships it, is not
	// trusted: its privileged settings are ignored, with a notice, until
	// the administrator trusts it.
	h.Must(t, "mkdir", "-p", "/var/lib/machines/vendor")
	h.WriteFile(t, "/var/lib/machines/vendor.nspawn", "[Exec]\nHostname=from-vendor\n[Files]\nBind=/etc:/host-etc\n")
	cat = h.Must(t, "sockspawn", "cat", "vendor")
	if !strings.Contains(cat, "# from /var/lib/machines/vendor.nspawn:2\nHostname=from-vendor\n") || strings.Contains(cat, "\nBind=") ||
		!strings.Contains(cat, "# /var/lib/machines/vendor.nspawn:4: ignoring Bind=: /var/lib/machines/vendor.nspawn is not trusted") {
		t.Errorf("sockspawn cat vendor, with an untrusted .nspawn file:\n%s", cat)
	}
	h.WriteFile(t, "/etc/sockspawn/vendor.conf", "[Container]\nSettings=trusted\n")
	if cat = h.Must(t, "sockspawn", "cat", "vendor"); !strings.Contains(cat, "# from /var/lib/machines/vendor.nspawn:4\nBind=/etc:/host-etc\n") {
		t.Errorf("sockspawn cat vendor, with Settings=trusted in vendor.conf:\n%s", cat)
	}

	// A key sockspawn does not support, and an unknown one, are refused
	// naming file, line and key, by check (what container@.socket runs
	// first) as by the service.
	// In this order: the service below starts with the last one.
	for _, c := range []struct{ file, want string }{
		{"[Exec]\nBoot=yes\nUser=nobody\n", "/etc/systemd/nspawn/bad.nspawn:3: User= in [Exec] is not supported by sockspawn"},
		{"[Network]\nPorts=80\n", `/etc/systemd/nspawn/bad.nspawn:2: unknown key "Ports" in [Network]`},
	} {
		file, want := c.file, c.want
		h.WriteFile(t, "/etc/systemd/nspawn/bad.nspawn", file)
		if r := h.Run(t, 30*time.Second, "sockspawn", "check", "bad"); r.Status == 0 || !strings.Contains(r.Stderr, want) {
			t.Errorf("sockspawn check bad with %q: %s\nwant an error containing %q", file, r, want)
		}
	}
	// The map's order is random: the service gets the unknown key.
	h.WriteFile(t, "/etc/systemd/nspawn/bad.nspawn", "[Network]\nPorts=80\n")
	if r := h.Run(t, bootTimeout, "systemctl", "start", "container@bad.service"); r.Status == 0 {
		t.Errorf("container@bad.service started with an unknown key in its .nspawn file")
	} else if j := h.Journal(t, "container@bad.service", ""); !strings.Contains(j, `bad.nspawn:2: unknown key "Ports" in [Network]`) {
		t.Errorf("the journal of container@bad.service does not name the culprit:\n%s", tail(j, 20))
	}
	h.Run(t, 30*time.Second, "systemctl", "reset-failed", "container@bad.service", "container@bad.socket")

	if r := h.Run(t, bootTimeout, "systemctl", "start", unit); r.Status != 0 {
		t.Fatalf("systemctl start %s: %s\njournal:\n%s", unit, r, tail(h.Journal(t, unit, ""), 30))
	}
	m := h.Machine(t, name) // its init is PID 1 of its own: Boot=yes
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", m.Init)); strings.TrimSpace(string(comm)) != "systemd" {
		t.Errorf("the container's PID 1 is %q, want systemd (Boot=yes)", comm)
	}
	inside := func(script string) string {
		t.Helper()
		r := m.Enter(30*time.Second, "/bin/sh", "-c", script)
		if r.Status != 0 {
			t.Errorf("inside: %s: %s", script, r)
		}
		return strings.TrimSpace(r.Stdout)
	}
	env := inside("tr '\\0' '\\n' < /proc/1/environ")
	for _, want := range []string{"GREETING=hello", "MOTTO=moved without rewriting"} {
		if !strings.Contains("\n"+env+"\n", "\n"+want+"\n") {
			t.Errorf("the environment of PID 1 lacks %s:\n%s", want, env)
		}
	}
	// A private user range by default (nspawn@'s -U): the host's root
	// owns /srv/web-data, and root inside, an unprivileged UID on the
	// host, gets the permissions of others on it; opened to others (as
	// the README says), it may write there, and what it writes belongs
	// to the machine's base UID on the host.
	if r := m.Enter(30*time.Second, "/bin/sh", "-c", "echo written > /data/from-inside"); r.Status == 0 || !strings.Contains(r.Stderr, "Permission denied") {
		t.Errorf("root inside wrote to a directory only the host's root may write, bound in with a private user range: %s", r)
	}
	h.Must(t, "chmod", "1777", "/srv/web-data")
	if got := inside("echo written > /data/from-inside && cat /static/index"); got != "static page" {
		t.Errorf("/static/index inside: %q", got)
	}
	var st syscall.Stat_t
	if b, err := os.ReadFile(h.Path("/srv/web-data/from-inside")); err != nil || string(b) != "written\n" {
		t.Errorf("a file written to /data inside is %q, %v on the host", b, err)
	} else if _, base, _ := uidMapOf(t, m.Init); syscall.Stat(h.Path("/srv/web-data/from-inside"), &st) != nil || uint64(st.Uid) != base || base == 0 {
		t.Errorf("a file root wrote to /data inside is owned by UID %d on the host, want the machine's base UID %d", st.Uid, base)
	}
	if r := m.Enter(30*time.Second, "/bin/sh", "-c", "touch /static/nope"); r.Status == 0 || !strings.Contains(r.Stderr, "Read-only file system") {
		t.Errorf("touch /static/nope inside: %s; want Read-only file system", r)
	}
	if got := inside("tr '\\0' ' ' < /proc/1/cmdline"); !strings.Contains(got, " systemd.firstboot=off") {
		t.Errorf("the command line of PID 1 is %q, want Parameters= on it", got)
	}
	if got := inside("findmnt -no FSTYPE /"); got != "tmpfs" {
		t.Errorf("the container's root is %q, want tmpfs (Volatile=yes)", got)
	}

	// The network: addresses as systemd-networkd would give them (the
	// nspawn host runs none), and the page behind port 80. The routes
	// are replaced, not added: networkd in the container may have made a
	// default route of its own meanwhile ("RTNETLINK answers: File
	// exists" failed a run).
	inside("ip addr add 10.99.0.2/24 dev host0 && ip -6 addr add fd99::2/64 dev host0 nodad && ip link set host0 up && " +
		"ip route replace default via 10.99.0.1 && ip -6 route replace default via fd99::1 && " +
		"systemd-run --unit=page --quiet /data/portserve 80")
	h.Must(t, "ip", "addr", "add", "10.99.0.1/24", "dev", "ve-web")
	h.Must(t, "ip", "-6", "addr", "add", "fd99::1/64", "dev", "ve-web", "nodad")
	want := "hello from web port 80"
	curl := func(ns, url string) (string, error) {
		args := []string{"curl", "-sS", "-m", "5", "-g", url}
		if ns != "" {
			args = append([]string{"ip", "netns", "exec", ns}, args...)
		}
		r := h.Run(t, 20*time.Second, args...)
		if r.Status != 0 {
			return "", fmt.Errorf("%s: %s", strings.Join(args, " "), r)
		}
		return r.Stdout, nil
	}
	hostWaitUntil(t, 30*time.Second, "the page through 127.0.0.1:8080", func() (bool, string) {
		body, err := curl("", "http://127.0.0.1:8080/")
		return err == nil && strings.HasPrefix(body, want), fmt.Sprintf("%q %v", body, err)
	})
	// Another network namespace of the nspawn host, through the host's
	// address on its link; forwarding is the nspawn host's own business.
	h.Must(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
	h.Must(t, "ip", "netns", "add", "client")
	t.Cleanup(func() { h.Run(t, 30*time.Second, "ip", "netns", "del", "client") })
	h.Must(t, "ip", "link", "add", "to-client", "type", "veth", "peer", "name", "eth0", "netns", "client")
	h.Must(t, "ip", "addr", "add", "10.98.0.1/24", "dev", "to-client")
	h.Must(t, "ip", "-6", "addr", "add", "fd98::1/64", "dev", "to-client", "nodad")
	h.Must(t, "ip", "link", "set", "to-client", "up")
	h.Must(t, "ip", "-n", "client", "addr", "add", "10.98.0.2/24", "dev", "eth0")
	h.Must(t, "ip", "-n", "client", "-6", "addr", "add", "fd98::2/64", "dev", "eth0", "nodad")
	h.Must(t, "ip", "-n", "client", "link", "set", "eth0", "up")
	h.Must(t, "ip", "-n", "client", "route", "add", "default", "via", "10.98.0.1")
	h.Must(t, "ip", "-n", "client", "-6", "route", "add", "default", "via", "fd98::1")
	if body, err := curl("", "http://[::1]:8080/"); err != nil || !strings.HasPrefix(body, want) {
		t.Errorf("GET http://[::1]:8080/ in the nspawn host: %q, %v", body, err)
	}
	for _, url := range []string{"http://10.98.0.1:8080/", "http://[fd98::1]:8080/"} {
		if body, err := curl("client", url); err != nil || !strings.HasPrefix(body, want) {
			t.Errorf("GET %s from another namespace: %q, %v", url, body, err)
		}
	}

	// After stop: no rule, no chain, no table, no veth.
	h.Must(t, "systemctl", "stop", unit)
	hostWantNoForwarding(t, h, "after systemctl stop")
	if body, err := curl("", "http://127.0.0.1:8080/"); err == nil {
		t.Errorf("127.0.0.1:8080 still answers after stop: %q", body)
	}

	// A supervisor killed with SIGKILL cannot clean up: the unit's
	// ExecStopPost= does.
	if r := h.Run(t, bootTimeout, "systemctl", "start", unit); r.Status != 0 {
		t.Fatalf("systemctl start %s again: %s", unit, r)
	}
	if !hostHasForwardTable(t, h) {
		t.Fatalf("no table %s while the machine runs: the rest of this test would prove nothing", payload.ForwardTable)
	}
	h.Must(t, "systemctl", "kill", "--kill-whom=main", "--signal=SIGKILL", unit)
	hostWaitUntil(t, 60*time.Second, unit+" to stop after SIGKILL", func() (bool, string) {
		p := h.Show(t, unit, "ActiveState")
		return p["ActiveState"] == "inactive" || p["ActiveState"] == "failed", p["ActiveState"]
	})
	hostWantNoForwarding(t, h, "after SIGKILL to the supervisor")
}

// hostHasForwardTable reports whether the nspawn host's network namespace
// has sockspawn's nftables table.
func hostHasForwardTable(t *testing.T, h *nspawnHost) bool {
	t.Helper()
	nsf, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", h.Leader))
	if err != nil {
		t.Fatal(err)
	}
	defer nsf.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(nsf.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTables()
	if err != nil {
		t.Fatalf("list the nspawn host's nftables tables: %v", err)
	}
	for _, tb := range tables {
		if tb.Name == payload.ForwardTable {
			return true
		}
	}
	return false
}

// hostWantNoForwarding fails t if the nspawn host still has ve-web or
// sockspawn's nftables table (web was the only machine forwarding ports).
func hostWantNoForwarding(t *testing.T, h *nspawnHost, when string) {
	t.Helper()
	if r := h.Run(t, 10*time.Second, "ip", "link", "show", "ve-web"); r.Status == 0 {
		t.Errorf("ve-web is left %s", when)
	}
	if hostHasForwardTable(t, h) {
		t.Errorf("table %s is left in the nspawn host %s", payload.ForwardTable, when)
	}
}
