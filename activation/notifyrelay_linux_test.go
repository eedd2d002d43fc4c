package activation

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newTestRelay binds a notify socket in a temporary directory and starts a
// relay on it that accepts this process only. It returns the relay, the
// socket's path and a function that sends to it.
func newTestRelay(t *testing.T) (*Relay, string, func(b, oob []byte)) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	sock, err := l.File()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	me := int32(os.Getpid())
	r := NewRelay(sock, func(pid int32) bool { return pid == me })
	sock.Close() // the relay has its own
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	r.SetDebug(t.Logf)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	send := func(b, oob []byte) {
		t.Helper()
		if err := unix.Sendmsg(fd, b, oob, &unix.SockaddrUnix{Name: path}, 0); err != nil {
			t.Fatalf("sendmsg: %v", err)
		}
	}
	return r, path, send
}

// TestNotifyHostHelper is not a test: it is the child of notifyFromChild,
// a sender the relay does not accept.
func TestNotifyHostHelper(t *testing.T) {
	if os.Getenv("GO_WANT_HELPER_PROCESS") != "1" {
		t.Skip("helper process")
	}
	sent, err := NotifyHost(os.Getenv("STATE"))
	if !sent || err != nil {
		t.Fatalf("NotifyHost: %v, %v", sent, err)
	}
}

// notifyFromChild sends state to the socket at path from another process.
func notifyFromChild(t *testing.T, path, state string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNotifyHostHelper$")
	cmd.Env = append(os.Environ(), "GO_WANT_HELPER_PROCESS=1", "NOTIFY_SOCKET="+path, "STATE="+state)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
}

func receive(t *testing.T, r *Relay) Message {
	t.Helper()
	select {
	case m, ok := <-r.Messages():
		if !ok {
			t.Fatalf("relay stopped: %v", r.Err())
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	return Message{}
}

func TestRelay(t *testing.T) {
	r, path, send := newTestRelay(t)

	send([]byte("READY=1\nSTATUS=up"), nil)
	if m := receive(t, r); !m.Ready || m.Status != "up" {
		t.Fatalf("got %+v", m)
	}

	// Dropped, each for its own reason.
	send([]byte("STATUS="+strings.Repeat("x", MaxNotifySize)), nil)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	send([]byte("FDSTORE=1"), unix.UnixRights(int(pw.Fd())))
	pw.Close() // the relay's copy is now the only write end
	notifyFromChild(t, path, "READY=1")
	send([]byte("not a message"), nil)

	// The relay keeps working.
	send([]byte("STOPPING=1"), nil)
	if m := receive(t, r); !m.Stopping || m.Ready {
		t.Fatalf("got %+v, want only STOPPING=1", m)
	}

	// The received write end was closed: the pipe reads EOF.
	pr.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := pr.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("pipe read: %d, %v; want EOF (the relay kept the fd)", n, err)
	}

	want := Stats{Accepted: 2, Dropped: 4, Truncated: 1, WithFDs: 1, Rejected: 1, Malformed: 1}
	if got := r.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-r.Messages(); ok {
		t.Error("Messages not closed after Close")
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err after Close = %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestRelayCloseWhileBlocked closes a relay whose reader waits to deliver a
// message nobody reads.
func TestRelayCloseWhileBlocked(t *testing.T) {
	r, _, send := newTestRelay(t)
	for i := 0; i < cap(r.msgs)+4; i++ {
		send([]byte("READY=1"), nil)
	}
	time.Sleep(50 * time.Millisecond)
	done := make(chan error)
	go func() { done <- r.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
}

func TestRelayRefusesStream(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer a.Close()
	defer b.Close()
	r := NewRelay(a, nil)
	if _, ok := <-r.Messages(); ok {
		t.Fatal("relay runs on a stream socket")
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "not an AF_UNIX datagram socket") {
		t.Fatalf("Err = %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestInspectDatagram(t *testing.T) {
	creds := func(pid int32) []byte {
		return unix.UnixCredentials(&unix.Ucred{Pid: pid, Uid: 0, Gid: 0})
	}
	acceptSeven := func(pid int32) bool { return pid == 7 }
	tests := []struct {
		name   string
		data   string
		oob    []byte
		flags  int
		accept func(int32) bool
		want   dropReason
	}{
		{"accepted", "READY=1", creds(7), 0, acceptSeven, dropNone},
		{"nil accept", "READY=1", creds(99), 0, nil, dropNone},
		{"no credentials", "READY=1", nil, 0, acceptSeven, dropNoCredentials},
		{"other pid", "READY=1", creds(8), 0, acceptSeven, dropRejected},
		{"truncated", "READY=1", creds(7), unix.MSG_TRUNC, acceptSeven, dropTruncated},
		{"control truncated", "READY=1", creds(7), unix.MSG_CTRUNC, acceptSeven, dropTruncated},
		{"oversized", strings.Repeat("A", MaxNotifySize+1), creds(7), 0, acceptSeven, dropTruncated},
		{"malformed", "READY", creds(7), 0, acceptSeven, dropMalformed},
		{"garbage control data", "READY=1", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, 0, acceptSeven, dropNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, detail := inspectDatagram([]byte(tt.data), tt.oob, tt.flags, tt.accept)
			if got != tt.want {
				t.Errorf("reason %d (%s), want %d", got, detail, tt.want)
			}
		})
	}

	// fds are closed whatever else is wrong with the datagram.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	dup, err := unix.FcntlInt(pw.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	oob := append(creds(8), unix.UnixRights(dup)...)
	if _, got, _ := inspectDatagram([]byte("x"), oob, unix.MSG_TRUNC, acceptSeven); got != dropFDs {
		t.Errorf("reason %d, want dropFDs", got)
	}
	if err := unix.Close(dup); !errors.Is(err, unix.EBADF) {
		t.Errorf("the passed fd is still open (close: %v)", err)
	}
}
