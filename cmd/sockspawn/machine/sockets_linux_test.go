package machine

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --listen binds each address, named as given; the first connection
// ends the wait, and a stop request ends it too, while a resize or an
// operator's request does not.
func TestListenAndFirstConnection(t *testing.T) {
	noListenEnv(t)
	dir := t.TempDir()
	web, admin := filepath.Join(dir, "web.sock"), filepath.Join(dir, "admin.sock")
	s, err := gatherSockets([]string{web, "admin=" + admin})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if !s.own || len(s.files) != 2 || len(s.names) != 2 || s.names[1] != "admin" {
		t.Fatalf("sockets %+v", s)
	}
	sigs := make(chan os.Signal, 4)
	sigs <- syscall.SIGWINCH
	sigs <- freezeSignal
	done := make(chan error, 1)
	go func() {
		stopped, err := waitFirstConnection(s, sigs, true)
		if stopped {
			err = errUnexpectedStop
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the wait ended before a connection: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	c, err := net.Dial("unix", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	sigs <- syscall.SIGTERM
	stopped, err := waitFirstConnection(&listenSockets{files: []*os.File{mustListen(t, filepath.Join(dir, "idle.sock"))}}, sigs, true)
	if !stopped || err != nil {
		t.Errorf("SIGTERM: stopped %v, %v", stopped, err)
	}
}

var errUnexpectedStop = &os.SyscallError{Syscall: "test", Err: syscall.EINTR}

func mustListen(t *testing.T, path string) *os.File {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.UnixListener).File()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Without --listen and without LISTEN_FDS there are no sockets; a bad
// address names itself and leaves no socket open.
func TestGatherSocketsErrors(t *testing.T) {
	noListenEnv(t)
	s, err := gatherSockets(nil)
	if err != nil || s.own || len(s.files) != 0 || s.names != nil {
		t.Errorf("none: %+v, %v", s, err)
	}
	dir := t.TempDir()
	before := openFDs(t)
	bad := filepath.Join(dir, "missing", "x", "s.sock")
	if err := os.WriteFile(filepath.Join(dir, "missing"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gatherSockets([]string{filepath.Join(dir, "ok.sock"), bad}); err == nil || !strings.Contains(err.Error(), "--listen="+bad) {
		t.Errorf("bad address: %v", err)
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d files open before, %d after", before, after)
	}
	var nilSockets *listenSockets
	nilSockets.close() // no panic
}
