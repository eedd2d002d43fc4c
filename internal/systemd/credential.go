package systemd

import (
	"errors"
	"fmt"
)

// MaxCredentialName is the longest credential name (NAME_MAX).
const MaxCredentialName = 255

// CheckCredentialName says what makes s no credential name, with the rules
// of systemd's credential_name_valid(): a valid file name (not empty, not
// "." or "..", no '/', at most 255 bytes) that is also a valid fd name
// (printable ASCII, no ':').
func CheckCredentialName(s string) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > MaxCredentialName:
		return fmt.Errorf("longer than %d bytes", MaxCredentialName)
	case s == "." || s == "..":
		return errors.New(`"." and ".." are not allowed`)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == ':' || c == '/' {
			return fmt.Errorf("character %q at position %d is not allowed (printable ASCII but ':' and '/')", rune(c), i+1)
		}
	}
	return nil
}

// CredentialNameValid reports whether CheckCredentialName accepts s.
func CredentialNameValid(s string) bool { return CheckCredentialName(s) == nil }
