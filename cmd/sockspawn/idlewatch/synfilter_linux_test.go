package idlewatch

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// tcpListener returns a plain-TCP listener on loopback and its fd.
func tcpListener(t *testing.T) (net.Listener, int) {
	t.Helper()
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	ln, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); ln.Close() })
	return ln, int(f.Fd())
}

// wantHeld checks that a connection to ln does not complete: its SYN is
// dropped (a timeout), not refused.
func wantHeld(t *testing.T, ln net.Listener, what string) {
	t.Helper()
	_, err := net.DialTimeout("tcp4", ln.Addr().String(), 300*time.Millisecond)
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%s: connecting gave %v; want a timeout (dropped, not refused or accepted)", what, err)
	}
}

func wantOpen(t *testing.T, ln net.Listener, what string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp4", ln.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	conn.Close()
}

// TestHoldSYNs: while held, a client's connection does not complete;
// released, the client's next try gets in.
func TestHoldSYNs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: this kernel refuses socket filters to unprivileged users (EPERM), and the supervisor runs as root")
	}
	ln, fd := tcpListener(t)
	release := holdSYNs([]int{fd})
	wantHeld(t, ln, "while held")
	release()
	wantOpen(t, ln, "after the release")
}

// TestHoldSYNsExpire: a hold whose limit has passed lets connections in
// without a release, as after a supervisor killed mid-poweroff.
func TestHoldSYNsExpire(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load eBPF")
	}
	expired := expiringDropAll(-time.Second)
	if expired == nil {
		t.Skip("cannot load an eBPF socket filter here")
	}
	defer expired.Close()
	running := expiringDropAll(time.Hour)
	defer running.Close()
	ln, fd := tcpListener(t)
	if err := attachBPF(fd, expired.FD()); err != nil {
		t.Fatal(err)
	}
	wantOpen(t, ln, "through an expired hold")
	if err := attachBPF(fd, running.FD()); err != nil {
		t.Fatal(err)
	}
	wantHeld(t, ln, "through a hold that has not expired")
}
