package payload

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// The stage fails and exits while a message of the supervisor's is still
// unread: the supervisor gets the stage's error, not the reset.
func TestRecvMsgAfterPeerReset(t *testing.T) {
	parent, child, err := newSyncPair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	if err := sendMsg(parent, syncMsg{Type: "cgroups"}); err != nil {
		t.Fatal(err)
	}
	if err := sendMsg(child, syncMsg{Type: "error", Step: "mount /dev", Error: "refused"}); err != nil {
		t.Fatal(err)
	}
	child.Close() // with "cgroups" unread
	m, _, err := recvMsg(parent)
	if err != nil || m.Type != "error" || m.Step != "mount /dev" || m.Error != "refused" {
		t.Errorf("recvMsg after the peer closed: %+v, %v; want the peer's error message", m, err)
	}
	if m, _, err := recvMsg(parent); err != nil || m.Type != "" {
		t.Errorf("then: %+v, %v; want the end", m, err)
	}
}

// What recvMsg relies on: the reset is reported once, by whichever
// recvmsg comes first after the peer closed, even one that follows a
// successful peek at a queued message, and the message is still there.
func TestPeerResetAfterPeek(t *testing.T) {
	parent, child, err := newSyncPair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	if err := sendMsg(child, syncMsg{Type: "error", Step: "s", Error: "e"}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := unix.Recvmsg(int(parent.Fd()), make([]byte, 1), nil, unix.MSG_PEEK|unix.MSG_TRUNC); err != nil {
		t.Fatalf("peek: %v", err)
	}
	if err := sendMsg(parent, syncMsg{Type: "cgroups"}); err != nil {
		t.Fatal(err)
	}
	child.Close() // with "cgroups" unread
	buf := make([]byte, 4096)
	if _, _, _, _, err := unix.Recvmsg(int(parent.Fd()), buf, nil, 0); !errors.Is(err, unix.ECONNRESET) {
		t.Fatalf("read after the peek: %v; want ECONNRESET, which is why recvMsg retries its read too", err)
	}
	if m, _, err := recvMsg(parent); err != nil || m.Type != "error" {
		t.Errorf("recvMsg after the reset: %+v, %v; want the queued message", m, err)
	}
}
