//go:build linux

package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/payload"
)

// TestPrivateNetwork: --private-network gives the container only a
// loopback device, up, a writable /proc/sys/net and CAP_NET_ADMIN.
func TestPrivateNetwork(t *testing.T) {
	needRoot(t)
	t.Parallel()
	m := startMachine(t, runSpec{Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe", "--private-network", "--",
		"/bin/sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags; " +
			"echo 1 > /proc/sys/net/ipv4/conf/lo/forwarding && echo net-writable; grep CapBnd /proc/self/status"}})
	if status := m.Wait(30 * time.Second); status != 0 {
		t.Fatalf("exit status %d; stderr: %s", status, m.Stderr.String())
	}
	out := m.Stdout.String()
	lines := lines(out)
	if len(lines) < 5 || lines[0] != "lo" {
		t.Fatalf("network devices inside: %q, want only lo", out)
	}
	if flags := lines[2]; !strings.HasSuffix(flags, "9") { // IFF_UP|IFF_LOOPBACK = 0x9
		t.Errorf("lo flags %s: not up", flags)
	}
	if !strings.Contains(out, "net-writable") {
		t.Errorf("/proc/sys/net is not writable with a private network:\n%s", out)
	}
	var bnd uint64
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			fmt.Sscanf(strings.TrimSpace(v), "%x", &bnd)
		}
	}
	if bnd&(1<<12) == 0 {
		t.Errorf("CapBnd %x lacks CAP_NET_ADMIN with a private network", bnd)
	}
}

// TestNetworkVeth: -n gives the container host0 and the host ve-NAME,
// with MACs derived from the machine name, and traffic crosses it
// (link-local addresses the test assigns itself).
func TestNetworkVeth(t *testing.T) {
	needRoot(t)
	t.Parallel()
	if _, err := exec.LookPath("ip"); err != nil {
		missing(t, "ip (iproute2)")
	}
	name := newMachineName(t)
	hostLink := payload.HostLink(name)
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	script := fmt.Sprintf("cat /sys/class/net/host0/address; ip addr add 169.254.77.2/24 dev host0 && ip link set host0 up && "+
		"for i in $(seq 100); do (echo hello-from-container > /dev/tcp/169.254.77.1/%d) 2>/dev/null && exit 0; sleep 0.1; done; exit 1", port)
	m := startMachine(t, runSpec{Name: name, Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe", "-n", "--", "/bin/bash", "-c", script}})

	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := exec.Command("ip", "link", "show", hostLink).Run(); err == nil {
			break
		}
		if time.Now().After(deadline) || m.hasExited() {
			t.Fatalf("no %s on the host; stderr: %s", hostLink, m.Stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if mac, err := os.ReadFile("/sys/class/net/" + hostLink + "/address"); err != nil || strings.TrimSpace(string(mac)) != payload.LinkMAC(name, "host").String() {
		t.Errorf("MAC of %s = %q, %v; want %s", hostLink, mac, err, payload.LinkMAC(name, "host"))
	}
	if out, err := exec.Command("ip", "addr", "add", "169.254.77.1/24", "dev", hostLink).CombinedOutput(); err != nil {
		t.Fatalf("ip addr add: %v %s", err, out)
	}
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		l, _ := bufio.NewReader(c).ReadString('\n')
		got <- strings.TrimSpace(l)
	}()
	select {
	case l := <-got:
		if l != "hello-from-container" {
			t.Errorf("over the veth the host got %q", l)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("nothing reached the host over the veth; stderr: %s", m.Stderr.String())
	}
	if status := m.Wait(30 * time.Second); status != 0 {
		t.Errorf("exit status %d; stderr: %s", status, m.Stderr.String())
	}
	if mac := strings.TrimSpace(firstLine(m.Stdout.String())); mac != payload.LinkMAC(name, "container").String() {
		t.Errorf("MAC of host0 inside = %q, want %s", mac, payload.LinkMAC(name, "container"))
	}
	// The pair goes away with the container's network namespace.
	if err := exec.Command("ip", "link", "show", hostLink).Run(); err == nil {
		t.Errorf("%s is still on the host after the container ended", hostLink)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
