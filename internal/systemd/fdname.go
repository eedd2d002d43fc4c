package systemd

// MaxFDNameLen is the longest name allowed in $LISTEN_FDNAMES (FDNAME_MAX).
const MaxFDNameLen = 255

// FDNameValid reports whether name may appear in $LISTEN_FDNAMES, with the
// rules of systemd's fdname_is_valid: printable ASCII only (no control
// characters, nothing at or above DEL), no ':' (the separator) and at most
// MaxFDNameLen bytes. The empty name is valid.
func FDNameValid(name string) bool {
	if len(name) > MaxFDNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}
