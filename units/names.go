package units

import (
	"errors"
	"fmt"
	"strings"
)

// MaxNameLength is the longest machine name, hostname or instance name
// accepted: Linux's HOST_NAME_MAX, which systemd uses for the same check.
const MaxNameLength = 64

// UnitPrefix and the suffixes below make up the unit names of a machine:
// "container@NAME.service" and "container@NAME.socket".
const (
	UnitPrefix    = "container@"
	ServiceSuffix = ".service"
	SocketSuffix  = ".socket"
)

// ValidMachineName reports whether s may name a machine. The rules are
// systemd's hostname_is_valid() without VALID_HOSTNAME_DOT_HOST (the rules
// machined applies when the machine registers): 1 to 64 characters, ASCII
// letters, digits, '-' and '.'; no empty label (so no leading, trailing or
// double dot); no label that starts or ends with '-'. Current systemd
// rejects '_' (older releases allowed it), so sockspawn does too: machined
// would refuse to register such a machine.
//
// The error names the culprit: `invalid machine name "a/b": ...`.
func ValidMachineName(s string) error {
	if err := hostnameRules(s); err != nil {
		return fmt.Errorf("invalid machine name %q: %w", s, err)
	}
	return nil
}

// ValidHostname reports whether s may be a container's hostname (the
// --hostname flag and the Hostname= key). The rules are those of
// ValidMachineName.
func ValidHostname(s string) error {
	if err := hostnameRules(s); err != nil {
		return fmt.Errorf("invalid hostname %q: %w", s, err)
	}
	return nil
}

// ValidInstanceName reports whether s may be the instance part of
// container@INSTANCE.service. The instance is the machine name itself
// (ExecStart= passes %i to `sockspawn boot`), so it must be a valid machine
// name; the checks that guard paths built from it ("..", "/", control
// characters, length) come first so that their errors say what is wrong.
func ValidInstanceName(s string) error {
	var err error
	switch {
	case s == "":
		err = errors.New("empty")
	case len(s) > MaxNameLength:
		err = fmt.Errorf("longer than %d characters", MaxNameLength)
	case strings.IndexFunc(s, isControl) >= 0:
		err = errors.New("contains a control character")
	case strings.Contains(s, "/"):
		err = errors.New(`contains "/"`)
	case strings.Contains(s, ".."):
		err = errors.New(`contains ".."`)
	default:
		err = hostnameRules(s)
	}
	if err != nil {
		return fmt.Errorf("invalid instance name %q: %w", s, err)
	}
	return nil
}

// hostnameRules implements systemd's hostname_is_valid(s, 0) and says which
// rule s breaks.
func hostnameRules(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > MaxNameLength {
		return fmt.Errorf("longer than %d characters", MaxNameLength)
	}
	if s == ".host" {
		return errors.New(`".host" is reserved for the host itself`)
	}
	// dot: the previous character was a dot, or we are at the start;
	// hyphen: the previous character was a hyphen.
	dot, hyphen := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if i == 0 {
				return errors.New("starts with a dot")
			}
			if dot {
				return fmt.Errorf("two dots in a row at position %d", i+1)
			}
			if hyphen {
				return fmt.Errorf("a label ends with '-' at position %d", i)
			}
			dot, hyphen = true, false
		case c == '-':
			if dot {
				return fmt.Errorf("a label starts with '-' at position %d", i+1)
			}
			dot, hyphen = false, true
		case isLetterOrDigit(c):
			dot, hyphen = false, false
		default:
			return fmt.Errorf("character %q at position %d is not allowed (letters, digits, '-' and '.' only)", rune(c), i+1)
		}
	}
	if dot {
		return errors.New("ends with a dot")
	}
	if hyphen {
		return errors.New("ends with '-'")
	}
	return nil
}

func isLetterOrDigit(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f
}

// ServiceName returns the service unit that runs machine: "container@NAME.service".
// Machine names need no escaping in unit names (every character a valid
// machine name may hold is valid in an instance), and systemd's own
// systemd-nspawn@.service does not escape them either, so none is done:
// %i in the unit is the machine name as it is.
func ServiceName(machine string) string {
	return UnitPrefix + machine + ServiceSuffix
}

// SocketName returns the socket unit of machine: "container@NAME.socket".
func SocketName(machine string) string {
	return UnitPrefix + machine + SocketSuffix
}

// unitNameChar reports the bytes systemd's unit_name_escape() leaves alone,
// besides '/' which becomes '-'.
func unitNameChar(c byte) bool {
	return isLetterOrDigit(c) || c == ':' || c == '_' || c == '.'
}

const hexDigits = "0123456789abcdef"

// Escape escapes s the way `systemd-escape` (without --path) does: '/'
// becomes '-'; '-', '\', a leading '.', and every byte other than ASCII
// letters, digits, ':', '_' and '.' become `\xNN`. The result is a valid
// part of a unit name; Unescape reverses it.
//
// go-systemd's unit.UnitNameEscape is not used: it writes bytes below 0x10
// with one hex digit (`\x5`) and its unescape cannot decode bytes at or
// above 0x80, so non-ASCII text does not survive a round trip.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case c == '.' && i == 0, !unitNameChar(c):
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Unescape reverses Escape, as `systemd-escape --unescape` does: '-'
// becomes '/' and `\xNN` the byte NN. A backslash not followed by 'x' and
// two hex digits is an error, as in systemd's unit_name_unescape().
func Unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '-':
			b.WriteByte('/')
		case '\\':
			if i+4 > len(s) || s[i+1] != 'x' {
				return "", fmt.Errorf("invalid escape in %q at position %d: want \\xNN", s, i+1)
			}
			hi, ok1 := unhex(s[i+2])
			lo, ok2 := unhex(s[i+3])
			if !ok1 || !ok2 {
				return "", fmt.Errorf("invalid escape in %q at position %d: want \\xNN", s, i+1)
			}
			b.WriteByte(hi<<4 | lo)
			i += 3
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
