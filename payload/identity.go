package payload

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
)

// StableUUID derives the container's UUID from its machine name, so the
// same machine gets the same UUID (and so the same /etc/machine-id on a
// volatile root) on every boot, and different machines get different ones.
// The result is a random-format (version 4) UUID.
func StableUUID(machine string) string {
	h := sha256.Sum256([]byte("sockspawn machine uuid\x00" + machine))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// NormalizeUUID checks a --uuid= value (with or without dashes) and returns
// it in the canonical lowercase dashed form. The all-zero UUID is refused:
// systemd would not accept it as a machine ID.
func NormalizeUUID(s string) (string, error) {
	if !uuidRE.MatchString(s) {
		return "", fmt.Errorf("invalid UUID %q: want 32 hexadecimal digits, optionally dashed as 8-4-4-4-12", s)
	}
	h := strings.ToLower(strings.ReplaceAll(s, "-", ""))
	if strings.Trim(h, "0") == "" {
		return "", fmt.Errorf("invalid UUID %q: the all-zero UUID is not a valid machine ID", s)
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// MachineID returns the /etc/machine-id form (32 lowercase hex digits) of
// a canonical UUID.
func MachineID(uuid string) string { return strings.ReplaceAll(uuid, "-", "") }
