package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Measurements (5) and (6): systemd-socket-activate binds a TCP socket on
// 127.0.0.1 and, on the first connection, execs the tool (so the tool
// keeps its pid and finds its own pid in LISTEN_PID), which boots this
// machine's systemd with LISTEN_FDS=1. The container's
// /etc/systemd/system is a directory of the bench's with echo.socket
// (ListenStream= the same address, Accept=yes, wanted by sockets.target)
// and echo@.service (answers "hello" and closes), so the container's own
// socket unit takes the passed socket over and answers from inside.
//
//	(5) cold: connect() to the first byte of the answer to the first
//	    connection, the one that boots the container;
//	(6) warm: once the container has sent READY=1 and settled, the median
//	    of connect() to first byte over -warm sequential connections.

// greeting is what echo@.service answers.
const greeting = "hello\n"

// activation is what puts a tool behind systemd-socket-activate.
type activation struct {
	path string // systemd-socket-activate
	addr string // 127.0.0.1:PORT
}

// argv is the wrapper's command line up to the wrapped program: it passes
// on only the environment it is told to, so NOTIFY_SOCKET is named.
func (a *activation) argv(notifySocket string) []string {
	return []string{a.path, "-l", a.addr, "-E", "NOTIFY_SOCKET=" + notifySocket}
}

// unitsTarget is where the socket units appear in the container.
const unitsTarget = "/etc/systemd/system"

// freeLoopbackPort asks the kernel for a TCP port that is free on
// 127.0.0.1 now.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeSocketUnits creates dir with echo.socket listening on addr,
// echo@.service and sockets.target.wants/echo.socket, to be bound over
// the container's /etc/systemd/system.
func writeSocketUnits(dir, addr string) error {
	wants := filepath.Join(dir, "sockets.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"echo.socket": fmt.Sprintf(`[Unit]
Description=sockspawn bench echo socket

[Socket]
ListenStream=%s
Accept=yes
`, addr),
		"echo@.service": `[Unit]
Description=sockspawn bench echo

[Service]
ExecStart=/bin/sh -c 'echo hello'
StandardInput=socket
StandardOutput=socket
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	link := filepath.Join(wants, "echo.socket")
	_ = os.Remove(link)
	if err := os.Symlink("../echo.socket", link); err != nil {
		return err
	}
	return os.Chmod(dir, 0o755)
}

// firstByte connects to addr and returns the time from just before
// connect() to the arrival of the first byte of the answer; it then reads
// the answer to the end and checks that it is the greeting.
func firstByte(addr string, timeout time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	t0 := time.Now()
	conn, err := net.DialTimeout("tcp4", addr, timeout)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(deadline)
	var first [1]byte
	if _, err := io.ReadFull(conn, first[:]); err != nil {
		return 0, fmt.Errorf("%s: no answer: %w", addr, err)
	}
	latency := time.Since(t0)
	rest, err := io.ReadAll(conn)
	if err != nil {
		return 0, fmt.Errorf("%s: reading the answer: %w", addr, err)
	}
	if got := string(first[:]) + string(rest); got != greeting {
		return 0, fmt.Errorf("%s answered %q, want %q", addr, got, greeting)
	}
	return latency, nil
}

// activatedRun is one run of measurements (5) and (6) with t; when
// record is set, it stores the samples and returns them as text.
func (b *bench) activatedRun(t tool, record bool) (string, error) {
	b.seq++
	port, err := freeLoopbackPort()
	if err != nil {
		return "", err
	}
	act := &activation{path: b.socketActivate, addr: "127.0.0.1:" + strconv.Itoa(port)}
	units := filepath.Join(b.work, fmt.Sprintf("units-%d", b.seq))
	if err := writeSocketUnits(units, act.addr); err != nil {
		return "", err
	}
	defer os.RemoveAll(units)
	r, err := startRun(t, activated, b.work, units, b.seq, act)
	if err != nil {
		return "", err
	}
	defer r.close()
	failWith := func(err error) (string, error) { return "", r.fail(t, err) }
	if err := r.waitLog("Listening on "+act.addr+" ", 10*time.Second); err != nil {
		return failWith(err)
	}
	// Let systemd-socket-activate get to waiting for the connection.
	time.Sleep(100 * time.Millisecond)

	cold, err := firstByte(act.addr, b.o.timeout)
	if err != nil {
		return failWith(fmt.Errorf("first connection: %w", err))
	}
	if _, err := r.waitReady(b.o.timeout); err != nil {
		return failWith(err)
	}
	time.Sleep(b.o.settle)
	warm, err := warmFirstBytes(act.addr, b.o.warm)
	if err != nil {
		return failWith(err)
	}
	stop, status, err := r.stop(b.o.timeout)
	if err != nil {
		return failWith(err)
	}
	if !record {
		return "", nil
	}
	m, _ := median(warm)
	res := b.res(t)
	res.cold = append(res.cold, cold)
	res.warm = append(res.warm, time.Duration(m*float64(time.Second)))
	res.activatedStatuses[status]++
	if b.o.verbose {
		res.warmAll = append(res.warmAll, warm...)
	}
	return fmt.Sprintf("activated: cold %s, warm %s (median of %d), stop %s (status %d)",
		fmtDuration(cold), fmtSeconds(m), len(warm), fmtDuration(stop), status), nil
}

// warmFirstBytes makes n connections to addr one after the other and
// returns each one's connect-to-first-byte time, in seconds.
func warmFirstBytes(addr string, n int) ([]float64, error) {
	warm := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		d, err := firstByte(addr, 30*time.Second)
		if err != nil {
			return nil, fmt.Errorf("warm connection %d: %w", i+1, err)
		}
		warm = append(warm, d.Seconds())
	}
	return warm, nil
}
