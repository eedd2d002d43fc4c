//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Markers in the datagrams the supervisor must drop. The test fails if
// any of them reaches its $NOTIFY_SOCKET.
const (
	markerOversized     = "e2e-boundary-oversized-marker"
	markerOversized4097 = "e2e-boundary-oversized-4097-marker"
	markerWithFD        = "e2e-boundary-with-fd-marker"
	markerUnprivileged  = "e2e-boundary-unprivileged-marker"
	markerRootChild     = "e2e-boundary-root-child-marker"
	// MarkerValid is in the valid datagram sent last, with READY=1.
	markerValid = "e2e-boundary-valid-marker"
)

type notifyReport struct {
	Pid          int               `json:"pid"`
	Sent         map[string]string `json:"sent"`         // each datagram PID 1 sent: the result of sendmsg
	Unprivileged map[string]string `json:"unprivileged"` // what a child as nobody could send
	RootChild    map[string]string `json:"root_child"`   // what a child as root could send
}

// probeNotify is `probe notify`, the container's init with
// --notify-ready=yes: it sends nothing until SIGUSR1, then the datagrams
// the relay must drop (from itself: oversized and fd-carrying; from
// children: as nobody, forged or not, and as root, not forged; and as
// root forging PID 1's credentials, which the kernel allows a process with
// CAP_SYS_ADMIN), then a valid "STATUS=…\nREADY=1", reports and waits for
// SIGTERM.
func probeNotify() error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, unix.SIGUSR1, unix.SIGTERM, unix.SIGINT)
	// As PID 1, signals without a handler are ignored: say when ours are
	// in place.
	fmt.Println("probe: waiting for SIGUSR1")
	if s := <-sigs; s != unix.SIGUSR1 {
		return nil
	}
	r := notifyReport{Pid: os.Getpid(), Sent: map[string]string{}}
	pad := func(head string, size int) string {
		head += "\nX_E2E_PAD="
		return head + strings.Repeat("x", size-len(head))
	}
	r.Sent["oversized-8192"] = errnoName(sendNotify(pad("READY=1\nSTATUS="+markerOversized, 8192), -1, nil))
	r.Sent["oversized-4097"] = errnoName(sendNotify(pad("READY=1\nSTATUS="+markerOversized4097, 4097), -1, nil))
	if f, err := os.Open("/dev/null"); err != nil {
		r.Sent["with-fd"] = err.Error()
	} else {
		r.Sent["with-fd"] = errnoName(sendNotify("READY=1\nSTATUS="+markerWithFD, int(f.Fd()), nil))
		f.Close()
	}
	r.Unprivileged = runNotifyChild(markerUnprivileged, &syscall.Credential{Uid: 65534, Gid: 65534})
	r.RootChild = runNotifyChild(markerRootChild, nil)
	r.Sent["valid"] = errnoName(sendNotify("STATUS="+markerValid+"\nREADY=1", -1, nil))
	if err := emit(r); err != nil {
		return err
	}
	for s := range sigs {
		if s != unix.SIGUSR1 {
			return nil
		}
	}
	return nil
}

// runNotifyChild runs `probe notify-unprivileged MARKER` with cred (nil:
// as root) and returns what it reported.
func runNotifyChild(marker string, cred *syscall.Credential) map[string]string {
	cmd := exec.Command("/proc/self/exe", "notify-unprivileged", marker)
	cmd.Stderr = os.Stderr
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.Output()
	if err != nil {
		return map[string]string{"run": err.Error()}
	}
	res := map[string]string{}
	if err := json.Unmarshal(out, &res); err != nil {
		return map[string]string{"run": fmt.Sprintf("bad output %q", out)}
	}
	return res
}

// notifyUnprivileged is `probe notify-unprivileged MARKER`: it sends
// READY=1 with MARKER twice, once with its own credentials and once
// claiming PID 1's, and prints the results as JSON.
func notifyUnprivileged(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: probe notify-unprivileged MARKER")
	}
	forged := &unix.Ucred{Pid: 1, Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
	res := map[string]string{
		"uid":    fmt.Sprint(os.Getuid()),
		"plain":  errnoName(sendNotify("READY=1\nSTATUS="+args[0]+"-plain", -1, nil)),
		"forged": errnoName(sendNotify("STATUS="+args[0]+"-forged-pid1", -1, forged)),
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(b)
	return err
}

// sendNotify sends one datagram to $NOTIFY_SOCKET, with fd attached as
// SCM_RIGHTS unless it is negative and with cred as SCM_CREDENTIALS
// unless it is nil.
func sendNotify(state string, fd int, cred *unix.Ucred) error {
	p := os.Getenv("NOTIFY_SOCKET")
	if p == "" {
		return fmt.Errorf("NOTIFY_SOCKET is not set")
	}
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	var oob []byte
	if fd >= 0 {
		oob = append(oob, unix.UnixRights(fd)...)
	}
	if cred != nil {
		oob = append(oob, unix.UnixCredentials(cred)...)
	}
	return unix.Sendmsg(s, []byte(state), oob, &unix.SockaddrUnix{Name: p}, 0)
}
