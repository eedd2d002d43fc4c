package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrNotRunning is returned by Call for a machine that is not running
// (or runs without a control socket).
var ErrNotRunning = errors.New("not running")

// Conn is a client's connection to a machine's control socket. Keep it
// open while a tty is used: closing it gives the tty back.
type Conn struct{ c *net.UnixConn }

// Close ends the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Call sends req to machine's supervisor (with fd, unless nil) and returns
// the reply, the fd that came with it (or nil), and the connection.
// An error in the reply is returned as an error.
func Call(machine string, req Request, fd *os.File) (*Conn, Reply, *os.File, error) {
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: Path(machine), Net: "unixpacket"})
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, Reply{}, nil, fmt.Errorf("machine %s: %w (no %s)", machine, ErrNotRunning, Path(machine))
		}
		return nil, Reply{}, nil, fmt.Errorf("connect to machine %s: %w", machine, err)
	}
	b, _ := json.Marshal(req)
	var oob []byte
	if fd != nil {
		oob = unix.UnixRights(int(fd.Fd()))
	}
	if _, _, err := c.WriteMsgUnix(b, oob, nil); err != nil {
		c.Close()
		return nil, Reply{}, nil, fmt.Errorf("send request to machine %s: %w", machine, err)
	}
	buf := make([]byte, maxMessage)
	oobBuf := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oobBuf)
	if err != nil {
		c.Close()
		return nil, Reply{}, nil, fmt.Errorf("read reply of machine %s: %w", machine, err)
	}
	fds, _ := parseRights(oobBuf[:oobn])
	var got *os.File
	if len(fds) > 0 {
		got = os.NewFile(uintptr(fds[0]), "fd from machine "+machine)
		for _, extra := range fds[1:] {
			unix.Close(extra)
		}
	}
	var r Reply
	if n == 0 {
		c.Close()
		if got != nil {
			got.Close()
		}
		return nil, r, nil, fmt.Errorf("machine %s: the supervisor closed the connection without a reply", machine)
	}
	if err := json.Unmarshal(buf[:n], &r); err != nil {
		c.Close()
		if got != nil {
			got.Close()
		}
		return nil, r, nil, fmt.Errorf("machine %s: malformed reply: %w", machine, err)
	}
	if r.Error != "" {
		c.Close()
		if got != nil {
			got.Close()
		}
		return nil, r, nil, errors.New(r.Error)
	}
	return &Conn{c}, r, got, nil
}

// Wait blocks until the supervisor hangs up (the machine stopped) or the
// connection is closed.
func (c *Conn) Wait() error {
	buf := make([]byte, 1)
	for {
		if _, err := c.c.Read(buf); err != nil {
			return err
		}
	}
}
