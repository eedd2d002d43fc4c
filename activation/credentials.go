package activation

import (
	"strings"

	"github.com/sockspawn/sockspawn/internal/systemd"
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
		!strings.Contains(id, "/") && systemd.FDNameValid(id)
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
