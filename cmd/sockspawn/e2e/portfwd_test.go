//go:build linux

package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/sockspawn/sockspawn/payload"
)

// portNet is the addresses one port test uses: a /24 and a /64 of its own
// between the host and the container, and another pair between the host
// and a client network namespace.
type portNet struct {
	n                  byte
	ctr4, host4        string // container and host on the veth
	ctr6, host6        string
	client4, clientGW4 string // client namespace and its host side
	client6, clientGW6 string
}

func newPortNet(t *testing.T) portNet {
	b := make([]byte, 1)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	n := b[0]
	return portNet{n: n,
		ctr4: fmt.Sprintf("10.231.%d.2", n), host4: fmt.Sprintf("10.231.%d.1", n),
		ctr6: fmt.Sprintf("fd53:231:%x::2", n), host6: fmt.Sprintf("fd53:231:%x::1", n),
		client4: fmt.Sprintf("10.232.%d.2", n), clientGW4: fmt.Sprintf("10.232.%d.1", n),
		client6: fmt.Sprintf("fd53:232:%x::2", n), clientGW6: fmt.Sprintf("fd53:232:%x::1", n),
	}
}

// freePort returns a TCP and UDP port that nothing on the host uses now.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf(":%d", p))
		l.Close()
		if err == nil {
			u.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// containerScript sets the container's addresses and runs portserve on
// port 80 inside.
func (pn portNet) containerScript() string {
	return fmt.Sprintf("ip addr add %s/24 dev host0 && ip -6 addr add %s/64 dev host0 nodad && ip link set host0 up && "+
		"ip route replace default via %s && ip -6 route replace default via %s && exec /opt/portserve/portserve 80",
		pn.ctr4, pn.ctr6, pn.host4, pn.host6)
}

// mustRun runs a command on the host and fails t if it fails.
func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// waitFor polls f until it returns nil, the machine exits, or the
// deadline (generous: it only bounds a hang) passes.
func waitFor(t *testing.T, m *machine, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if m != nil && m.hasExited() {
			t.Fatalf("%s: the machine exited (status %d): %v\nstderr: %s", what, m.exitStatus(), err, m.Stderr.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// httpGet fetches url from the host.
func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	r, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return string(b), err
}

// clientNamespace makes a network namespace with a veth to the host, the
// addresses of pn's client pair, and forwarding on the host's side (only
// there: the host's own setting stays), and returns its name. Its cleanup
// removes it.
func clientNamespace(t *testing.T, pn portNet) string {
	t.Helper()
	ns := fmt.Sprintf("e2ecl-%02x%x", pn.n, time.Now().UnixNano()&0xffff)
	hostSide, inside := "c"+ns[6:], "i"+ns[6:]
	mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", hostSide).Run()
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v %s", ns, err, out)
		}
	})
	mustRun(t, "ip", "link", "add", hostSide, "type", "veth", "peer", "name", inside, "netns", ns)
	mustRun(t, "ip", "addr", "add", pn.clientGW4+"/24", "dev", hostSide)
	mustRun(t, "ip", "-6", "addr", "add", pn.clientGW6+"/64", "dev", hostSide, "nodad")
	mustRun(t, "ip", "link", "set", hostSide, "up")
	for _, knob := range []string{"ipv4/conf/%s/forwarding", "ipv6/conf/%s/force_forwarding"} {
		if err := os.WriteFile(filepath.Join("/proc/sys/net", fmt.Sprintf(knob, hostSide)), []byte("1"), 0o644); err != nil {
			t.Fatalf("enable forwarding on %s: %v", hostSide, err)
		}
	}
	in := []string{"ip", "netns", "exec", ns, "ip"}
	mustRun(t, append(in, "addr", "add", pn.client4+"/24", "dev", inside)...)
	mustRun(t, append(in, "-6", "addr", "add", pn.client6+"/64", "dev", inside, "nodad")...)
	mustRun(t, append(in, "link", "set", inside, "up")...)
	mustRun(t, append(in, "link", "set", "lo", "up")...)
	mustRun(t, append(in, "route", "add", "default", "via", pn.clientGW4)...)
	mustRun(t, append(in, "-6", "route", "add", "default", "via", pn.clientGW6)...)
	return ns
}

// nsCurl fetches url from network namespace ns.
func nsCurl(ns, url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "curl", "-sS", "-m", "5", "-g", url).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("curl %s in %s: %v: %s", url, ns, err, out)
	}
	return string(out), nil
}

// machineChain returns the rules' tags of machine name's chain in
// sockspawn's table, and whether the chain exists.
func machineChain(t *testing.T, name string) ([]string, bool) {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatalf("list nftables chains: %v", err)
	}
	for _, ch := range chains {
		if ch.Table.Name == payload.ForwardTable && ch.Name == payload.MachineChain(name) {
			rules, err := c.GetRules(ch.Table, ch)
			if err != nil {
				t.Fatal(err)
			}
			var tags []string
			for _, r := range rules {
				tags = append(tags, string(r.UserData))
			}
			return tags, true
		}
	}
	return nil, false
}

// sharedRulesOf counts the rules of machine name in the shared chains of
// sockspawn's table.
func sharedRulesOf(t *testing.T, name string) int {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := c.ListTableOfFamily(payload.ForwardTable, nftables.TableFamilyINet)
	if err != nil {
		return 0
	}
	n := 0
	for _, base := range []string{"prerouting", "output", "postrouting"} {
		rules, _ := c.GetRules(tbl, &nftables.Chain{Name: base, Table: tbl})
		for _, r := range rules {
			if strings.Contains(string(r.UserData), " machine="+name+" ") {
				n++
			}
		}
	}
	return n
}

// checkNetworkLeftovers fails t for anything of machine name left in the
// host's network: its nftables chain or rules, its veth.
func checkNetworkLeftovers(t *testing.T, name string) {
	t.Helper()
	if _, ok := machineChain(t, name); ok {
		t.Errorf("leftover nftables chain %s in table inet %s", payload.MachineChain(name), payload.ForwardTable)
	}
	if n := sharedRulesOf(t, name); n > 0 {
		t.Errorf("%d leftover rules of %s in the shared chains of table inet %s", n, name, payload.ForwardTable)
	}
	for _, l := range []string{payload.HostLinkFor(name, ""), payload.HostLinkFor(name, "br")} {
		if _, err := net.InterfaceByName(l); err == nil {
			t.Errorf("leftover interface %s", l)
		}
	}
}

func needPortTools(t *testing.T) {
	t.Helper()
	needRoot(t)
	for _, tool := range []string{"ip", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, tool)
		}
	}
}

// startPortMachine starts a machine with a veth, pn's addresses, portserve
// on port 80 and the given extra options, and waits until the host's
// side of its veth has pn's host addresses.
func startPortMachine(t *testing.T, pn portNet, extra ...string) *machine {
	t.Helper()
	dir := helperBinary(t, "portserve", "github.com/sockspawn/sockspawn/cmd/sockspawn/e2e/testdata/portserve")
	args := []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe", "-n", "--bind-ro=" + dir + ":/opt/portserve"}
	args = append(args, extra...)
	args = append(args, "--", "/bin/sh", "-c", pn.containerScript())
	name := newMachineName(t)
	// Registered first, so run after the machine's own cleanup stops it.
	t.Cleanup(func() { checkNetworkLeftovers(t, name) })
	m := startMachine(t, runSpec{Name: name, Args: args})
	link := payload.HostLink(m.Name)
	waitFor(t, m, "the host's side of the veth", func() error {
		_, err := net.InterfaceByName(link)
		return err
	})
	mustRun(t, "ip", "addr", "add", pn.host4+"/24", "dev", link)
	mustRun(t, "ip", "-6", "addr", "add", pn.host6+"/64", "dev", link, "nodad")
	return m
}

// TestPortForward: --port forwards a host port to the container, over
// TCP and UDP, IPv4 and IPv6, from the host's loopback, the host's own
// addresses and another network namespace; a second machine asking for
// the port is refused, naming the first; stopping removes the rules.
func TestPortForward(t *testing.T) {
	needPortTools(t)
	t.Parallel()
	pn := newPortNet(t)
	port := freePort(t)
	m := startPortMachine(t, pn, fmt.Sprintf("--port=%d:80", port), fmt.Sprintf("--port=udp:%d:80", port))
	want := "hello from " + m.Name + " port 80"

	loop := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitFor(t, m, "GET "+loop, func() error {
		body, err := httpGet(loop)
		if err == nil && !strings.HasPrefix(body, want) {
			return fmt.Errorf("got %q, want %q", body, want)
		}
		return err
	})
	for _, url := range []string{
		fmt.Sprintf("http://%s:%d/", pn.host4, port),
		fmt.Sprintf("http://[%s]:%d/", pn.host6, port),
		fmt.Sprintf("http://[::1]:%d/", port), // relayed by the supervisor
	} {
		if body, err := httpGet(url); err != nil || !strings.HasPrefix(body, want) {
			t.Errorf("GET %s from the host: %q, %v", url, body, err)
		}
	}
	// UDP through the host's loopback.
	u, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	_ = u.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := u.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 200)
	if n, err := u.Read(buf); err != nil || string(buf[:n]) != m.Name+" ping" {
		t.Errorf("UDP echo through 127.0.0.1:%d: %q, %v", port, buf[:n], err)
	}
	// Another network namespace, through the host's address on its link.
	ns := clientNamespace(t, pn)
	for _, url := range []string{
		fmt.Sprintf("http://%s:%d/", pn.clientGW4, port),
		fmt.Sprintf("http://[%s]:%d/", pn.clientGW6, port),
	} {
		body, err := nsCurl(ns, url)
		if err != nil || !strings.HasPrefix(body, want) {
			t.Errorf("GET %s from namespace %s: %q, %v", url, ns, body, err)
		}
		if !strings.Contains(body, "client "+pn.client4) && !strings.Contains(body, "client ["+pn.client6+"]") {
			t.Errorf("GET %s: the container saw another client than %s / %s: %q", url, pn.client4, pn.client6, body)
		}
	}

	// A second machine asking for the same host port is refused, with
	// nothing left of it.
	second := startMachine(t, runSpec{Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe", "-n",
		fmt.Sprintf("--port=%d", port), "--", "/bin/true"}})
	if status := second.Wait(60 * time.Second); status == 0 {
		t.Errorf("a second machine forwarding host port %d started", port)
	}
	if msg := second.Stderr.String(); !strings.Contains(msg, fmt.Sprintf("host port tcp/%d is already forwarded to machine %s", port, m.Name)) {
		t.Errorf("the second machine's refusal does not name the first: %q", msg)
	}
	checkNetworkLeftovers(t, second.Name)

	if tags, ok := machineChain(t, m.Name); !ok || len(tags) != 5 {
		t.Errorf("chain of %s: %q (exists %v); want the ::1 return and 2 ports x 2 families", m.Name, tags, ok)
	}
	m.Signal(syscall.SIGTERM)
	if status := m.Wait(60 * time.Second); status != 0 && status != 143 {
		t.Logf("exit status %d", status)
	}
	checkNetworkLeftovers(t, m.Name)
	if body, err := httpGet(loop); err == nil {
		t.Errorf("GET %s answers after the machine stopped: %q", loop, body)
	}
}

// TestPortInUse: a host port a program on the host uses is refused
// before anything is made.
func TestPortInUse(t *testing.T) {
	needPortTools(t)
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	m := startMachine(t, runSpec{Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe", "-n",
		fmt.Sprintf("--port=%d:80", port), "--", "/bin/true"}})
	if status := m.Wait(60 * time.Second); status == 0 {
		t.Fatalf("a machine forwarding host port %d, which is in use, started", port)
	}
	if msg := m.Stderr.String(); !strings.Contains(msg, fmt.Sprintf("host port tcp/%d is in use on the host", port)) {
		t.Errorf("refusal: %q", msg)
	}
	checkNetworkLeftovers(t, m.Name)
}

// TestPortForwardKilled: the rules of a supervisor killed with SIGKILL,
// which cannot remove them, go when the next machine forwards ports.
//
// Not parallel: another test's machine forwarding ports would remove the
// rules first.
func TestPortForwardKilled(t *testing.T) {
	needPortTools(t)
	pn := newPortNet(t)
	m := startPortMachine(t, pn, fmt.Sprintf("--port=%d:80", freePort(t)))
	waitFor(t, m, "the machine's DNAT rules", func() error {
		if tags, _ := machineChain(t, m.Name); len(tags) < 3 || !strings.Contains(m.Stdout.String(), "listening") {
			return fmt.Errorf("chain %q, payload output %q", tags, m.Stdout.String())
		}
		return nil
	})
	m.Signal(syscall.SIGKILL)
	m.Wait(30 * time.Second)
	// The container dies with its supervisor (its stage has a parent
	// death signal); its cgroups and veth go once the kernel is done.
	waitFor(t, nil, "the killed machine's container to go", func() error {
		removeLeftovers(t, m.Name)
		if cgs := findCgroups(m.Name); len(cgs) > 0 {
			return fmt.Errorf("cgroups %v", cgs)
		}
		if _, err := net.InterfaceByName(payload.HostLink(m.Name)); err == nil {
			return fmt.Errorf("%s is still there", payload.HostLink(m.Name))
		}
		return nil
	})
	if _, ok := machineChain(t, m.Name); !ok {
		t.Fatalf("the chain of %s went with SIGKILL: this test no longer tests anything", m.Name)
	}
	pn2 := newPortNet(t)
	pn2.n ^= 0x80
	next := startPortMachine(t, newPortNetFrom(pn2), fmt.Sprintf("--port=%d:80", freePort(t)))
	waitFor(t, next, "the killed machine's rules to go", func() error {
		if _, ok := machineChain(t, m.Name); ok || sharedRulesOf(t, m.Name) > 0 {
			return fmt.Errorf("chain %s and its jumps are still there", payload.MachineChain(m.Name))
		}
		return nil
	})
}

// newPortNetFrom recomputes the addresses of pn for its number.
func newPortNetFrom(pn portNet) portNet {
	n := pn.n
	return portNet{n: n,
		ctr4: fmt.Sprintf("10.231.%d.2", n), host4: fmt.Sprintf("10.231.%d.1", n),
		ctr6: fmt.Sprintf("fd53:231:%x::2", n), host6: fmt.Sprintf("fd53:231:%x::1", n),
		client4: fmt.Sprintf("10.232.%d.2", n), clientGW4: fmt.Sprintf("10.232.%d.1", n),
		client6: fmt.Sprintf("fd53:232:%x::2", n), clientGW6: fmt.Sprintf("fd53:232:%x::1", n),
	}
}
