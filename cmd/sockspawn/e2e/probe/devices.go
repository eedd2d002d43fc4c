//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// devSpec is one device node: NAME:TYPE:MAJOR:MINOR.
type devSpec struct {
	Name         string
	Block        bool
	Major, Minor uint32
}

func parseDevSpec(s string) (devSpec, error) {
	f := strings.Split(s, ":")
	if len(f) != 4 || (f[1] != "c" && f[1] != "b") {
		return devSpec{}, fmt.Errorf("device %q: want NAME:c|b:MAJOR:MINOR", s)
	}
	ma, err1 := strconv.ParseUint(f[2], 10, 32)
	mi, err2 := strconv.ParseUint(f[3], 10, 32)
	if err1 != nil || err2 != nil || f[0] == "" || strings.Contains(f[0], "/") {
		return devSpec{}, fmt.Errorf("device %q: bad name or number", s)
	}
	return devSpec{Name: f[0], Block: f[1] == "b", Major: uint32(ma), Minor: uint32(mi)}, nil
}

func (d devSpec) mknod(dir string) error {
	mode := uint32(unix.S_IFCHR | 0o600)
	if d.Block {
		mode = unix.S_IFBLK | 0o600
	}
	return unix.Mknod(filepath.Join(dir, d.Name), mode, int(unix.Mkdev(d.Major, d.Minor)))
}

func parseDevSpecs(args []string) ([]devSpec, error) {
	var out []devSpec
	for _, a := range args {
		d, err := parseDevSpec(a)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// makeNodes is `probe mknod DIR SPEC...`: it creates the nodes for a later
// `probe devices` to open. The test runs it outside the container's
// cgroup, where the device policy does not apply.
func makeNodes(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: probe mknod DIR [SPEC ...]")
	}
	specs, err := parseDevSpecs(args[1:])
	if err != nil {
		return err
	}
	if err := os.MkdirAll(args[0], 0o700); err != nil {
		return err
	}
	res := map[string]string{}
	for _, d := range specs {
		res[d.Name] = errnoName(d.mknod(args[0]))
	}
	return emit(map[string]any{"mknod": res})
}

// probeDevices is `probe devices TMPDIR PREMADE SPEC...`: for each device
// it tries mknod in TMPDIR (a fresh directory is made there) and opening
// the node of the same name in PREMADE, which `probe mknod` made. The
// device "null" is also written to, the others only opened read-only and
// non-blocking.
func probeDevices(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: probe devices TMPDIR PREMADE [SPEC ...]")
	}
	specs, err := parseDevSpecs(args[2:])
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(args[0], "probe-mknod-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	mknod, open := map[string]string{}, map[string]string{}
	for _, d := range specs {
		mknod[d.Name] = errnoName(d.mknod(dir))
		open[d.Name] = openDevice(filepath.Join(args[1], d.Name), d.Name == "null")
	}
	cg, _ := os.ReadFile("/proc/self/cgroup")
	return emit(map[string]any{"mknod": mknod, "open": open, "cgroup": strings.TrimSpace(string(cg))})
}

func openDevice(p string, write bool) string {
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	if write {
		flags = unix.O_RDWR | unix.O_CLOEXEC | unix.O_NOCTTY
	}
	fd, err := unix.Open(p, flags, 0)
	if err != nil {
		return errnoName(err)
	}
	defer unix.Close(fd)
	if write {
		if _, err := unix.Write(fd, []byte("x")); err != nil {
			return "write: " + errnoName(err)
		}
	}
	return "ok"
}
