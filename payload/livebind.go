package payload

import (
	"fmt"
	"path"
	"strings"
)

// liveBindGuarded are the mounts sockspawn makes that a live bind may not
// cover, nor any directory above them: the container would lose what the
// Container Interface promises it.
var liveBindGuarded = []string{"/proc", "/sys", "/dev", RunHostDir}

// CheckLiveBindTarget checks the target of `sockspawn bind` as written,
// before anything is resolved: an absolute path inside the container,
// without "..", neither its root nor on or above /proc, /sys, /dev or
// /run/host, and not inside /run/host, which is the container manager's.
func CheckLiveBindTarget(target string) error {
	if !strings.HasPrefix(target, "/") {
		return fmt.Errorf("target %q: not an absolute path inside the container", target)
	}
	for _, c := range strings.Split(target, "/") {
		if c == ".." {
			return fmt.Errorf("target %q: \"..\" would leave the directory named; name the target inside the container without it", target)
		}
	}
	t := path.Clean(target)
	if t == "/" {
		return fmt.Errorf("target %q: refusing to bind over the container's root", target)
	}
	if t == RunHostDir || strings.HasPrefix(t, RunHostDir+"/") {
		return fmt.Errorf("target %q: %s belongs to the container manager", target, RunHostDir)
	}
	for _, g := range liveBindGuarded {
		if g == t || strings.HasPrefix(g, t+"/") {
			return fmt.Errorf("target %q: refusing to bind over %s, which sockspawn mounts for the container", target, g)
		}
	}
	return nil
}
