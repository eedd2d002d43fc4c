package activation

// MaxCredentialSize is the largest credential accepted, systemd's
// CREDENTIAL_SIZE_MAX (1 MiB).
const MaxCredentialSize = 1 << 20

// Credential is one credential for the container, as its init will find it
// in $CREDENTIALS_DIRECTORY/ID.
type Credential struct {
	ID   string // the file name, valid for systemd.CredentialNameValid
	Data []byte // the contents, at most MaxCredentialSize bytes
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
