//go:build linux

// Command sockcheck is a payload for the socket-activation end-to-end
// tests: it reports the sd_listen_fds environment it was given and, for
// every fd open when it started, what kind of file it is and, for
// sockets, their family, type, listening state and local address. The
// tests parse its output; it checks nothing itself.
//
// With -answer it also accepts one connection on the first listening
// stream socket among them and writes the same report to it, so that the
// test gets it back through the socket (and the connection that started
// the container is served).
//
// Output, one fact a line:
//
//	pid 1
//	env LISTEN_FDS=2            (or "env LISTEN_FDS unset")
//	fds 0 1 2 3 4
//	fd 3 socket family=inet type=stream listening=yes local=127.0.0.1:18000
//	fd 4 other kind=fifo
package main

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	// First of all, before anything opens a file: which fds we were given.
	fds := openFDs()

	var b strings.Builder
	fmt.Fprintf(&b, "pid %d\n", os.Getpid())
	for _, k := range []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} {
		if v, ok := os.LookupEnv(k); ok {
			fmt.Fprintf(&b, "env %s=%s\n", k, v)
		} else {
			fmt.Fprintf(&b, "env %s unset\n", k)
		}
	}
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = strconv.Itoa(fd)
	}
	fmt.Fprintf(&b, "fds %s\n", strings.Join(names, " "))
	for _, fd := range fds {
		if fd > 2 {
			fmt.Fprintf(&b, "fd %d %s\n", fd, describe(fd))
		}
	}
	report := b.String()
	fmt.Print(report)
	if len(os.Args) > 1 && os.Args[1] == "-answer" {
		if err := answer(fds, report); err != nil {
			fmt.Fprintf(os.Stderr, "sockcheck: %v\n", err)
			os.Exit(1)
		}
	}
}

// answer writes report to one connection accepted on the first listening
// stream socket of fds, waiting at most 20 s for it.
func answer(fds []int, report string) error {
	for _, fd := range fds {
		if fd < 3 {
			continue
		}
		typ, err1 := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
		acc, err2 := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
		if err1 != nil || err2 != nil || typ != unix.SOCK_STREAM || acc != 1 {
			continue
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, 20000); err != nil || n == 0 {
			return fmt.Errorf("no connection on fd %d within 20s (poll: %v)", fd, err)
		}
		conn, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
		if err != nil {
			return fmt.Errorf("accept on fd %d: %w", fd, err)
		}
		defer unix.Close(conn)
		for b := []byte(report); len(b) > 0; {
			n, err := unix.Write(conn, b)
			if err != nil {
				return fmt.Errorf("write to the connection from fd %d: %w", fd, err)
			}
			b = b[n:]
		}
		return nil
	}
	return fmt.Errorf("no listening stream socket among fds %v", fds)
}

// openFDs returns the open fds below 1024, found without opening
// anything (reading /proc/self/fd would add one).
func openFDs() []int {
	var fds []int
	for fd := 0; fd < 1024; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}

// describe says what fd is.
func describe(fd int) string {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "error fstat: " + err.Error()
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return "other kind=" + kind(st.Mode&unix.S_IFMT)
	}
	family := sockopt(fd, unix.SO_DOMAIN, map[int]string{unix.AF_INET: "inet", unix.AF_INET6: "inet6", unix.AF_UNIX: "unix", unix.AF_NETLINK: "netlink"})
	typ := sockopt(fd, unix.SO_TYPE, map[int]string{unix.SOCK_STREAM: "stream", unix.SOCK_DGRAM: "datagram", unix.SOCK_SEQPACKET: "seqpacket", unix.SOCK_RAW: "raw"})
	listening := sockopt(fd, unix.SO_ACCEPTCONN, map[int]string{0: "no", 1: "yes"})
	return fmt.Sprintf("socket family=%s type=%s listening=%s local=%s", family, typ, listening, localAddress(fd))
}

func sockopt(fd, opt int, names map[int]string) string {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, opt)
	if err != nil {
		return "error(" + err.Error() + ")"
	}
	if n, ok := names[v]; ok {
		return n
	}
	return strconv.Itoa(v)
}

func localAddress(fd int) string {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return "error(" + err.Error() + ")"
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrUnix:
		if a.Name == "" {
			return "unnamed"
		}
		return a.Name
	default:
		return fmt.Sprintf("%T", sa)
	}
}

func kind(k uint32) string {
	switch k {
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFCHR:
		return "chardev"
	case unix.S_IFBLK:
		return "blockdev"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFREG:
		return "file"
	default:
		return fmt.Sprintf("%#o", k)
	}
}
