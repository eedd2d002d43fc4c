package payload

import (
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// InitCandidates are the paths tried, in order, for the image's init with -b.
var InitCandidates = []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd", "/sbin/init"}

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

// CheckCommand checks, before anything is set up, that the payload's
// argv[0] is an executable file where the container will look for it: in
// the image (with --volatile=yes only below its /usr), searched for in
// $PATH (from env, else DefaultPath) when it has no slash. A path that a
// bind or a file system sockspawn mounts may provide is left to the
// stage, which knows. The error says that the path was looked up in the
// image.
func CheckCommand(o Options) error {
	if len(o.Argv) == 0 || o.Argv[0] == "" {
		return fmt.Errorf("no command to run")
	}
	prog := o.Argv[0]
	if strings.Contains(prog, "/") {
		if !path.IsAbs(prog) {
			return nil // relative to the working directory inside: the stage's to find
		}
		return checkInImage(o, prog)
	}
	pathVar := DefaultPath
	for _, kv := range o.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range strings.Split(pathVar, ":") {
		if !path.IsAbs(dir) {
			continue
		}
		if checkInImage(o, path.Join(dir, prog)) == nil {
			return nil
		}
	}
	return fmt.Errorf("%s: not found in $PATH (%s) in the image %s%s", prog, pathVar, o.Image, usrOnlyNote(o))
}

// checkInImage checks the container path p for CheckCommand.
func checkInImage(o Options, p string) error {
	p = path.Clean(p)
	if !FromImage(o, p) {
		return nil
	}
	inImage := p
	if o.Volatile == systemd.VolatileYes {
		for _, l := range baseSymlinks(systemd.VolatileYes) {
			if rest, ok := strings.CutPrefix(p, l.Path+"/"); ok {
				inImage = "/" + path.Join(l.Target, rest)
			}
		}
		if !strings.HasPrefix(inImage, "/usr/") {
			return fmt.Errorf("%s: not in the container: with --volatile=yes only the image's /usr is used", p)
		}
	}
	f, err := openIn(o.Image, inImage, unix.O_PATH)
	if err != nil {
		// A symlink in the image (the last component or one on the
		// way, such as /bin -> usr/bin with /usr bound) may lead into a
		// bind or a file system sockspawn mounts: the stage's to follow.
		if r := resolveIn(o.Image, inImage); r != inImage && !FromImage(o, r) {
			return nil
		}
		return fmt.Errorf("%s: not found in the image %s%s", p, o.Image, usrOnlyNote(o))
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return &os.PathError{Op: "fstat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
		return fmt.Errorf("%s in the image %s: not an executable file", p, o.Image)
	}
	return nil
}

func usrOnlyNote(o Options) string {
	if o.Volatile == systemd.VolatileYes {
		return " (with --volatile=yes only its /usr)"
	}
	return ""
}

// resolveIn follows the symlinks of the container path p inside root as
// far as they exist, as openat2's RESOLVE_IN_ROOT would, and returns the
// path it leads to, with the components that do not exist appended as
// they are.
func resolveIn(root, p string) string {
	rest := strings.Split(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	cur := "/"
	for links := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		if c == "" || c == "." {
			continue
		}
		next := path.Join(cur, c)
		if c == ".." {
			cur = next
			continue
		}
		fi, err := os.Lstat(root + next)
		if err != nil {
			return path.Join(append([]string{next}, rest...)...)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > 40 {
			return path.Join(append([]string{next}, rest...)...)
		}
		t, err := os.Readlink(root + next)
		if err != nil {
			return path.Join(append([]string{next}, rest...)...)
		}
		if path.IsAbs(t) {
			cur = "/"
		}
		rest = append(strings.Split(t, "/"), rest...)
	}
	return cur
}
