package payload

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSealedSelf: both ways of sealing the running executable give a file
// that runs, has the executable's contents, and refuses every way of
// writing through /proc (CVE-2019-5736).
func TestSealedSelf(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: overlayfs mounts and /run/sockspawn")
	}
	want := hashFile(t, "/proc/self/exe")
	for name, seal := range map[string]func() (*os.File, error){"overlay": sealedOverlay, "memfd": sealedMemfd, "SealedSelf": SealedSelf} {
		t.Run(name, func(t *testing.T) {
			f, err := seal()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			defer f.Close()
			p := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
			if got := hashFile(t, p); got != want {
				t.Errorf("contents hash to %s, the executable to %s", got, want)
			}
			for _, flags := range []int{unix.O_WRONLY, unix.O_RDWR, unix.O_WRONLY | unix.O_APPEND, unix.O_WRONLY | unix.O_TRUNC} {
				fd, err := unix.Open(p, flags|unix.O_CLOEXEC, 0)
				if err == nil {
					// A sealed memfd opens (the container sees ETXTBSY
					// while it runs), but takes no write.
					if _, err := unix.Pwrite(fd, []byte{0}, 0); err == nil {
						t.Errorf("write to %s opened with flags %#x: no error", p, flags)
					}
					unix.Close(fd)
				} else if !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.ETXTBSY) {
					t.Errorf("open %s with flags %#x: %v, want EROFS, EPERM, EACCES or ETXTBSY", p, flags, err)
				}
			}
			if err := unix.Truncate(p, 0); err == nil {
				t.Errorf("truncate %s: no error", p)
			}
			out, err := exec.Command(p, "-test.run=^$").CombinedOutput()
			if err != nil {
				t.Errorf("run %s: %v\n%s", p, err, out)
			}
		})
	}
}

func hashFile(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
