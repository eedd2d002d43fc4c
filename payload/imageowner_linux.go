package payload

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// ImageOwners returns the owners of those of paths that exist in image,
// each resolved inside the image, symlinks not followed.
func ImageOwners(image string, paths []string) ([]Owned, error) {
	var out []Owned
	for _, p := range paths {
		f, err := openIn(image, p, unix.O_PATH|unix.O_NOFOLLOW)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
			continue
		}
		if err != nil {
			return out, err
		}
		var st unix.Stat_t
		err = unix.Fstat(int(f.Fd()), &st)
		f.Close()
		if err != nil {
			return out, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			continue // its target is sampled, or is not the image's
		}
		out = append(out, Owned{Path: p, UID: st.Uid, GID: st.Gid})
	}
	return out, nil
}
