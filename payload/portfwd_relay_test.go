package payload

import (
	"bufio"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestLoopbackRelay relays to an echo server standing in for the
// container, stops with a connection open (which it ends), and serves
// again on the same listener once restarted, as a machine that boots
// again does.
func TestLoopbackRelay(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					c.Write([]byte("echo " + sc.Text() + "\n"))
				}
			}()
		}
	}()
	ctrPort := uint16(echo.Addr().(*net.TCPAddr).Port)
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hostPort := uint16(l.Addr().(*net.TCPAddr).Port)
	listeners := map[uint16]*net.TCPListener{hostPort: l}
	ports := []PortForward{{"tcp", hostPort, ctrPort}}

	roundTrip := func(c net.Conn, msg string) (string, error) {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		return bufio.NewReader(c).ReadString('\n')
	}
	for round := 0; round < 2; round++ {
		var r loopbackRelay
		r.setTargets(ForwardTargets{V4: netip.MustParseAddr("127.0.0.1")})
		r.start(listeners, ports)
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := roundTrip(c, "hi"); err != nil || got != "echo hi\n" {
			t.Fatalf("round %d: relayed %q, %v", round, got, err)
		}
		r.halt(listeners)
		if got, err := roundTrip(c, "after"); err == nil {
			t.Errorf("round %d: the relayed connection lives on after halt: %q", round, got)
		}
		c.Close()
	}
	// Without a target, a connection is closed at once.
	var r loopbackRelay
	r.start(listeners, ports)
	defer r.halt(listeners)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(c, "nobody"); err == nil {
		t.Errorf("with no target: %q", got)
	}
}
