//go:build linux

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

type devNum struct{ Major, Minor uint32 }

// wantDevices are the character devices of the container's /dev: exactly
// the Container Interface's list; net/tun may be there as well.
var (
	wantDevices = map[string]devNum{
		"/dev/null":    {1, 3},
		"/dev/zero":    {1, 5},
		"/dev/full":    {1, 7},
		"/dev/random":  {1, 8},
		"/dev/urandom": {1, 9},
		"/dev/tty":     {5, 0},
		"/dev/ptmx":    {5, 2},
	}
	optionalDevices = map[string]devNum{
		"/dev/net/tun": {10, 200},
	}
)

// isPTYPeer reports whether a character device number is a pty peer
// (UNIX98_PTY_SLAVE_MAJOR 136 and the 7 majors after it).
func isPTYPeer(major uint32) bool { return major >= 136 && major <= 143 }

// checkDev checks that /dev holds exactly the expected device nodes (other
// file systems mounted below /dev are not looked into) and the console.
func checkDev(r *report, e expect, mi []mountEntry) {
	found := map[string]devNum{}
	var unexpected []string
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			unexpected = append(unexpected, fmt.Sprintf("%s: %v", dir, err))
			return
		}
		for _, ent := range entries {
			p := path.Join(dir, ent.Name())
			if p == "/dev/console" {
				continue // checked below
			}
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				unexpected = append(unexpected, fmt.Sprintf("%s: %v", p, err))
				continue
			}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFDIR:
				if !isMountPoint(mi, p) {
					walk(p)
				}
			case unix.S_IFLNK:
			case unix.S_IFCHR:
				found[p] = devNum{unix.Major(st.Rdev), unix.Minor(st.Rdev)}
			case unix.S_IFSOCK, unix.S_IFIFO:
				if !e.Entered { // systemd makes a few of its own
					unexpected = append(unexpected, p+" ("+fs.FileMode(st.Mode&0o777).String()+" socket/fifo)")
				}
			case unix.S_IFBLK:
				unexpected = append(unexpected, fmt.Sprintf("%s (block device %d:%d)", p, unix.Major(st.Rdev), unix.Minor(st.Rdev)))
			default:
				unexpected = append(unexpected, p+" (regular file)")
			}
		}
	}
	walk("/dev")
	var problems []string
	for p, want := range wantDevices {
		got, ok := found[p]
		switch {
		case !ok:
			problems = append(problems, p+" missing (or not a character device)")
		case got != want:
			problems = append(problems, fmt.Sprintf("%s is %d:%d, want %d:%d", p, got.Major, got.Minor, want.Major, want.Minor))
		}
	}
	for p, got := range found {
		if _, ok := wantDevices[p]; ok {
			continue
		}
		if want, ok := optionalDevices[p]; ok {
			if got != want {
				problems = append(problems, fmt.Sprintf("%s is %d:%d, want %d:%d", p, got.Major, got.Minor, want.Major, want.Minor))
			}
			continue
		}
		problems = append(problems, fmt.Sprintf("unexpected character device %s %d:%d", p, got.Major, got.Minor))
	}
	problems = append(problems, unexpected...)
	sort.Strings(problems)
	if len(problems) > 0 {
		r.fail("dev-nodes", "%s", strings.Join(problems, "; "))
	} else {
		r.ok("dev-nodes")
	}
	r.check("dev-usable", devUsable())
	checkConsole(r, e)
}

// devUsable opens the data devices and reads from those that give data.
func devUsable() error {
	for _, p := range []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"} {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		if p == "/dev/zero" || p == "/dev/urandom" {
			buf := make([]byte, 8)
			if _, err := f.Read(buf); err != nil {
				f.Close()
				return fmt.Errorf("read %s: %w", p, err)
			}
		}
		f.Close()
	}
	return nil
}

func checkConsole(r *report, e expect) {
	var st unix.Stat_t
	err := unix.Stat("/dev/console", &st)
	if e.Console == "pipe" {
		info("--console=pipe: /dev/console present: %v", err == nil)
		return
	}
	switch {
	case err != nil:
		r.fail("dev-console", "%v", err)
		return
	case st.Mode&unix.S_IFMT != unix.S_IFCHR || !isPTYPeer(unix.Major(st.Rdev)):
		r.fail("dev-console", "/dev/console is mode %o, device %d:%d: want a pty", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
		return
	}
	if !e.Entered {
		// Our stdio is the console.
		var in unix.Stat_t
		if err := unix.Fstat(0, &in); err != nil {
			r.fail("dev-console", "fstat(0): %v", err)
			return
		}
		if in.Rdev != st.Rdev {
			r.fail("dev-console", "stdin is device %d:%d, /dev/console %d:%d", unix.Major(in.Rdev), unix.Minor(in.Rdev), unix.Major(st.Rdev), unix.Minor(st.Rdev))
			return
		}
		if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err != nil {
			r.fail("dev-console", "stdin is not a terminal: %v", err)
			return
		}
	}
	r.ok("dev-console")
}
