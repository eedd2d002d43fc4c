//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// notifyMsg is one datagram sockspawn sent to its $NOTIFY_SOCKET.
type notifyMsg struct {
	At     time.Time
	Text   string
	Sender int32 // pid from SCM_CREDENTIALS, 0 if none came
}

// Lines returns the KEY=VALUE lines of the message.
func (m notifyMsg) Lines() []string {
	var out []string
	for _, l := range strings.Split(m.Text, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// notifyReceiver plays the service manager: it listens on a unixgram
// socket and records every datagram with its arrival time and sender.
type notifyReceiver struct {
	Path string
	conn *net.UnixConn
	done chan struct{}

	mu   sync.Mutex
	msgs []notifyMsg
	wake chan struct{} // closed (and replaced) when a message arrives
}

func newNotifyReceiver(t *testing.T) *notifyReceiver {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 90 { // a socket address holds 108 bytes
		d, err := os.MkdirTemp("", "e2e-notify-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	p := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatalf("notify socket: %v", err)
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	}); err != nil || serr != nil {
		t.Fatalf("SO_PASSCRED on %s: %v %v", p, err, serr)
	}
	n := &notifyReceiver{Path: p, conn: conn, done: make(chan struct{}), wake: make(chan struct{})}
	go n.read()
	t.Cleanup(func() {
		conn.Close()
		<-n.done
	})
	return n
}

func (n *notifyReceiver) read() {
	defer close(n.done)
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*253))
	for {
		nb, noob, _, _, err := n.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		m := notifyMsg{At: time.Now(), Text: string(buf[:nb])}
		if cmsgs, err := unix.ParseSocketControlMessage(oob[:noob]); err == nil {
			for i := range cmsgs {
				if cred, err := unix.ParseUnixCredentials(&cmsgs[i]); err == nil {
					m.Sender = cred.Pid
				}
				if fds, err := unix.ParseUnixRights(&cmsgs[i]); err == nil {
					for _, fd := range fds {
						unix.Close(fd)
					}
					m.Text += "\n(e2e: datagram carried fds)"
				}
			}
		}
		n.mu.Lock()
		n.msgs = append(n.msgs, m)
		close(n.wake)
		n.wake = make(chan struct{})
		n.mu.Unlock()
	}
}

// Messages returns the messages received so far.
func (n *notifyReceiver) Messages() []notifyMsg {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]notifyMsg(nil), n.msgs...)
}

// Index returns the index of the first message with a line starting with
// prefix, and the line; -1 if there is none yet.
func (n *notifyReceiver) Index(prefix string) (int, string) {
	for i, m := range n.Messages() {
		for _, l := range m.Lines() {
			if strings.HasPrefix(l, prefix) {
				return i, l
			}
		}
	}
	return -1, ""
}

var errExited = errors.New("sockspawn exited")

// Wait waits until a message has a line starting with prefix and returns
// its index and the line. It gives up after timeout, or when stop is
// closed and no such message came.
func (n *notifyReceiver) Wait(prefix string, timeout time.Duration, stop <-chan struct{}) (int, string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		n.mu.Lock()
		wake := n.wake
		n.mu.Unlock()
		if i, l := n.Index(prefix); i >= 0 {
			return i, l, nil
		}
		select {
		case <-wake:
		case <-stop:
			// Datagrams sent just before exiting may still be queued.
			time.Sleep(50 * time.Millisecond)
			if i, l := n.Index(prefix); i >= 0 {
				return i, l, nil
			}
			return -1, "", fmt.Errorf("%w before sending %q", errExited, prefix)
		case <-deadline.C:
			return -1, "", fmt.Errorf("no %q within %v", prefix, timeout)
		}
	}
}

// String lists the messages, for failure output.
func (n *notifyReceiver) String() string {
	var b strings.Builder
	msgs := n.Messages()
	if len(msgs) == 0 {
		return "(no notify messages)"
	}
	t0 := msgs[0].At
	for i, m := range msgs {
		fmt.Fprintf(&b, "  #%d +%v from pid %d: %q\n", i, m.At.Sub(t0).Round(time.Millisecond), m.Sender, m.Text)
	}
	return b.String()
}
