package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// notice is one sd_notify datagram and when it arrived.
type notice struct {
	at    time.Time
	lines []string
}

// has reports whether the datagram carries the line want (such as READY=1).
func (n notice) has(want string) bool {
	for _, l := range n.lines {
		if l == want {
			return true
		}
	}
	return false
}

// value returns the value of the first line KEY=VALUE, or "".
func (n notice) value(key string) string {
	for _, l := range n.lines {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	return ""
}

// receiver is a notify socket, as a service manager holds one: a bound
// unixgram socket whose datagrams arrive, time-stamped, on C.
type receiver struct {
	path string
	conn *net.UnixConn
	C    <-chan notice
}

// listenNotify binds a notify socket at path. The caller closes it.
func listenNotify(path string) (*receiver, error) {
	_ = os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("bind notify socket %s: %w", path, err)
	}
	c := make(chan notice, 64)
	r := &receiver{path: path, conn: conn, C: c}
	go r.read(c)
	return r, nil
}

// read receives datagrams until the socket is closed. File descriptors
// that come with a datagram (FDSTORE=1) are closed at once.
func (r *receiver) read(c chan<- notice) {
	defer close(c)
	buf := make([]byte, 4096)
	oob := make([]byte, 1024)
	for {
		n, oobn, _, _, err := r.conn.ReadMsgUnix(buf, oob)
		at := time.Now()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		closeRights(oob[:oobn])
		c <- notice{at: at, lines: strings.Split(strings.TrimRight(string(buf[:n]), "\n"), "\n")}
	}
}

// closeRights closes the fds of any SCM_RIGHTS message in oob.
func closeRights(oob []byte) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			_ = syscall.Close(fd)
		}
	}
}

// Close closes the socket and removes its file.
func (r *receiver) Close() {
	_ = r.conn.Close()
	_ = os.Remove(r.path)
}

// sendNotify sends state to the notify socket at addr ("@name" for an
// abstract one), as sd_notify does.
func sendNotify(addr, state string) error {
	if strings.HasPrefix(addr, "@") {
		addr = "\x00" + addr[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("connect to notify socket %q: %w", addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("send to notify socket %q: %w", addr, err)
	}
	return nil
}
