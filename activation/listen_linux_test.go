package activation

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func mustParse(t *testing.T, spec string) systemd.Listen {
	t.Helper()
	ls, err := systemd.ParseListen(spec)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func TestOpenUnix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "web.sock")
	ls := mustParse(t, "web="+path)

	f, err := OpenListen(ls)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != "web" {
		t.Errorf("file name %q, want web", f.Name())
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o666 {
		t.Errorf("socket file mode %v, want socket 0666", fi.Mode())
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	c.Close()
	f.Close()

	// The socket file left behind is stale: a second Open replaces it.
	f, err = OpenListen(ls)
	if err != nil {
		t.Fatalf("reopen over a stale socket: %v", err)
	}
	f.Close()

	// Anything else at the path is left alone.
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = OpenListen(mustParse(t, regular))
	if err == nil || !strings.Contains(err.Error(), "not a socket") || !strings.Contains(err.Error(), regular) {
		t.Fatalf("Open over a regular file: err = %v", err)
	}
	if b, _ := os.ReadFile(regular); string(b) != "keep" {
		t.Errorf("regular file changed to %q", b)
	}
}

func TestOpenKinds(t *testing.T) {
	dir := t.TempDir()
	abstract := fmt.Sprintf("@sockspawn-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	tests := []struct {
		spec     systemd.Listen
		wantType int
		listens  bool
	}{
		{mustParse(t, abstract), unix.SOCK_STREAM, true},
		{mustParse(t, "datagram:"+dir+"/dgram"), unix.SOCK_DGRAM, false},
		{mustParse(t, "seqpacket:"+dir+"/seq"), unix.SOCK_SEQPACKET, true},
		// Port 0 is refused by the parser; a literal spec lets the kernel pick.
		{systemd.Listen{Name: "tcp4", Type: unix.SOCK_STREAM, Family: unix.AF_INET, Address: "127.0.0.1:0"}, unix.SOCK_STREAM, true},
		{systemd.Listen{Name: "udp4", Type: unix.SOCK_DGRAM, Family: unix.AF_INET, Address: "127.0.0.1:0"}, unix.SOCK_DGRAM, false},
		{systemd.Listen{Name: "any", Type: unix.SOCK_STREAM, Family: unix.AF_INET6, Address: "[::]:0"}, unix.SOCK_STREAM, true},
	}
	for _, tt := range tests {
		t.Run(tt.spec.String(), func(t *testing.T) {
			f, err := OpenListen(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fd := int(f.Fd())
			if typ, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); typ != tt.wantType {
				t.Errorf("SO_TYPE %d, want %d", typ, tt.wantType)
			}
			if acc, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); (acc == 1) != tt.listens {
				t.Errorf("SO_ACCEPTCONN %d, want listening=%v", acc, tt.listens)
			}
			if flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
				t.Error("not close-on-exec")
			}
			if tt.spec.Family != unix.AF_UNIX {
				if v, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR); v != 1 {
					t.Error("SO_REUSEADDR not set")
				}
			}
			if tt.spec.Address == "[::]:0" {
				if v, err := unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); err == nil && v != 0 {
					t.Error("IPV6_V6ONLY set on the dual-stack socket")
				}
			}
		})
	}
}

func TestOpenErrorNamesAddress(t *testing.T) {
	ls := systemd.Listen{Name: "x", Type: unix.SOCK_STREAM, Family: unix.AF_INET, Address: "192.0.2.1:80"} // not ours: EADDRNOTAVAIL
	_, err := OpenListen(ls)
	if err == nil || !strings.Contains(err.Error(), "192.0.2.1:80") || !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Fatalf("err = %v, want EADDRNOTAVAIL naming the address", err)
	}
}

func TestWaitReadable(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenListen(mustParse(t, "a="+dir+"/a"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenListen(mustParse(t, "b="+dir+"/b"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	result := make(chan error, 1)
	go func() { result <- WaitReadable([]*os.File{a, b}, nil) }()
	select {
	case err := <-result:
		t.Fatalf("returned before any connection: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	c, err := net.Dial("unix", dir+"/b")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case err := <-result:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up on a pending connection")
	}
	// The connection is still pending, for the payload to accept.
	fd, _, err := unix.Accept4(int(b.Fd()), unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK)
	if err != nil {
		t.Fatalf("the pending connection is gone: %v", err)
	}
	unix.Close(fd)
}

func TestWaitReadableStop(t *testing.T) {
	a, err := OpenListen(mustParse(t, fmt.Sprintf("@sockspawn-wait-%d-%d", os.Getpid(), time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	stop := make(chan struct{})
	result := make(chan error, 1)
	go func() { result <- WaitReadable([]*os.File{a}, stop) }()
	time.Sleep(20 * time.Millisecond)
	close(stop)
	select {
	case err := <-result:
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("err = %v, want ErrStopped", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not wake WaitReadable")
	}
	if err := WaitReadable(nil, stop); err == nil {
		t.Error("no error without sockets")
	}
}
