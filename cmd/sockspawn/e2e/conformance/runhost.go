//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// checkRunHost checks the files of /run/host.
func checkRunHost(r *report, e expect, env map[string]string) {
	if b, err := os.ReadFile("/run/host/os-release"); err != nil {
		r.fail("run-host-os-release", "%v", err)
	} else if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != e.OSReleaseSHA256 {
		r.fail("run-host-os-release", "content differs from the host's os-release: %q", b)
	} else {
		r.ok("run-host-os-release")
	}
	wantFile(r, "run-host-container-manager", "/run/host/container-manager", "sockspawn\n")
	if u := env["container_uuid"]; u != "" {
		wantFile(r, "run-host-container-uuid", "/run/host/container-uuid", u+"\n")
	} else {
		r.fail("run-host-container-uuid", "no $container_uuid to compare with")
	}
	var st unix.Stat_t
	if err := unix.Lstat("/run/host/notify", &st); err != nil {
		r.fail("run-host-notify", "%v", err)
	} else if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		r.fail("run-host-notify", "not a socket (mode %o)", st.Mode)
	} else {
		r.ok("run-host-notify")
	}
	kinds := []struct {
		name string
		mode uint32
	}{
		{"reg", unix.S_IFREG}, {"dir", unix.S_IFDIR}, {"fifo", unix.S_IFIFO},
		{"sock", unix.S_IFSOCK}, {"chr", unix.S_IFCHR}, {"blk", unix.S_IFBLK},
	}
	var problems []string
	for _, k := range kinds {
		p := "/run/host/inaccessible/" + k.name
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if st.Mode&unix.S_IFMT != k.mode {
			problems = append(problems, fmt.Sprintf("%s has type %o, want %o", p, st.Mode&unix.S_IFMT, k.mode))
		}
		if perm := st.Mode & 0o7777; perm != 0 {
			problems = append(problems, fmt.Sprintf("%s has mode %04o, want 0000", p, perm))
		}
		if (k.mode == unix.S_IFCHR || k.mode == unix.S_IFBLK) && st.Rdev != 0 {
			problems = append(problems, fmt.Sprintf("%s is device %d:%d, want 0:0", p, unix.Major(st.Rdev), unix.Minor(st.Rdev)))
		}
	}
	if len(problems) > 0 {
		r.fail("run-host-inaccessible", "%s", strings.Join(problems, "; "))
	} else {
		r.ok("run-host-inaccessible")
	}
}

func wantFile(r *report, name, p, want string) {
	b, err := os.ReadFile(p)
	switch {
	case err != nil:
		r.fail(name, "%v", err)
	case string(b) != want:
		r.fail(name, "%s holds %q, want %q", p, b, want)
	default:
		r.ok(name)
	}
}

const (
	credentialsDir = "/run/host/credentials"
	ramfsMagic     = 0x858458f6
)

// checkCredentials checks $CREDENTIALS_DIRECTORY and what it holds.
func checkCredentials(r *report, e expect, env map[string]string) {
	v, set := env["CREDENTIALS_DIRECTORY"]
	if e.Credentials == nil {
		if set {
			r.fail("credentials-env", "CREDENTIALS_DIRECTORY=%q though no credentials were given", v)
		} else {
			r.ok("credentials-env")
		}
		return
	}
	if v != credentialsDir {
		r.fail("credentials-env", "CREDENTIALS_DIRECTORY=%q (set: %v), want %s", v, set, credentialsDir)
	} else {
		r.ok("credentials-env")
	}
	var st unix.Statfs_t
	switch err := unix.Statfs(credentialsDir, &st); {
	case err != nil:
		r.fail("credentials-mount", "statfs %s: %v", credentialsDir, err)
	case uint32(st.Type) != ramfsMagic:
		r.fail("credentials-mount", "%s has file system magic %#x, want ramfs (%#x)", credentialsDir, st.Type, ramfsMagic)
	case st.Flags&unix.ST_RDONLY == 0:
		r.fail("credentials-mount", "%s is not read-only", credentialsDir)
	default:
		r.ok("credentials-mount")
	}
	entries, err := os.ReadDir(credentialsDir)
	if err != nil {
		r.fail("credentials-content", "%v", err)
		return
	}
	var got, want []string
	for _, ent := range entries {
		got = append(got, ent.Name())
	}
	for id := range e.Credentials {
		want = append(want, id)
	}
	sort.Strings(want)
	var problems []string
	if !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("%s holds %q, want %q", credentialsDir, got, want))
	}
	for id, val := range e.Credentials {
		p := path.Join(credentialsDir, id)
		b, err := os.ReadFile(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if string(b) != val {
			problems = append(problems, fmt.Sprintf("%s holds %q, want %q", p, b, val))
		}
		if err := wantEROFS(func() error {
			fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
			}
			return err
		}); err != nil {
			problems = append(problems, fmt.Sprintf("open %s for writing: %v", p, err))
		}
	}
	if len(problems) > 0 {
		r.fail("credentials-content", "%s", strings.Join(problems, "; "))
	} else {
		r.ok("credentials-content")
	}
}
