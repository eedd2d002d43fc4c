package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sockspawn/sockspawn/cmd/sockspawn/control"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

const bindUsage = `usage: sockspawn bind NAME SRC [DST] [--read-only] [--mkdir]

Bind-mount the host path SRC (with what is mounted below it) at DST
(default: the same path) inside the running machine NAME, with the new
mount API: no mount appears on the host, and nothing passes through
/run/host/incoming. DST is resolved inside the container: its symbolic
links are followed there, never on the host. A second bind to the same
DST replaces the first.

  --read-only   make the bind read-only (recursively)
  --mkdir       create DST in the container if it is missing`

// cmdBind is `sockspawn bind NAME SRC [DST] [--read-only] [--mkdir]`.
func cmdBind(args []string) int {
	var pos []string
	var readOnly, mkdir bool
	for _, a := range args {
		switch a {
		case "-h", "--help":
			fmt.Println(bindUsage)
			return 0
		case "--read-only":
			readOnly = true
		case "--mkdir":
			mkdir = true
		default:
			if strings.HasPrefix(a, "-") {
				return errorf("bind: unknown option %s\n%s", a, bindUsage)
			}
			pos = append(pos, a)
		}
	}
	if len(pos) < 2 || len(pos) > 3 {
		return errorf("bind: want a machine name, a source and at most a target\n%s", bindUsage)
	}
	name, src := pos[0], pos[1]
	if err := units.ValidMachineName(name); err != nil {
		return errorf("bind: %v", err)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return errorf("bind: source %q: %v", src, err)
	}
	dst := abs
	if len(pos) == 3 {
		dst = pos[2]
	}
	if err := payload.CheckLiveBindTarget(dst); err != nil {
		return errorf("bind: %v", err)
	}
	// The source is opened here, with this command's view of the host
	// and its permissions; the supervisor only moves the copy in.
	fd, err := unix.OpenTree(unix.AT_FDCWD, abs, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return errorf("bind: source %s: %v", abs, err)
	}
	tree := os.NewFile(uintptr(fd), abs)
	defer tree.Close()
	conn, _, _, err := control.Call(name, control.Request{Op: control.OpBind, Source: abs, Target: dst, ReadOnly: readOnly, MkDir: mkdir}, tree)
	if errors.Is(err, control.ErrNotRunning) {
		return errorf("bind: no running machine %q", name)
	}
	if err != nil {
		return errorf("%v", err)
	}
	conn.Close()
	return 0
}
