package activation

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxCredentialSize is the largest credential accepted, systemd's
// CREDENTIAL_SIZE_MAX (1 MiB).
const MaxCredentialSize = 1 << 20

// maxCredentialName is the longest credential name (NAME_MAX).
const maxCredentialName = 255

// Credential is one credential for the container, as its init will find it
// in $CREDENTIALS_DIRECTORY/ID.
type Credential struct {
	ID   string // the file name, valid for CredentialNameValid
	Data []byte // the contents, at most MaxCredentialSize bytes
}

// CredentialNameValid reports whether id may name a credential, with the
// rules of systemd's credential_name_valid: a valid file name (not empty,
// not "." or "..", no '/', at most 255 bytes) that is also a valid fd name
// (printable ASCII, no ':').
func CredentialNameValid(id string) bool {
	return id != "" && id != "." && id != ".." && len(id) <= maxCredentialName &&
		!strings.Contains(id, "/") && FDNameValid(id)
}

// ParseSetCredential parses a --set-credential=ID:VALUE argument. VALUE is
// unescaped as systemd's cunescape does: \a \b \f \n \r \t \v \\ \" \' \s
// (space), \xNN, \NNN (octal), \uNNNN and \UNNNNNNNN; a NUL may be written
// as \x00. Any other backslash sequence is an error.
func ParseSetCredential(s string) (Credential, error) {
	id, value, ok := strings.Cut(s, ":")
	if !ok {
		return Credential{}, fmt.Errorf("credential %q: not ID:VALUE", truncate(s))
	}
	if !CredentialNameValid(id) {
		return Credential{}, fmt.Errorf("credential %q: invalid credential name", truncate(id))
	}
	data, err := unescapeC(value)
	if err != nil {
		return Credential{}, fmt.Errorf("credential %q: %w", id, err)
	}
	if len(data) > MaxCredentialSize {
		return Credential{}, fmt.Errorf("credential %q: %d bytes, more than %d", id, len(data), MaxCredentialSize)
	}
	return Credential{ID: id, Data: data}, nil
}

// FormatSetCredential returns the ID:VALUE argument that ParseSetCredential
// turns back into c, escaping what needs it.
func FormatSetCredential(c Credential) string {
	var b strings.Builder
	b.WriteString(c.ID)
	b.WriteByte(':')
	for _, ch := range c.Data {
		switch ch {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if ch < ' ' || ch >= 0x7f {
				fmt.Fprintf(&b, `\x%02x`, ch)
			} else {
				b.WriteByte(ch)
			}
		}
	}
	return b.String()
}

// unescapeC undoes C-style escapes, as systemd's cunescape with
// CUNESCAPE_ACCEPT_NUL.
func unescapeC(s string) ([]byte, error) {
	if !strings.Contains(s, `\`) {
		return []byte(s), nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		i++
		if i == len(s) {
			return nil, fmt.Errorf("value ends with a lone backslash")
		}
		if b, ok := simpleEscapes[s[i]]; ok {
			out = append(out, b)
			continue
		}
		switch c := s[i]; {
		case c == 'x':
			v, err := hexDigits(s, i+1, 2)
			if err != nil {
				return nil, err
			}
			out = append(out, byte(v))
			i += 2
		case c == 'u' || c == 'U':
			width := 4
			if c == 'U' {
				width = 8
			}
			v, err := hexDigits(s, i+1, width)
			if err != nil {
				return nil, err
			}
			if v != 0 && !unicharValid(v) {
				return nil, fmt.Errorf(`\%c%0*x is not a valid code point`, c, width, v)
			}
			out = utf8.AppendRune(out, rune(v))
			i += width
		case c >= '0' && c <= '7':
			if i+3 > len(s) {
				return nil, fmt.Errorf(`octal escape \%s needs three digits`, s[i:])
			}
			v := 0
			for _, d := range []byte(s[i : i+3]) {
				if d < '0' || d > '7' {
					return nil, fmt.Errorf(`octal escape \%s needs three digits`, s[i:i+3])
				}
				v = v*8 + int(d-'0')
			}
			if v > 0xff {
				return nil, fmt.Errorf(`octal escape \%s is larger than \377`, s[i:i+3])
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf(`unknown escape \%c`, c)
		}
	}
	return out, nil
}

// simpleEscapes maps the letter after a backslash to the byte it stands for.
var simpleEscapes = map[byte]byte{
	'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
	'\\': '\\', '"': '"', '\'': '\'', 's': ' ',
}

// hexDigits parses exactly n hex digits of s starting at i.
func hexDigits(s string, i, n int) (uint32, error) {
	if i+n > len(s) {
		return 0, fmt.Errorf(`escape \%s needs %d hex digits`, s[i-1:], n)
	}
	var v uint32
	for _, d := range []byte(s[i : i+n]) {
		switch {
		case d >= '0' && d <= '9':
			d -= '0'
		case d >= 'a' && d <= 'f':
			d -= 'a' - 10
		case d >= 'A' && d <= 'F':
			d -= 'A' - 10
		default:
			return 0, fmt.Errorf(`escape \%s needs %d hex digits`, s[i-1:i+n], n)
		}
		v = v<<4 | uint32(d)
	}
	return v, nil
}

// unicharValid is systemd's unichar_is_valid: a Unicode scalar value that
// is not a noncharacter.
func unicharValid(v uint32) bool {
	switch {
	case v >= 0x110000,
		v&0xfffff800 == 0xd800,
		v >= 0xfdd0 && v <= 0xfdef,
		v&0xfffe == 0xfffe:
		return false
	}
	return true
}

// ParseLoadCredential parses a --load-credential=ID:PATH argument. PATH is
// either absolute or, when it has no '/', the name of a credential in the
// supervisor's own $CREDENTIALS_DIRECTORY (see LoadCredential).
func ParseLoadCredential(s string) (id, path string, err error) {
	id, path, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", fmt.Errorf("credential %q: not ID:PATH", truncate(s))
	}
	if !CredentialNameValid(id) {
		return "", "", fmt.Errorf("credential %q: invalid credential name", truncate(id))
	}
	if err := checkCredentialPath(path); err != nil {
		return "", "", fmt.Errorf("credential %q: %w", id, err)
	}
	return id, path, nil
}

// checkCredentialPath accepts an absolute path without NUL bytes or the
// valid name of an inherited credential.
func checkCredentialPath(path string) error {
	switch {
	case strings.HasPrefix(path, "/"):
		if strings.IndexByte(path, 0) >= 0 {
			return fmt.Errorf("path %q contains a NUL byte", truncate(path))
		}
		return nil
	case CredentialNameValid(path):
		return nil
	}
	return fmt.Errorf("path %q is neither absolute nor the name of an inherited credential", truncate(path))
}

// MergeCredentials returns inherited with explicit laid over it: an explicit
// credential replaces the inherited one of the same ID in its place; the
// others are appended in their order. Of several explicit credentials with
// one ID the last wins, as with repeated flags. The inputs are not changed.
func MergeCredentials(inherited, explicit []Credential) []Credential {
	if len(inherited)+len(explicit) == 0 {
		return nil
	}
	out := make([]Credential, 0, len(inherited)+len(explicit))
	index := make(map[string]int, cap(out))
	for _, list := range [][]Credential{inherited, explicit} {
		for _, c := range list {
			if i, ok := index[c.ID]; ok {
				out[i] = c
				continue
			}
			index[c.ID] = len(out)
			out = append(out, c)
		}
	}
	return out
}
