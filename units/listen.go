package units

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// maxUnixPath is the longest AF_UNIX path: sun_path less its NUL.
const maxUnixPath = 107

// ParseListen checks a --listen= / Listen= address, in the subset of
// systemd's ListenStream= syntax that needs no quoting in a unit file, and
// returns it unchanged:
//
//   - /path: an AF_UNIX socket (absolute, normalized, at most 107 bytes);
//   - @name: an abstract AF_UNIX socket;
//   - PORT: a TCP port on all addresses (1 to 65535);
//   - IPv4:PORT or [IPv6]:PORT: a TCP port on one address.
//
// Whitespace and '%' are rejected: systemd would split at the one and read
// the other as a specifier when the address is written into a socket unit
// (`sockspawn new --listen`). Host names, interface suffixes (%dev) and
// vsock addresses are not accepted.
func ParseListen(s string) (string, error) {
	if err := listenRules(s); err != nil {
		return "", &ValueError{Option: "--listen", Value: s, Err: err}
	}
	return s, nil
}

func listenRules(s string) error {
	switch {
	case s == "":
		return errors.New("empty address")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return errors.New("contains whitespace")
	case strings.IndexFunc(s, isControl) >= 0:
		return errors.New("contains a control character")
	case strings.Contains(s, "%"):
		return errors.New(`contains '%', which systemd reads as a specifier`)
	case len(s) > maxUnixPath && (s[0] == '/' || s[0] == '@'):
		return fmt.Errorf("socket path longer than %d bytes", maxUnixPath)
	case s[0] == '/':
		return checkPath("socket path", s)
	case s[0] == '@':
		if len(s) == 1 {
			return errors.New("empty abstract socket name")
		}
		return nil
	}
	if port, err := strconv.ParseUint(s, 10, 16); err == nil {
		if port == 0 {
			return errors.New("port 0 is not allowed")
		}
		return nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return errors.New("not a socket address (want /path, @abstract, PORT, IPv4:PORT or [IPv6]:PORT)")
	}
	if ap.Port() == 0 {
		return errors.New("port 0 is not allowed")
	}
	return nil
}
