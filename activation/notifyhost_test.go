package activation

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNotifyHost(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "notify")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := NotifyHost("READY=1"); sent || err != nil {
		t.Errorf("without $NOTIFY_SOCKET: %v, %v; want false, nil", sent, err)
	}

	t.Setenv("NOTIFY_SOCKET", path)
	if sent, err := NotifyHost(""); sent || err != nil {
		t.Errorf("empty state: %v, %v; want false, nil", sent, err)
	}
	if sent, err := NotifyHost("READY=1\nSTATUS=up"); !sent || err != nil {
		t.Fatalf("NotifyHost: %v, %v; want true, nil", sent, err)
	}
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, _, err := l.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "READY=1\nSTATUS=up" {
		t.Errorf("received %q", got)
	}

	missing := filepath.Join(dir, "missing")
	t.Setenv("NOTIFY_SOCKET", missing)
	if sent, err := NotifyHost("READY=1"); sent || err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("to a missing socket: %v, %v; want false and an error naming it", sent, err)
	}
}
