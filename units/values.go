package units

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// ValueError reports a value that one of this package's parsers rejected.
// The same parsers serve the command line and the configuration files, so
// Option names the value's origin as the user wrote it: "--bind" for a
// flag, "Bind=" for a key in a file (ParseConfigFile rewrites it so). An
// empty Option gives "invalid value ...".
type ValueError struct {
	Option string // "--bind", "Bind=", or ""
	Value  string // the value as given
	Err    error  // what is wrong with it
}

// Error reads like `invalid --bind "x": source "x" is not an absolute path`.
func (e *ValueError) Error() string {
	if e.Option == "" {
		return fmt.Sprintf("invalid value %q: %v", e.Value, e.Err)
	}
	return fmt.Sprintf("invalid %s %q: %v", e.Option, e.Value, e.Err)
}

// Unwrap returns the reason.
func (e *ValueError) Unwrap() error { return e.Err }

func invalid(option, value string, format string, args ...any) error {
	return &ValueError{Option: option, Value: value, Err: fmt.Errorf(format, args...)}
}

// ParseBool parses a boolean as systemd's parse_boolean() does, ignoring
// case: 1, yes, y, true, t, on are true; 0, no, n, false, f, off are false.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, invalid("", s, "not a boolean (use yes or no)")
}

// FormatBool returns "yes" or "no", the spelling Describe writes.
func FormatBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ParseVolatile parses a --volatile= mode: "no", "yes" or "state". As in
// systemd, a boolean is accepted too (true means yes, false means no).
// nspawn's "overlay" mode is rejected as not supported.
func ParseVolatile(s string) (systemd.Volatile, error) {
	if b, err := ParseBool(s); err == nil {
		if b {
			return systemd.VolatileYes, nil
		}
		return systemd.VolatileNo, nil
	}
	switch systemd.Volatile(strings.ToLower(s)) {
	case systemd.VolatileState:
		return systemd.VolatileState, nil
	case "overlay":
		return "", invalid("--volatile", s, "overlay mode is not supported (use no, yes or state)")
	}
	return "", invalid("--volatile", s, "unknown mode (use no, yes or state)")
}

// ParseConsole parses a --console= mode: interactive, read-only, passive or
// pipe. nspawn's "autopipe" is rejected as not supported: leaving the flag
// unset already chooses by whether stdin is a terminal.
func ParseConsole(s string) (Console, error) {
	switch c := Console(s); c {
	case ConsoleInteractive, ConsoleReadOnly, ConsolePassive, ConsolePipe:
		return c, nil
	case "autopipe":
		return "", invalid("--console", s, "autopipe is not supported (leave --console unset to choose by whether stdin is a terminal)")
	}
	return "", invalid("--console", s, "unknown mode (use interactive, read-only, passive or pipe)")
}

// ParseUUID parses a machine UUID, written as 32 hex digits or in the
// 8-4-4-4-12 form, and returns it in the lower-case 8-4-4-4-12 form. As in
// nspawn, the all-zero UUID is rejected.
func ParseUUID(s string) (string, error) {
	hex := s
	if len(s) == 36 {
		for _, i := range []int{8, 13, 18, 23} {
			if s[i] != '-' {
				return "", invalid("--uuid", s, "not a UUID (want 32 hex digits, dashes optional in the 8-4-4-4-12 form)")
			}
		}
		hex = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(hex) != 32 {
		return "", invalid("--uuid", s, "not a UUID (want 32 hex digits, dashes optional in the 8-4-4-4-12 form)")
	}
	zero := true
	for i := 0; i < len(hex); i++ {
		d, ok := unhex(hex[i])
		if !ok {
			return "", invalid("--uuid", s, "%q is not a hex digit", rune(hex[i]))
		}
		if d != 0 {
			zero = false
		}
	}
	if zero {
		return "", invalid("--uuid", s, "the all-zero UUID is not allowed")
	}
	l := strings.ToLower(hex)
	return l[:8] + "-" + l[8:12] + "-" + l[12:16] + "-" + l[16:20] + "-" + l[20:], nil
}

// ParseSetenv checks one --setenv= / Environment= assignment, KEY=VALUE,
// and returns it unchanged. KEY is a letter or '_' followed by letters,
// digits and '_'; VALUE may be empty and may hold anything but control
// characters other than tab.
func ParseSetenv(s string) (string, error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return "", invalid("--setenv", s, "want KEY=VALUE")
	}
	if key == "" {
		return "", invalid("--setenv", s, "empty variable name")
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return "", invalid("--setenv", s, "variable name %q: character %q at position %d is not allowed (letters, digits and '_', not starting with a digit)", key, rune(c), i+1)
		}
	}
	if strings.IndexFunc(value, isControlNotTab) >= 0 {
		return "", invalid("--setenv", s, "the value contains a control character")
	}
	return s, nil
}

// unquoteSetenv reads an Environment= value of NAME.conf: KEY=VALUE as
// it is, or the whole assignment quoted as Parameters= quotes
// ("KEY=VALUE "), which keeps what unit-file syntax would trim or take
// for a continuation: white space or a backslash at the end. A
// variable's name never starts with a quote, so no other value changes
// meaning.
func unquoteSetenv(v string) (string, error) {
	if v[0] != '"' && v[0] != '\'' {
		return v, nil
	}
	words, err := SplitParameters(v)
	if err != nil {
		return "", err
	}
	if len(words) != 1 {
		return "", errors.New("want one quoted KEY=VALUE")
	}
	return words[0], nil
}

// formatSetenv writes Environment[i] as unquoteSetenv reads it back:
// quoted only where it ends in white space or a backslash.
func formatSetenv(c *Config, i int) (string, bool) {
	e := c.Environment[i]
	if strings.HasSuffix(e, " ") || strings.HasSuffix(e, "\t") || strings.HasSuffix(e, `\`) {
		return JoinParameters([]string{e}), true
	}
	return e, true
}

func isControlNotTab(r rune) bool {
	return r != '\t' && isControl(r)
}

// checkPath checks a host or container path given as what ("source",
// "target", "directory"): absolute, normalized (no ".", "..", "//" or
// trailing '/'), no control characters, and not ending in a backslash
// (which unit-file syntax would read as a line continuation).
func checkPath(what, p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%s is empty", what)
	case !filepath.IsAbs(p):
		return fmt.Errorf("%s %q is not an absolute path", what, p)
	case strings.IndexFunc(p, isControl) >= 0:
		return fmt.Errorf("%s %q contains a control character", what, p)
	case filepath.Clean(p) != p:
		return fmt.Errorf("%s %q is not normalized (did you mean %q?)", what, p, filepath.Clean(p))
	case strings.HasSuffix(p, `\`):
		return fmt.Errorf("%s %q ends with a backslash", what, p)
	}
	return nil
}

// ParseDirectory checks a -D / Directory= value: an absolute, normalized
// path. It returns the path unchanged.
func ParseDirectory(s string) (string, error) {
	if err := checkPath("directory", s); err != nil {
		return "", &ValueError{Option: "--directory", Value: s, Err: err}
	}
	return s, nil
}

// UserRange is a parsed --private-users= value.
type UserRange struct {
	Enabled bool
	Base    uint32 // 0: pick a free range from the machine name
	Size    uint32
}

// ParsePrivateUsers parses a --private-users= / PrivateUsers= value: a
// boolean ("no" turns user namespaces off, "yes" means "pick"), "pick" (a
// free range of 65536 picked from the machine name), or "UID[:COUNT]"
// (COUNT defaults to 65536; UID 0 is refused, it would map the container's
// root to the host's).
func ParsePrivateUsers(s string) (UserRange, error) {
	if b, err := ParseBool(s); err == nil {
		return UserRange{Enabled: b, Size: 65536}, nil
	}
	if strings.EqualFold(s, "pick") {
		return UserRange{Enabled: true, Size: 65536}, nil
	}
	base, count, hasCount := strings.Cut(s, ":")
	b, err := strconv.ParseUint(base, 10, 64)
	switch {
	case err != nil:
		return UserRange{}, invalid("", s, "want pick, no or UID[:COUNT]")
	case b == 0:
		return UserRange{}, invalid("", s, "UID 0 would make the container's root the host's root")
	case b > 0xFFFFFFFE:
		return UserRange{}, invalid("", s, "UID %d is beyond the last, 4294967294", b)
	}
	n := uint64(65536)
	if hasCount {
		if n, err = strconv.ParseUint(count, 10, 64); err != nil || n == 0 || n > 0xFFFFFFFE {
			return UserRange{}, invalid("", s, "COUNT must be a number from 1 to 4294967294")
		}
	}
	if b+n-1 > 0xFFFFFFFE {
		return UserRange{}, invalid("", s, "the range would end at %d; it must end below 4294967295, which is no UID", b+n-1)
	}
	return UserRange{Enabled: true, Base: uint32(b), Size: uint32(n)}, nil
}

// ParseLinkJournal parses a --link-journal= / LinkJournal= mode: no, host,
// try-host, guest, try-guest or auto.
func ParseLinkJournal(s string) (LinkJournal, error) {
	switch m := LinkJournal(s); m {
	case LinkJournalNo, LinkJournalHost, LinkJournalTryHost, LinkJournalGuest, LinkJournalTryGuest, LinkJournalAuto:
		return m, nil
	}
	return "", invalid("", s, "want no, host, try-host, guest, try-guest or auto")
}

// ParseTimezone parses a --timezone= / Timezone= mode: auto, symlink or
// off. nspawn's copy, bind and delete are refused as not supported.
func ParseTimezone(s string) (string, error) {
	switch s {
	case "auto", "symlink", "off":
		return s, nil
	case "copy", "bind", "delete":
		return "", invalid("", s, "not supported by sockspawn (use symlink, auto or off)")
	}
	return "", invalid("", s, "want auto, symlink or off")
}
