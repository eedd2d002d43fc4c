package activation

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultListenName is the fd name of a --listen socket that names none.
const DefaultListenName = "sockspawn"

// maxUnixPath is the longest AF_UNIX path: sun_path less its final NUL. An
// abstract name may use the NUL's byte instead of the leading '@'.
const maxUnixPath = 107

// ListenSpec is one socket the supervisor opens for --listen=, in the
// syntax [NAME=][stream:|datagram:|seqpacket:]ADDR, where ADDR is what
// systemd's ListenStream= accepts:
//
//	8080              port on every address, IPv6 and IPv4 ([::]:8080)
//	1.2.3.4:80        IPv4 address and port
//	[::1]:80          IPv6 address and port
//	/run/web.sock     AF_UNIX socket at an absolute path
//	@web              abstract AF_UNIX socket
//
// The text before the first '=' is a NAME unless it begins with '/' or '@'
// or contains a ':', so paths may contain '='. The type defaults to stream;
// seqpacket is for AF_UNIX only.
type ListenSpec struct {
	Name    string // fd name in $LISTEN_FDNAMES; DefaultListenName unless given
	Type    int    // unix.SOCK_STREAM, unix.SOCK_DGRAM or unix.SOCK_SEQPACKET
	Family  int    // unix.AF_INET6, unix.AF_INET or unix.AF_UNIX
	Address string // canonical: "[::]:8080", "1.2.3.4:80", "/run/web.sock", "@web"
}

var listenTypes = []struct {
	prefix string
	typ    int
}{
	{"stream", unix.SOCK_STREAM},
	{"datagram", unix.SOCK_DGRAM},
	{"seqpacket", unix.SOCK_SEQPACKET},
}

// ParseListenAddress parses one --listen= value; see ListenSpec for the
// syntax.
func ParseListenAddress(spec string) (ListenSpec, error) {
	ls := ListenSpec{Name: DefaultListenName, Type: unix.SOCK_STREAM}
	rest := spec
	if before, after, ok := strings.Cut(rest, "="); ok &&
		!strings.HasPrefix(before, "/") && !strings.HasPrefix(before, "@") && !strings.Contains(before, ":") {
		if before == "" || !FDNameValid(before) {
			return ListenSpec{}, fmt.Errorf("listen address %q: invalid fd name %q", spec, before)
		}
		ls.Name, rest = before, after
	}
	for _, t := range listenTypes {
		if after, ok := strings.CutPrefix(rest, t.prefix+":"); ok {
			ls.Type, rest = t.typ, after
			break
		}
	}
	family, addr, err := parseSocketAddress(rest)
	if err != nil {
		return ListenSpec{}, fmt.Errorf("listen address %q: %w", spec, err)
	}
	if ls.Type == unix.SOCK_SEQPACKET && family != unix.AF_UNIX {
		return ListenSpec{}, fmt.Errorf("listen address %q: seqpacket sockets must be AF_UNIX", spec)
	}
	ls.Family, ls.Address = family, addr
	return ls, nil
}

// parseSocketAddress parses the ADDR of a ListenStream= line and returns its
// family and canonical form.
func parseSocketAddress(addr string) (family int, canonical string, err error) {
	switch {
	case addr == "":
		return 0, "", fmt.Errorf("empty address")
	case addr[0] == '/' || addr[0] == '@':
		if strings.IndexByte(addr, 0) >= 0 {
			return 0, "", fmt.Errorf("socket path contains a NUL byte")
		}
		if addr == "@" {
			return 0, "", fmt.Errorf("empty abstract socket name")
		}
		if len(addr) > maxUnixPath {
			return 0, "", fmt.Errorf("socket path longer than %d bytes", maxUnixPath)
		}
		return unix.AF_UNIX, addr, nil
	case addr[0] >= '0' && addr[0] <= '9' && !strings.ContainsAny(addr, ".:"):
		port, err := parseDecimal(addr, 65535)
		if err != nil || port == 0 {
			return 0, "", fmt.Errorf("port %q: not a number between 1 and 65535", addr)
		}
		return unix.AF_INET6, "[::]:" + strconv.Itoa(port), nil
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return 0, "", fmt.Errorf("not a port, IP address with port, or absolute path: %w", err)
	}
	if ap.Port() == 0 {
		return 0, "", fmt.Errorf("port 0 is not a listening port")
	}
	if ap.Addr().Zone() != "" {
		return 0, "", fmt.Errorf("IPv6 zones are not supported")
	}
	if addr[0] == '[' {
		if !ap.Addr().Is6() {
			return 0, "", fmt.Errorf("bracketed address is not IPv6")
		}
		return unix.AF_INET6, ap.String(), nil
	}
	if !ap.Addr().Is4() {
		return 0, "", fmt.Errorf("IPv6 addresses must be written in brackets")
	}
	return unix.AF_INET, ap.String(), nil
}

// String returns the spec in the syntax ParseListenAddress reads,
// always with its name and type: "web=stream:[::]:8080".
func (s ListenSpec) String() string {
	typ := "type" + strconv.Itoa(s.Type)
	for _, t := range listenTypes {
		if t.typ == s.Type {
			typ = t.prefix
		}
	}
	return s.Name + "=" + typ + ":" + s.Address
}
