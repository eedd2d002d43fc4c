package payload

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// InitCandidates are the paths tried, in order, for the image's init with -b.
var InitCandidates = []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd", "/sbin/init"}

// CheckImage verifies that dir is a directory the container can use as its
// image.
func CheckImage(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("image directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("image directory %s: not a directory", dir)
	}
	return nil
}

// FindInit returns the first of InitCandidates that is an executable file
// inside the image, resolved inside the image (a symlink in the image
// cannot point the lookup at the host). With usrOnly (a volatile root),
// only paths below /usr count.
func FindInit(image string, usrOnly bool) (string, error) {
	for _, c := range InitCandidates {
		if usrOnly && c[:5] != "/usr/" {
			continue
		}
		f, err := openIn(image, c, unix.O_PATH)
		if err != nil {
			continue
		}
		var st unix.Stat_t
		err = unix.Fstat(int(f.Fd()), &st)
		f.Close()
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o111 != 0 {
			return c, nil
		}
	}
	return "", fmt.Errorf("image %s has no init: none of %v is an executable file in it", image, InitCandidates)
}
