package units

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// ParseSetCredential parses a --set-credential= / SetCredential= value,
// ID:VALUE. As in nspawn, VALUE is C-unescaped (\n, \t, \\, \xNN, \NNN
// octal, \uXXXX, ...; NUL bytes allowed), so any bytes can be given.
func ParseSetCredential(s string) (Credential, error) {
	id, value, err := splitCredential(s)
	if err == nil {
		var data []byte
		data, err = cunescape(value)
		if err == nil {
			return Credential{ID: id, Data: data}, nil
		}
	}
	return Credential{}, &ValueError{Option: "--set-credential", Value: s, Err: err}
}

// ParseLoadCredential parses a --load-credential= / LoadCredential= value,
// ID:PATH. As in nspawn, an absolute PATH names a file (or AF_UNIX socket)
// on the host, read when the container starts; a relative PATH must be a
// credential name, looked up in the supervisor's own $CREDENTIALS_DIRECTORY
// (so a credential given to container@NAME.service can be passed on).
func ParseLoadCredential(s string) (Credential, error) {
	id, path, err := splitCredential(s)
	if err == nil {
		switch {
		case path == "":
			err = errors.New("empty path (want ID:PATH)")
		case strings.HasPrefix(path, "/"):
			err = checkPath("path", path)
		default:
			if e := systemd.CheckCredentialName(path); e != nil {
				err = fmt.Errorf("path %q is neither absolute nor a credential name: %w", path, e)
			}
		}
		if err == nil {
			return Credential{ID: id, Path: path}, nil
		}
	}
	return Credential{}, &ValueError{Option: "--load-credential", Value: s, Err: err}
}

func splitCredential(s string) (id, rest string, err error) {
	id, rest, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", errors.New("no ':' after the credential name")
	}
	if err := systemd.CheckCredentialName(id); err != nil {
		return "", "", fmt.Errorf("credential name %q: %w", id, err)
	}
	return id, rest, nil
}

// FormatCredential writes c back as the value of SetCredential= (Path
// empty) or LoadCredential= (Path set), in the syntax the parsers read.
// Data is C-escaped.
func FormatCredential(c Credential) string {
	if c.Path != "" {
		return c.ID + ":" + c.Path
	}
	return c.ID + ":" + cescape(c.Data)
}

// cunescape undoes C escapes as systemd's cunescape() with
// UNESCAPE_ACCEPT_NUL does. The result is never nil.
func cunescape(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		b, n, err := cunescapeOne(s[i+1:])
		if err != nil {
			return nil, fmt.Errorf("bad escape at position %d: %w", i+1, err)
		}
		out = append(out, b...)
		i += n
	}
	return out, nil
}

// cunescapeOne decodes the escape whose backslash came just before s and
// returns its bytes and how many bytes of s it used.
func cunescapeOne(s string) ([]byte, int, error) {
	if s == "" {
		return nil, 0, errors.New("lone backslash at the end")
	}
	if i := strings.IndexByte(`abfnrtv\"'s`, s[0]); i >= 0 {
		return []byte{"\a\b\f\n\r\t\v\\\"' "[i]}, 1, nil
	}
	switch c := s[0]; {
	case c == 'x':
		if len(s) < 3 {
			return nil, 0, errors.New(`want \xNN`)
		}
		hi, ok1 := unhex(s[1])
		lo, ok2 := unhex(s[2])
		if !ok1 || !ok2 {
			return nil, 0, errors.New(`want \xNN`)
		}
		return []byte{hi<<4 | lo}, 3, nil
	case c == 'u' || c == 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if len(s) < 1+n {
			return nil, 0, fmt.Errorf(`want \%c and %d hex digits`, c, n)
		}
		var r rune
		for _, d := range []byte(s[1 : 1+n]) {
			v, ok := unhex(d)
			if !ok {
				return nil, 0, fmt.Errorf(`want \%c and %d hex digits`, c, n)
			}
			r = r<<4 | rune(v)
		}
		if !utf8.ValidRune(r) {
			return nil, 0, fmt.Errorf("U+%X is not a valid code point", r)
		}
		return utf8.AppendRune(nil, r), 1 + n, nil
	case '0' <= c && c <= '7':
		if len(s) < 3 {
			return nil, 0, errors.New(`want \NNN (three octal digits)`)
		}
		var v int
		for _, d := range []byte(s[:3]) {
			if d < '0' || d > '7' {
				return nil, 0, errors.New(`want \NNN (three octal digits)`)
			}
			v = v<<3 | int(d-'0')
		}
		if v > 0xff {
			return nil, 0, fmt.Errorf(`\%s is above \377`, s[:3])
		}
		return []byte{byte(v)}, 3, nil
	}
	return nil, 0, fmt.Errorf("unknown escape \\%c", rune(s[0]))
}

// cescape writes data so that cunescape returns it and unit-file syntax
// keeps it intact: printable ASCII as it is, other bytes escaped. A
// trailing space or backslash is written \xNN, because the parser would
// trim the one and read the other as a line continuation.
func cescape(data []byte) string {
	var b strings.Builder
	for i, c := range data {
		last := i == len(data)-1
		switch {
		case c == '\\' && !last:
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case 0x20 <= c && c <= 0x7e && c != '\\' && !(last && c == ' '):
			b.WriteByte(c)
		default:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
	}
	return b.String()
}
