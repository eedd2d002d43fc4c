package payload

import (
	"crypto/sha256"
	"fmt"
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

// MachineID returns the /etc/machine-id form (32 lowercase hex digits) of
// a canonical UUID.
func MachineID(uuid string) string { return strings.ReplaceAll(uuid, "-", "") }
