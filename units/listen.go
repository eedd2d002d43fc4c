package units

import (
	"errors"
	"strings"
	"unicode"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// ParseListen checks a --listen= / Listen= address with
// systemd.ParseListen, the one parser of both, and returns it as given:
// [NAME=][stream:|datagram:|seqpacket:] and a ListenStream= address
// (PORT, IPv4:PORT, [IPv6]:PORT, /path or @abstract).
func ParseListen(s string) (string, error) {
	if _, err := systemd.ParseListen(s); err != nil {
		return "", &ValueError{Option: "--listen", Value: s, Err: err}
	}
	return s, nil
}

// parseListenStream checks an address of `sockspawn new --listen`, which
// becomes a ListenStream= line of the socket drop-in: an address as
// systemd.ParseListenStream reads it (no NAME= or type prefix: a socket
// unit has FileDescriptorName= and ListenDatagram= for those), without
// whitespace or '%', which systemd would split at or read as a specifier.
func parseListenStream(s string) error {
	err := func() error {
		switch {
		case strings.IndexFunc(s, unicode.IsSpace) >= 0:
			return errors.New("contains whitespace, which a ListenStream= line cannot hold")
		case strings.Contains(s, "%"):
			return errors.New(`contains '%', which systemd reads as a specifier`)
		}
		_, _, err := systemd.ParseListenStream(s)
		return err
	}()
	if err != nil {
		return &ValueError{Option: "--listen", Value: s, Err: err}
	}
	return nil
}
