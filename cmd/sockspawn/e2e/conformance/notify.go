//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// Markers in datagrams the supervisor must drop; the test checks that none
// of them reaches the host.
const (
	markerMalformed = "e2e-malformed-marker"
	markerOversized = "e2e-oversized-marker"
	markerWithFD    = "e2e-with-fd-marker"
	markerChild     = "e2e-from-child-marker"
)

// sendNotify sends one datagram to $NOTIFY_SOCKET, with fd attached as
// SCM_RIGHTS unless it is negative.
func sendNotify(state string, fd int) error {
	p := os.Getenv("NOTIFY_SOCKET")
	if p == "" {
		return fmt.Errorf("NOTIFY_SOCKET is not set")
	}
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(s)
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	if err := unix.Sendmsg(s, []byte(state), oob, &unix.SockaddrUnix{Name: p}, 0); err != nil {
		return fmt.Errorf("sendmsg to %s: %w", p, err)
	}
	return nil
}

// exerciseRelay sends what the supervisor must drop without stopping the
// container: a malformed datagram, an oversized one, one carrying an fd,
// and one from a process that is not the container's init.
func exerciseRelay(r *report) {
	r.check("notify-send-malformed", sendNotify("this is not a notify message "+markerMalformed, -1))
	r.check("notify-send-oversized", sendNotify("STATUS="+markerOversized+strings.Repeat("x", 8192), -1))
	if f, err := os.Open("/dev/null"); err != nil {
		r.fail("notify-send-with-fd", "%v", err)
	} else {
		r.check("notify-send-with-fd", sendNotify("STATUS="+markerWithFD, int(f.Fd())))
		f.Close()
	}
	child := exec.Command("/proc/self/exe", "-notify-child", "STATUS="+markerChild)
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if err := child.Run(); err != nil {
		r.fail("notify-send-from-child", "%v", err)
	} else {
		r.ok("notify-send-from-child")
	}
}
