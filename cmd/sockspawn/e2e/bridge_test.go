//go:build linux

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockspawn/sockspawn/payload"
)

// masterOf names the bridge link is attached to, or "".
func masterOf(link string) string {
	l, err := os.Readlink(filepath.Join("/sys/class/net", link, "master"))
	if err != nil {
		return ""
	}
	return filepath.Base(l)
}

func isBridge(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name, "bridge"))
	return err == nil
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// startBridged starts a machine that waits, with extra network options,
// and returns it once its host link (vb-NAME) is attached to a bridge.
func startBridged(t *testing.T, extra ...string) *machine {
	t.Helper()
	name := newMachineName(t)
	t.Cleanup(func() { checkNetworkLeftovers(t, name) })
	args := append([]string{"-q", "-D", "/", "--volatile=yes", "--console=pipe"}, extra...)
	args = append(args, "--", "/bin/sh", "-c", "ip link set host0 up; exec sleep 600")
	m := startMachine(t, runSpec{Name: name, Args: args, Notify: true})
	link := payload.HostLinkFor(name, "bridge")
	waitFor(t, m, "the host's side of the veth, "+link+", on a bridge", func() error {
		if _, err := net.InterfaceByName(link); err != nil {
			return err
		}
		if masterOf(link) == "" {
			return fmt.Errorf("%s is on no bridge", link)
		}
		return nil
	})
	return m
}

// stopMachine stops m with SIGTERM and waits for it.
func stopMachine(t *testing.T, m *machine) {
	t.Helper()
	m.Signal(syscall.SIGTERM)
	m.Wait(60 * time.Second)
}

// TestNetworkBridge: --network-bridge attaches vb-NAME to an existing
// bridge, which stays when the machine leaves; a bridge the host lacks,
// or an interface that is not a bridge, is refused with nothing made.
func TestNetworkBridge(t *testing.T) {
	needPortTools(t)
	t.Parallel()
	br := "br-e2e" + randomHex(t, 3)
	mustRun(t, "ip", "link", "add", br, "type", "bridge")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", br).Run() })

	m := startBridged(t, "--network-bridge="+br)
	link := payload.HostLinkFor(m.Name, br)
	if got := masterOf(link); got != br {
		t.Errorf("%s is attached to %q, want %s", link, got, br)
	}
	stopMachine(t, m)
	checkNetworkLeftovers(t, m.Name)
	if !isBridge(br) {
		t.Errorf("the administrator's bridge %s went with the machine", br)
	}

	for _, tc := range []struct{ bridge, want string }{
		{"br-none" + randomHex(t, 2), "the host has no interface"},
		{"lo", "lo is a device interface, not a bridge"},
	} {
		bad := startMachine(t, runSpec{Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe",
			"--network-bridge=" + tc.bridge, "--", "/bin/true"}})
		if status := bad.Wait(60 * time.Second); status == 0 {
			t.Errorf("--network-bridge=%s: the machine started", tc.bridge)
		}
		if msg := bad.Stderr.String(); !strings.Contains(msg, "--network-bridge="+tc.bridge) || !strings.Contains(msg, tc.want) {
			t.Errorf("--network-bridge=%s: error %q, want one containing %q", tc.bridge, msg, tc.want)
		}
		checkNetworkLeftovers(t, bad.Name)
	}
}

// TestNetworkZone: machines of one zone share the bridge vz-ZONE, made
// with the first and removed with the last; they reach each other over
// it, and a port forwarded from a zone machine answers on the host's
// loopback.
func TestNetworkZone(t *testing.T) {
	needPortTools(t)
	t.Parallel()
	zone := "e2e" + randomHex(t, 4)
	bridge := "vz-" + zone
	t.Cleanup(func() {
		if isBridge(bridge) {
			t.Errorf("zone bridge %s is left", bridge)
			_ = exec.Command("ip", "link", "del", bridge).Run()
		}
	})
	pn := newPortNet(t)
	port := freePort(t)
	dir := helperBinary(t, "portserve", "github.com/sockspawn/sockspawn/cmd/sockspawn/e2e/testdata/portserve")
	name := newMachineName(t)
	t.Cleanup(func() { checkNetworkLeftovers(t, name) })
	first := startMachine(t, runSpec{Name: name, Args: []string{"-q", "-D", "/", "--volatile=yes", "--console=pipe",
		"--network-zone=" + zone, "--bind-ro=" + dir + ":/opt/portserve", fmt.Sprintf("--port=%d:80", port),
		"--", "/bin/sh", "-c", pn.containerScript()}})
	waitFor(t, first, "the zone's bridge", func() error {
		if masterOf(payload.HostLinkFor(first.Name, bridge)) != bridge {
			return fmt.Errorf("%s is not attached to %s", payload.HostLinkFor(first.Name, bridge), bridge)
		}
		return nil
	})
	mustRun(t, "ip", "addr", "add", pn.host4+"/24", "dev", bridge)
	mustRun(t, "ip", "link", "set", bridge, "up")

	second := startBridged(t, "--network-zone="+zone)
	if got := masterOf(payload.HostLinkFor(second.Name, bridge)); got != bridge {
		t.Errorf("the second machine's link is attached to %q, want %s", got, bridge)
	}
	// The second machine reaches the first over the zone's bridge.
	peer := fmt.Sprintf("10.231.%d.3", pn.n)
	out, err := second.Enter(30*time.Second, "/bin/bash", "-c", fmt.Sprintf(
		"ip addr add %s/24 dev host0 && for i in $(seq 100); do exec 3<>/dev/tcp/%s/80 && break; sleep 0.1; done && "+
			"printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3", peer, pn.ctr4))
	if err != nil || !strings.Contains(out, "hello from "+first.Name) {
		t.Errorf("from the second machine to the first over the zone: %q, %v", out, err)
	}
	loop := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitFor(t, first, "GET "+loop, func() error {
		body, err := httpGet(loop)
		if err == nil && !strings.HasPrefix(body, "hello from "+first.Name) {
			return fmt.Errorf("got %q", body)
		}
		return err
	})

	stopMachine(t, first)
	if !isBridge(bridge) {
		t.Fatalf("%s went while a machine of the zone still runs", bridge)
	}
	stopMachine(t, second)
	if isBridge(bridge) {
		t.Errorf("%s is still there after the zone's last machine left", bridge)
	}
}
