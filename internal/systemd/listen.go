package systemd

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultListenName is the fd name of a --listen socket that names none.
const DefaultListenName = "sockspawn"

// maxUnixPath is the longest AF_UNIX path: sun_path less its final NUL. An
// abstract name may use the NUL's byte instead of the leading '@'.
const maxUnixPath = 107

// Listen is one socket of --listen= or Listen=, in the syntax
// [NAME=][stream:|datagram:|seqpacket:]ADDR, where ADDR is what systemd's
// ListenStream= accepts (ParseListenStream):
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
type Listen struct {
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

// ParseListen parses one --listen= or Listen= value; see Listen for the
// syntax. The error names what is wrong, not the value, which the caller
// names.
func ParseListen(spec string) (Listen, error) {
	l := Listen{Name: DefaultListenName, Type: unix.SOCK_STREAM}
	rest := spec
	if before, after, ok := strings.Cut(rest, "="); ok &&
		!strings.HasPrefix(before, "/") && !strings.HasPrefix(before, "@") && !strings.Contains(before, ":") {
		if before == "" || !FDNameValid(before) {
			return Listen{}, fmt.Errorf("invalid fd name %q (printable ASCII but ':', at most %d bytes)", before, MaxFDNameLen)
		}
		l.Name, rest = before, after
	}
	for _, t := range listenTypes {
		if after, ok := strings.CutPrefix(rest, t.prefix+":"); ok {
			l.Type, rest = t.typ, after
			break
		}
	}
	family, addr, err := ParseListenStream(rest)
	if err != nil {
		return Listen{}, err
	}
	if l.Type == unix.SOCK_SEQPACKET && family != unix.AF_UNIX {
		return Listen{}, errors.New("seqpacket sockets must be AF_UNIX (/path or @abstract)")
	}
	l.Family, l.Address = family, addr
	return l, nil
}

// ParseListenStream parses the address of a ListenStream= line and
// returns its family and canonical form. Host names, interface suffixes
// (%dev), IPv6 zones and vsock addresses are not accepted.
func ParseListenStream(addr string) (family int, canonical string, err error) {
	if i := strings.IndexFunc(addr, isControl); i >= 0 {
		return 0, "", fmt.Errorf("contains the control character %q", addr[i])
	}
	switch {
	case addr == "":
		return 0, "", errors.New("empty address")
	case addr[0] == '/' || addr[0] == '@':
		if addr == "@" {
			return 0, "", errors.New("empty abstract socket name")
		}
		if len(addr) > maxUnixPath {
			return 0, "", fmt.Errorf("socket path longer than %d bytes", maxUnixPath)
		}
		if addr[0] == '/' && filepath.Clean(addr) != addr {
			return 0, "", fmt.Errorf("socket path is not normalized (did you mean %q?)", filepath.Clean(addr))
		}
		return unix.AF_UNIX, addr, nil
	case addr[0] >= '0' && addr[0] <= '9' && !strings.ContainsAny(addr, ".:"):
		port, err := strconv.ParseUint(addr, 10, 16)
		if err != nil || port == 0 {
			return 0, "", fmt.Errorf("port %q: not a number between 1 and 65535", addr)
		}
		return unix.AF_INET6, "[::]:" + strconv.FormatUint(port, 10), nil
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return 0, "", errors.New("not a port, IP address with port, /path or @abstract name")
	}
	if ap.Port() == 0 {
		return 0, "", errors.New("port 0 is not a listening port")
	}
	if ap.Addr().Zone() != "" {
		return 0, "", errors.New("IPv6 zones are not supported")
	}
	if addr[0] == '[' {
		if !ap.Addr().Is6() {
			return 0, "", errors.New("bracketed address is not IPv6")
		}
		return unix.AF_INET6, ap.String(), nil
	}
	if !ap.Addr().Is4() {
		return 0, "", errors.New("IPv6 addresses must be written in brackets")
	}
	return unix.AF_INET, ap.String(), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// String returns l in the syntax ParseListen reads, always with its name
// and type: "web=stream:[::]:8080".
func (l Listen) String() string {
	typ := "type" + strconv.Itoa(l.Type)
	for _, t := range listenTypes {
		if t.typ == l.Type {
			typ = t.prefix
		}
	}
	return l.Name + "=" + typ + ":" + l.Address
}
