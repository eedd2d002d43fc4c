package activation

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// probeLoad samples one socket with a fresh probe.
func probeLoad(t *testing.T, p *IdleProbe) SocketLoad {
	t.Helper()
	l, err := p.Sample()
	if err != nil {
		t.Fatalf("Sample: %v", err)
	}
	return l[0]
}

// waitLoad samples until the load is want: the kernel finishes a
// handshake or a close on its own time.
func waitLoad(t *testing.T, p *IdleProbe, want SocketLoad, what string) {
	t.Helper()
	var got SocketLoad
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got = probeLoad(t, p); got == want {
			return
		}
	}
	t.Fatalf("%s: load %+v, want %+v", what, got, want)
}

// TestIdleProbeStream: a listener's load follows what its clients do, for
// TCP over IPv4 and IPv6 and for AF_UNIX stream and seqpacket sockets.
func TestIdleProbeStream(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ network, addr string }{
		{"tcp4", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
		{"unix", filepath.Join(dir, "s.sock")},
		{"unixpacket", filepath.Join(dir, "p.sock")},
		{"unix", "@sockspawn-probe-test-" + filepath.Base(dir)},
	} {
		t.Run(c.network+" "+c.addr, func(t *testing.T) {
			var lc net.ListenConfig
			lc.SetMultipathTCP(false) // a socket unit's TCP, not Go's default MPTCP
			ln, err := lc.Listen(context.Background(), c.network, c.addr)
			if err != nil {
				t.Skipf("listen %s %s: %v", c.network, c.addr, err)
			}
			defer ln.Close()
			f, err := ln.(interface{ File() (*os.File, error) }).File()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, err := NewIdleProbe([]*os.File{f})
			if err != nil {
				t.Fatalf("NewIdleProbe: %v", err)
			}
			defer p.Close()
			waitLoad(t, p, SocketLoad{Found: true}, "no client")

			client, err := net.Dial(ln.Addr().Network(), ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			waitLoad(t, p, SocketLoad{Found: true, Queued: 1}, "a connection not yet accepted")

			server, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			waitLoad(t, p, SocketLoad{Found: true, Connections: 1}, "an accepted connection")
			client.Close()
			waitLoad(t, p, SocketLoad{Found: true, Connections: 1}, "the client closed, the server holds its end")
			server.Close()
			waitLoad(t, p, SocketLoad{Found: true}, "both ends closed")
		})
	}
}

// TestIdleProbeDatagram: a datagram socket is busy while something waits
// in its queue.
func TestIdleProbeDatagram(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ network, addr string }{
		{"udp4", "127.0.0.1:0"},
		{"unixgram", filepath.Join(dir, "d.sock")},
	} {
		t.Run(c.network, func(t *testing.T) {
			pc, err := net.ListenPacket(c.network, c.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			f, err := pc.(interface{ File() (*os.File, error) }).File()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, err := NewIdleProbe([]*os.File{f})
			if err != nil {
				t.Fatalf("NewIdleProbe: %v", err)
			}
			defer p.Close()
			waitLoad(t, p, SocketLoad{Found: true}, "nothing sent")
			client, err := net.Dial(pc.LocalAddr().Network(), pc.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			if _, err := client.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			if l := waitBusy(t, p); l.Queued == 0 {
				t.Fatalf("a datagram waits: load %+v", l)
			}
			buf := make([]byte, 16)
			if _, _, err := pc.ReadFrom(buf); err != nil {
				t.Fatal(err)
			}
			waitLoad(t, p, SocketLoad{Found: true}, "the datagram read")
		})
	}
}

func waitBusy(t *testing.T, p *IdleProbe) SocketLoad {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if l := probeLoad(t, p); l.Busy() {
			return l
		}
	}
	return probeLoad(t, p)
}

// TestIdleProbeOtherNetns: a socket bound in another network namespace is
// read there, where its connections are, and not confused with a socket
// of the same address here.
func TestIdleProbeOtherNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	var f, client *os.File
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends in the new namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		lo, err := net.InterfaceByName("lo")
		if err == nil {
			err = setLinkUp(lo.Index)
		}
		if err != nil {
			done <- err
			return
		}
		var lc net.ListenConfig
		lc.SetMultipathTCP(false)
		ln, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
		if err != nil {
			done <- err
			return
		}
		f, err = ln.(*net.TCPListener).File()
		ln.Close()
		if err == nil {
			// A connection there, held by this process.
			client, err = dialIn(f)
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Skipf("network namespace: %v", err)
	}
	defer f.Close()
	defer client.Close()
	p, err := NewIdleProbe([]*os.File{f})
	if err != nil {
		t.Fatalf("NewIdleProbe: %v", err)
	}
	defer p.Close()
	if l := probeLoad(t, p); l != (SocketLoad{Found: true, Queued: 1}) {
		t.Errorf("the listener in the other namespace: load %+v, want one queued connection", l)
	}
}

// setLinkUp brings the loopback link up (SIOCSIFFLAGS).
func setLinkUp(index int) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// dialIn connects to the listener f from the calling thread's namespace,
// leaving the connection in its accept queue.
func dialIn(f *os.File) (*os.File, error) {
	sa, err := unix.Getsockname(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "client"), nil
}
