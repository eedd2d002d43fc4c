//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// v1Result is what happened with one cgroup v1 hierarchy.
type v1Result struct {
	Hierarchy    string `json:"hierarchy"`     // the controllers, as in /proc/self/cgroup
	Path         string `json:"path"`          // our cgroup in it, as /proc/self/cgroup shows it
	Mount        string `json:"mount"`         // mounting it afresh
	Mkdir        string `json:"mkdir"`         // creating NONCE at the root of that mount
	ReleaseAgent string `json:"release_agent"` // writing its release_agent (its own value back)
}

type cgroupReport struct {
	Own      string     `json:"own"`       // the 0:: line of /proc/self/cgroup
	Top      []string   `json:"top"`       // directories in /sys/fs/cgroup
	TopIsV2  bool       `json:"top_is_v2"` // /sys/fs/cgroup is cgroup2
	ParentFS string     `json:"parent_fs"` // file system of /sys/fs/cgroup/..: hex magic
	MkdirUp  string     `json:"mkdir_up"`  // mkdir /sys/fs/cgroup/../NONCE
	FreshV2  string     `json:"fresh_v2"`  // mounting cgroup2 afresh: "same root" or what differs
	V1       []v1Result `json:"v1"`        // each v1 hierarchy we are in
	Unshare  string     `json:"unshare"`   // the private mount namespace for the fresh mounts
}

// probeCgroup is `probe cgroup NONCE`: it looks for a way from inside the
// container's cgroup to any other cgroup. Cgroups it manages to create
// are named NONCE and left in place for the test to find on the host.
func probeCgroup(args []string) error {
	if len(args) != 1 || args[0] == "" || strings.Contains(args[0], "/") {
		return fmt.Errorf("usage: probe cgroup NONCE")
	}
	nonce := args[0]
	var r cgroupReport
	own, _ := os.ReadFile("/proc/self/cgroup")
	var v1 [][2]string
	for _, l := range strings.Split(strings.TrimSpace(string(own)), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" {
			r.Own = f[2]
		} else {
			v1 = append(v1, [2]string{f[1], f[2]})
		}
	}
	if ents, err := os.ReadDir("/sys/fs/cgroup"); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				r.Top = append(r.Top, e.Name())
			}
		}
	}
	var st unix.Statfs_t
	r.TopIsV2 = unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	if err := unix.Statfs("/sys/fs/cgroup/..", &st); err == nil {
		r.ParentFS = fmt.Sprintf("%#x", st.Type)
	} else {
		r.ParentFS = errnoName(err)
	}
	up := "/sys/fs/cgroup/../" + nonce
	r.MkdirUp = errnoName(unix.Mkdir(up, 0o755))
	if r.MkdirUp == "ok" {
		_ = unix.Rmdir(up)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the namespace ends with the thread
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			r.Unshare = errnoName(err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			r.Unshare = "make / private: " + errnoName(err)
			return
		}
		r.Unshare = "ok"
		r.FreshV2 = freshV2()
		for _, h := range v1 {
			r.V1 = append(r.V1, tryV1(h[0], h[1], nonce))
		}
	}()
	<-done
	return emit(r)
}

// freshV2 mounts cgroup2 again and compares its root with /sys/fs/cgroup.
func freshV2() string {
	dir, err := os.MkdirTemp("", "probe-cgroup2-")
	if err != nil {
		return err.Error()
	}
	defer os.Remove(dir)
	if err := unix.Mount("cgroup2", dir, "cgroup2", 0, ""); err != nil {
		return "mount: " + errnoName(err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	var a, b unix.Stat_t
	if err := unix.Stat(dir, &a); err != nil {
		return err.Error()
	}
	if err := unix.Stat("/sys/fs/cgroup", &b); err != nil {
		return err.Error()
	}
	if a.Dev == b.Dev && a.Ino == b.Ino {
		return "same root"
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return fmt.Sprintf("a different root (inode %d, /sys/fs/cgroup is %d) holding %v", a.Ino, b.Ino, names)
}

// tryV1 mounts the v1 hierarchy of ctrls afresh (its root is our cgroup
// namespace's root in it), creates a cgroup there and writes its
// release_agent.
func tryV1(ctrls, path, nonce string) v1Result {
	res := v1Result{Hierarchy: ctrls, Path: path}
	opts := ctrls
	if strings.HasPrefix(ctrls, "name=") {
		opts = "none," + ctrls
	}
	dir, err := os.MkdirTemp("", "probe-cgroup1-")
	if err != nil {
		res.Mount = err.Error()
		return res
	}
	defer os.Remove(dir)
	if err := unix.Mount("cgroup", dir, "cgroup", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		res.Mount = errnoName(err)
		return res
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	res.Mount = "ok"
	res.Mkdir = errnoName(unix.Mkdir(filepath.Join(dir, nonce), 0o755))
	ra := filepath.Join(dir, "release_agent")
	if old, err := os.ReadFile(ra); err != nil {
		res.ReleaseAgent = "read: " + errnoName(err)
	} else {
		// Its own value back: harmless, should the write go through.
		val := bytes.TrimRight(old, "\n")
		if len(val) == 0 {
			val = []byte("\n")
		}
		fd, err := unix.Open(ra, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			_, err = unix.Write(fd, val)
			unix.Close(fd)
		}
		res.ReleaseAgent = errnoName(err)
	}
	return res
}
